/**
 * BYTES: what a one-key commit writes. A store of N = 10,000 entries whose values are strings
 * of V = 100 B, 2 KB and 20 KB; C = 1 durable commits, each replacing one random key's value
 * with a new one of the same size. Reported per commit, as bytes passed to write calls by the
 * process (`/proc/self/io` `wchar`, the same measure for every system: ProtoBase's records and
 * checkpoints, SQLite's WAL frames and checkpoints, lmdb's pages), over a run that ends with
 * each store closed (so ProtoBase's final checkpoint and SQLite's WAL checkpoint are counted),
 * and for ProtoBase also the delta records alone (`space.stats().bytesWritten` between
 * checkpoints). Target: at most 2 × V + 1 KiB per commit.
 *
 * Usage: node --import tsx --expose-gc src/bytes.ts [--commits=2000]
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { openWalBackend } from '@proto/storage-wal';
import Sqlite from 'better-sqlite3';
import { open as openLmdb } from 'lmdb';
import { Random } from './fixtures/data.js';
import type { RatioResult } from './fixtures/ratios.js';
import { check, fmt, machine, machineLine, ratio, table, writeResults } from './fixtures/timing.js';

const N = 10_000;
const SIZES = [100, 2000, 20_000] as const;

/** Bytes this process has passed to write calls so far (Linux `/proc/self/io`). */
function wchar(): number {
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (match === null) throw new Error('/proc/self/io has no wchar line');
  return Number(match[1]);
}

/** A value of `size` characters that differs with `version`. */
function sizedValue(size: number, key: number, version: number): string {
  const head = `${key}:${version}:`;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

interface Row {
  readonly system: string;
  readonly valueBytes: number;
  readonly perCommit: number;
  readonly deltaPerCommit: number | undefined;
  readonly target: number;
}

interface Driver {
  write(key: number, value: string): Promise<void>;
  read(key: number): string | undefined;
  close(): Promise<void>;
  /** Bytes of delta records written, ProtoBase only. */
  deltaBytes?(): number;
}

async function protobase(dir: string, size: number): Promise<Driver> {
  const space = await ObjectSpace.open(await openWalBackend({ path: dir }));
  const db = space.database('bench');
  await db.transact((tx) =>
    tx.set(
      'values',
      Dictionary.from(Array.from({ length: N }, (_, i) => [i, sizedValue(size, i, 0)] as [number, string])),
    ),
  );
  await space.checkpoint();
  let deltas = 0;
  return {
    async write(key, value) {
      const before = space.stats();
      await db.transact((tx) => {
        const d = tx.get<Dictionary<number, string>>('values') as Dictionary<number, string>;
        tx.set('values', d.set(key, value));
      });
      const after = space.stats();
      if (after.checkpoints === before.checkpoints) deltas += after.bytesWritten - before.bytesWritten;
    },
    read: (key) => db.begin({ readOnly: true }).get<Dictionary<number, string>>('values')?.get(key),
    close: () => space.close(),
    deltaBytes: () => deltas,
  };
}

async function sqlite(dir: string, size: number): Promise<Driver> {
  const db = new Sqlite(join(dir, 'peer.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
  const get = db.prepare<[number], { v: string }>('SELECT v FROM kv WHERE k = ?');
  db.transaction(() => {
    for (let i = 0; i < N; i++) put.run(i, sizedValue(size, i, 0));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  return {
    async write(key, value) {
      put.run(key, value);
    },
    read: (key) => get.get(key)?.v,
    async close() {
      db.close();
    },
  };
}

async function lmdb(dir: string, size: number): Promise<Driver> {
  const db = openLmdb<string, number>({ path: join(dir, 'lmdb') });
  await db.transaction(() => {
    for (let i = 0; i < N; i++) void db.put(i, sizedValue(size, i, 0));
  });
  await db.flushed;
  return {
    async write(key, value) {
      await db.put(key, value);
      await db.flushed;
    },
    read: (key) => db.get(key),
    close: () => db.close(),
  };
}

const SYSTEMS = [
  { id: 'protobase-wal', label: 'ProtoBase WAL', open: protobase },
  { id: 'better-sqlite3', label: 'better-sqlite3 (FULL)', open: sqlite },
  { id: 'lmdb', label: 'lmdb (acked when flushed)', open: lmdb },
] as const;

async function main(): Promise<void> {
  const commitsArg = process.argv.find((a) => a.startsWith('--commits='));
  const commits = commitsArg === undefined ? 2000 : Number(commitsArg.slice('--commits='.length));
  const root = mkdtempSync(join(tmpdir(), 'proto-bench-bytes-'));
  const rows: Row[] = [];
  try {
    const host = machine(root);
    console.log(machineLine(host));
    for (const size of SIZES) {
      for (const system of SYSTEMS) {
        const dir = join(root, `${system.id}-${size}`);
        mkdirSync(dir);
        const driver = await system.open(dir, size);
        const random = new Random(size);
        const last = new Map<number, string>();
        const start = wchar();
        for (let c = 1; c <= commits; c++) {
          const key = random.int(N);
          const value = sizedValue(size, key, c);
          await driver.write(key, value);
          last.set(key, value);
        }
        for (const [key, value] of last)
          check(driver.read(key) === value, `${system.id}: key ${key} lost its last value`);
        const delta = driver.deltaBytes?.();
        await driver.close();
        const perCommit = Math.round((wchar() - start) / commits);
        const row: Row = {
          system: system.label,
          valueBytes: size,
          perCommit,
          deltaPerCommit: delta === undefined ? undefined : Math.round(delta / commits),
          target: 2 * size + 1024,
        };
        rows.push(row);
        console.log(
          `BYTES V=${fmt(size)} ${system.label}: ${fmt(perCommit)} B/commit written${row.deltaPerCommit === undefined ? '' : ` (delta records ${fmt(row.deltaPerCommit)} B)`}`,
        );
      }
    }
    const markdown = [
      '## Bytes written by a one-key commit (BYTES)',
      '',
      machineLine(host),
      '',
      `N = ${fmt(N)} entries, ${fmt(commits)} commits of one random key each (C = 1), bytes passed to write calls per commit, store closed at the end. Target: ≤ 2 × value + 1 KiB.`,
      '',
      table(
        ['value', 'system', 'B / commit', 'delta records B / commit', '÷ target', 'vs ProtoBase'],
        rows.map((r) => {
          const ours = rows.find((o) => o.valueBytes === r.valueBytes && o.system === 'ProtoBase WAL') as Row;
          return [
            `${fmt(r.valueBytes)} B`,
            r.system,
            fmt(r.perCommit),
            r.deltaPerCommit === undefined ? '-' : fmt(r.deltaPerCommit),
            (r.perCommit / r.target).toFixed(2),
            r === ours ? '-' : `${ratio(r.perCommit, ours.perCommit)} (peer ÷ ours)`,
          ];
        }),
      ),
      '',
      `Load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(', ')}. All result checks passed.`,
    ].join('\n');
    console.log(`\n${markdown}`);
    const ratios: RatioResult[] = rows
      .filter((r) => r.system === 'ProtoBase WAL')
      .map((r) => ({
        workload: 'BYTES',
        name: `bytes per one-key commit, ${fmt(r.valueBytes)} B value ÷ (2 × value + 1 KiB)`,
        value: r.perCommit / r.target,
        target: { atMost: 1 },
        detail: `${fmt(r.perCommit)} B ÷ ${fmt(r.target)} B`,
      }));
    console.log(`\nresults: ${writeResults('bytes', { machine: host, commits, rows, ratios }, markdown)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
