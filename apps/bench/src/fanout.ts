/**
 * Node capacity (fan-out) of `@proto/collections`: measures, for capacities 16, 32, 64 and
 * 128 (leaves and branches alike) and for 64-entry leaves under 128-child branches (written
 * `64/128`), a Dictionary of N KV records on the memory backend:
 * - get: random existing keys on the reopened (decoded, cached) tree;
 * - set: random existing keys in one transaction, uncommitted;
 * - commit: atoms and bytes written by one committed single-key update and by one committed
 *   transaction of 1,000 random updates (the kernel's own per-commit atoms subtracted);
 * - tree depth.
 * Results are checked (every get returns its record; updates are visible after commit).
 *
 *   cd apps/bench && node --import tsx src/fanout.ts [--full]
 *
 * Options: --full (N = 1M instead of 100k), --n=100000, --ops=100000, --rounds=3,
 * --capacities=16,32,64,128,64/128.
 */
import { ObjectSpace, type SpaceStats } from '@proto/atom';
import { branchCapacity, Dictionary, nodeCapacity, setNodeCapacity } from '@proto/collections';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { type BenchRecord, entriesOf, keyOf, Random, recordOf, sameRecord } from './fixtures/data.js';
import { check, fmt, machine, machineLine, ratio, table, writeResults } from './fixtures/timing.js';

type Records = Dictionary<string, BenchRecord>;

/**
 * A cache large enough to keep the whole data set decoded (the workload measures resident
 * reads; the kernel's default cache, 256 MiB of decoded-size estimate, holds about 800k records).
 */
const RESIDENT = { cache: { maxAtoms: 1_000_000, maxBytes: 8 * 2 ** 30 } };

