/**
 * What one small durable write costs the file system, by how the file is laid out: 5,000
 * writes of 400 bytes, each followed by `fdatasync`, into a file that grows with each write
 * (`append`), into a file grown beforehand with `ftruncate` (`hole`), and into a file filled
 * with zeros beforehand (`zeros`); three rounds per mode, interleaved. The WAL backend grows its
 * tail segment ahead of its appends because of what this shows (`apps/bench/README.md`).
 *
 *   cd apps/bench && node --import tsx src/fsync-probe.ts [dir]   # dir defaults to a temp dir
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = process.argv[2] ?? fs.mkdtempSync(join(tmpdir(), 'proto-fsync-probe-'));
fs.mkdirSync(dir, { recursive: true });
const record = Buffer.alloc(400, 7);
const WRITES = 5_000;
const GROWN = 4 << 20;

function run(fd: number): number {
  let position = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < WRITES; i++) {
    fs.writeSync(fd, record, 0, record.length, position);
    position += record.length;
    fs.fdatasyncSync(fd);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / WRITES;
}

const results: Record<string, string[]> = { append: [], hole: [], zeros: [] };
for (let round = 0; round < 3; round++) {
  for (const mode of Object.keys(results)) {
    const file = join(dir, `${mode}.log`);
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, 'w+');
    if (mode === 'hole') fs.ftruncateSync(fd, GROWN);
    if (mode === 'zeros') fs.writeSync(fd, Buffer.alloc(GROWN), 0, GROWN, 0);
    fs.fsyncSync(fd);
    results[mode]?.push(run(fd).toFixed(1));
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}
for (const [mode, us] of Object.entries(results))
  console.log(`${mode}: ${us.join(' / ')} µs per write + fdatasync`);