interface Row {
  readonly capacity: string;
  readonly depth: number;
  readonly getOpsPerSec: number;
  readonly setOpsPerSec: number;
  readonly atomsPerUpdate: number;
  readonly bytesPerUpdate: number;
  readonly atomsPer1000: number;
  readonly bytesPer1000: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function delta(after: SpaceStats, before: SpaceStats): { atoms: number; bytes: number } {
  return { atoms: after.atomsWritten - before.atomsWritten, bytes: after.bytesWritten - before.bytesWritten };
}

interface Prepared {
  readonly capacity: string;
  readonly leaf: number;
  readonly branch: number;
  readonly space: ObjectSpace;
  readonly dict: Records;
}

/** Builds N records with `capacity`, commits, reopens (nodes decoded from storage) and warms the cache. */
async function prepare(capacity: string, n: number, keys: readonly string[]): Promise<Prepared> {
  const [leaf, branch] = capacity.split('/').map(Number) as [number, number | undefined];
  setNodeCapacity(leaf, branch ?? leaf);
  const location = createMemoryLocation();
  const first = await ObjectSpace.open(await openMemoryBackend({ location }), RESIDENT);
  await first.database('bench').transact((tx) => {
    tx.set('kv', Dictionary.from(entriesOf(n)));
    tx.set('marker', 0);
  });
  await first.close();
  const space = await ObjectSpace.open(await openMemoryBackend({ location }), RESIDENT);
  const dict = space.database('bench').begin({ readOnly: true }).get<Records>('kv') as Records;
  for (const k of keys) dict.get(k);
  return { capacity, leaf, branch: branch ?? leaf, space, dict };
}

const CHUNK = 10_000;

/** Runs `body(p, from, to)` for every prepared tree, chunk by chunk in rotating order; returns ms per tree. */
function interleaved(
  all: readonly Prepared[],
  ops: number,
  body: (p: Prepared, i: number, from: number, to: number) => void,
): number[] {
  const ms = all.map(() => 0);
  let turn = 0;
  for (let chunk = 0; chunk < ops; chunk += CHUNK) {
    const end = Math.min(ops, chunk + CHUNK);
    for (let j = 0; j < all.length; j++) {
      const i = (j + turn) % all.length;
      const p = all[i] as Prepared;
      setNodeCapacity(p.leaf, p.branch);
      const t0 = performance.now();
      body(p, i, chunk, end);
      ms[i] = (ms[i] as number) + performance.now() - t0;
    }
    turn++;
  }
  return ms;
}

/** Atoms and bytes written by single-key commits and by a 1000-key commit. */
async function commitCosts(
  p: Prepared,
  keys: readonly string[],
): Promise<Omit<Row, 'getOpsPerSec' | 'setOpsPerSec'>> {
  setNodeCapacity(p.leaf, p.branch);
  const db = p.space.database('bench');
  // The kernel's own atoms per commit, measured on a commit that changes a plain root.
  let before = p.space.stats();
  await db.transact((tx) => tx.set('marker', 1));
  const kernel = delta(p.space.stats(), before);
  const single: { atoms: number; bytes: number }[] = [];
  for (let j = 0; j < 5; j++) {
    before = p.space.stats();
    const key = keys[j] as string;
    await db.transact((tx) =>
      tx.set('kv', (tx.get<Records>('kv') as Records).set(key, { ...recordOf(0), id: key, value: -j })),
    );
    const d = delta(p.space.stats(), before);
    single.push({ atoms: d.atoms - kernel.atoms, bytes: d.bytes - kernel.bytes });
  }
  before = p.space.stats();
  await db.transact((tx) => {
    let d = tx.get<Records>('kv') as Records;
    for (let j = 0; j < 1000; j++)
      d = d.set(keys[j] as string, { ...recordOf(0), id: keys[j] as string, value: j });
    tx.set('kv', d);
  });
  const batch = delta(p.space.stats(), before);
  const after = db.begin({ readOnly: true }).get<Records>('kv') as Records;
  check(after.get(keys[999] as string)?.value === 999, 'batch update visible after commit');
  return {
    capacity: p.capacity,
    depth: after.depth,
    atomsPerUpdate: median(single.map((s) => s.atoms)),
    bytesPerUpdate: median(single.map((s) => s.bytes)),
    atomsPer1000: batch.atoms - kernel.atoms,
    bytesPer1000: batch.bytes - kernel.bytes,
  };
}

async function measureAll(
  capacities: readonly string[],
  n: number,
  ops: number,
  rounds: number,
): Promise<Row[]> {
  const random = new Random(0xfa0 + n);
  const indexes = Array.from({ length: ops }, () => random.int(n));
  const keys = indexes.map(keyOf);
  const all: Prepared[] = [];
  for (const capacity of capacities) all.push(await prepare(capacity, n, keys));
  for (const p of all) {
    for (let i = 0; i < ops; i += 101)
      check(sameRecord(p.dict.get(keys[i] as string), recordOf(indexes[i] as number)), 'record');
  }
  const getMs: number[][] = all.map(() => []);
  const setMs: number[][] = all.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const g = interleaved(all, ops, (p, _i, from, to) => {
      const dict = p.dict;
      for (let i = from; i < to; i++) {
        const key = keys[i] as string;
        if (dict.get(key)?.id !== key) throw new Error(`get(${key}) returned a wrong record`);
      }
    });
    for (const [i, ms] of g.entries()) getMs[i]?.push(ms);
    const txs = all.map((p) => p.space.database('bench').begin());
    const dicts = txs.map((tx) => tx.get<Records>('kv') as Records);
    const s = interleaved(all, ops, (_p, j, from, to) => {
      let d = dicts[j] as Records;
      for (let i = from; i < to; i++) d = d.set(keys[i] as string, recordOf(i));
      dicts[j] = d;
    });
    for (const [i, ms] of s.entries()) setMs[i]?.push(ms);
    for (const d of dicts) check(d.size === n, 'size after sets');
    for (const tx of txs) tx.abort();
  }
  const rows: Row[] = [];
  for (const [i, p] of all.entries()) {
    const costs = await commitCosts(p, keys);
    rows.push({
      ...costs,
      getOpsPerSec: Math.round((ops / median(getMs[i] ?? [])) * 1000),
      setOpsPerSec: Math.round((ops / median(setMs[i] ?? [])) * 1000),
    });
    await p.space.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = Number(value('n') ?? (argv.includes('--full') ? 1_000_000 : 100_000));
  const ops = Number(value('ops') ?? 100_000);
  const rounds = Number(value('rounds') ?? 3);
  const capacities = (value('capacities') ?? '16,32,64,128,64/128').split(',');
  const original = [nodeCapacity(), branchCapacity()] as const;
  let rows: Row[] = [];
  try {
    rows = await measureAll(capacities, n, ops, rounds);
  } finally {
    setNodeCapacity(...original);
  }
  const base = rows.find((r) => r.capacity === '64') ?? (rows[0] as Row);
  const markdown = [
    `## Node capacity (fan-out), Dictionary of ${fmt(n)} KV records`,
    '',
    machineLine(machine(process.cwd())),
    `${fmt(ops)} random ops per measurement, capacities interleaved in chunks of ${fmt(CHUNK)}, median of ${rounds} rounds; atoms/bytes exclude the kernel's own per-commit atoms.`,
    '',
    table(
      [
        'capacity',
        'depth',
        'get ops/s',
        'set ops/s',
        'atoms / 1-key commit',
        'bytes / 1-key commit',
        'atoms / 1000-key commit',
        'bytes / 1000-key commit',
        `get, set vs ${base.capacity}`,
      ],
      rows.map((r) => [
        r.capacity,
        String(r.depth),
        fmt(r.getOpsPerSec),
        fmt(r.setOpsPerSec),
        fmt(r.atomsPerUpdate),
        fmt(r.bytesPerUpdate),
        fmt(r.atomsPer1000),
        fmt(r.bytesPer1000),
        `${ratio(r.getOpsPerSec, base.getOpsPerSec)}, ${ratio(r.setOpsPerSec, base.setOpsPerSec)}`,
      ]),
    ),
  ].join('\n');
  console.log(markdown);
  const file = writeResults('fanout', { n, ops, rounds, rows }, markdown);
  console.log(`results: ${file}`);
}

await main();
