/**
 * TX-SMALL and TX-BATCH: durable transactions on ProtoBase (WAL and SQLite backends) beside
 * lmdb-js and better-sqlite3 (WAL journal, synchronous=FULL), on N records of the KV data set.
 *
 * TX-SMALL: C concurrent writers (1, 16, 256), each transaction reads one random existing key
 * (from the writer's own disjoint set of keys), increments its `value` and commits; throughput
 * of acknowledged commits over a fixed time, p50/p95 commit latency, conflicts and retries.
 * TX-BATCH: sequential transactions of 100 and 10,000 upserts (about one in six inserts).
 * Every run is checked: the increments visible in the store equal the acknowledged commits, and
 * the batch keys hold their last written records with the right record count.
 *
 *   cd apps/bench && node --import tsx --expose-gc src/tx.ts [--full]
 *
 * Options: --full (adds N = 1M), --sizes=10000,100000, --seconds=4 (timed per TX-SMALL cell, split
 * into --rounds=5 rounds that interleave the systems),
 * --systems=protobase-wal,lmdb,... (labels below), --workloads=small,batch, --writers=1,16,256,
 * --batch-scale=1 (TX-BATCH times 30 × it batches of 100 and 5 × it of 10,000: raise it so that
 * the timed batches include ProtoBase's checkpoints, written every 16 MiB of delta records).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRecord, keyOf, Random, recordOf, sampleIndexes } from './fixtures/data.js';
import { type Figure, TargetLog } from './fixtures/ratios.js';
import { buildStore, isProtoBase, type Store } from './fixtures/stores.js';
import {
  fmt,
  type Machine,
  machine,
  machineLine,
  round,
  summarize,
  writeResults,
} from './fixtures/timing.js';
import {
  type BatchCell,
  batchTables,
  label,
  type SmallCell,
  smallTables,
  VARIANTS,
  type Variant,
} from './fixtures/tx-report.js';

interface Args {
  readonly sizes: number[];
  readonly seconds: number;
  readonly rounds: number;
  /** TX-BATCH times 30 × this batches of 100 and 5 × this of 10,000 (after one warm-up each). */
  readonly batchScale: number;
  readonly systems: readonly Variant[];
  readonly workloads: ReadonlySet<string>;
  readonly writers: number[];
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const numbers = (text: string) => text.split(',').map((s) => Number(s.replaceAll('_', '')));
  const full = argv.includes('--full');
  const sizes = numbers(value('sizes') ?? (full ? '10000,100000,1000000' : '10000,100000'));
  const ids = value('systems')?.split(',');
  const systems = ids === undefined ? VARIANTS : VARIANTS.filter((v) => ids.includes(v.id));
  return {
    sizes,
    seconds: Number(value('seconds') ?? 4),
    rounds: Number(value('rounds') ?? 5),
    batchScale: positiveInteger('batch-scale', value('batch-scale') ?? '1'),
    systems,
    workloads: new Set((value('workloads') ?? 'small,batch').split(',')),
    writers: numbers(value('writers') ?? '1,16,256'),
  };
}

interface Opened {
  readonly variant: Variant;
  readonly store: Store;
  readonly buildSeconds: number;
  /** Key index → increments acknowledged so far (TX-SMALL). */
  readonly increments: Map<number, number>;
}

const failures: string[] = [];

function verify(condition: boolean, message: string): void {
  if (!condition) {
    failures.push(message);
    console.error(`  CHECK FAILED: ${message}`);
  }
}

/** The writer's own keys: indexes congruent to `w` modulo `c` (disjoint between writers). */
function pickKey(random: Random, n: number, c: number, w: number): number {
  const owned = Math.floor((n - 1 - w) / c) + 1;
  return w + c * random.int(owned);
}

/** TX-SMALL measurements of one system, summed over the rounds. */
interface SmallTally {
  latencies: number[];
  commits: number;
  seconds: number;
  conflicts: number;
  retries: number;
  barriers: number | undefined;
  bytesWritten: number | undefined;
  cpuMicros: number;
}

function newTally(): SmallTally {
  return {
    latencies: [],
    commits: 0,
    seconds: 0,
    conflicts: 0,
    retries: 0,
    barriers: 0,
    bytesWritten: 0,
    cpuMicros: 0,
  };
}

/** Process CPU time (user + system, all threads) since `since`, in µs. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

const delta = (after: number | undefined, before: number | undefined, sum: number | undefined) =>
  after === undefined || before === undefined || sum === undefined ? undefined : sum + after - before;

/** One timed round of TX-SMALL (after an optional untimed warm-up), added to `tally`. */
async function smallRound(
  opened: Opened,
  n: number,
  c: number,
  seconds: number,
  warmMs: number,
  seed: number,
  tally: SmallTally,
): Promise<void> {
  const { store, increments } = opened;
  const writer = async (w: number, deadline: number, timed: boolean) => {
    const random = new Random(seed * 7919 + w);
    while (performance.now() < deadline) {
      const index = pickKey(random, n, c, w);
      const t0 = performance.now();
      await store.increment(keyOf(index));
      if (timed) {
        tally.latencies.push(performance.now() - t0);
        tally.commits++;
      }
      increments.set(index, (increments.get(index) ?? 0) + 1);
    }
  };
  if (warmMs > 0) {
    const warm = performance.now() + warmMs;
    await Promise.all(Array.from({ length: c }, (_, w) => writer(w, warm, false)));
  }
  const before = store.counters();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: c }, (_, w) => writer(w, start + seconds * 1000, true)));
  tally.seconds += (performance.now() - start) / 1000;
  tally.cpuMicros += cpuSince(cpu);
  const after = store.counters();
  tally.conflicts += after.conflicts - before.conflicts;
  tally.retries += after.retries - before.retries;
  tally.barriers = delta(after.barriers, before.barriers, tally.barriers);
  tally.bytesWritten = delta(after.bytesWritten, before.bytesWritten, tally.bytesWritten);
}

function smallCell(opened: Opened, n: number, c: number, tally: SmallTally): SmallCell {
  const { commits, seconds, bytesWritten } = tally;
  return {
    n,
    writers: c,
    system: opened.variant.id,
    commits,
    seconds: round(seconds, 3),
    commitsPerSecond: round(commits / seconds, 1),
    latencyMs: summarize(tally.latencies),
    conflicts: tally.conflicts,
    retries: tally.retries,
    barriers: tally.barriers,
    bytesPerCommit:
      bytesWritten === undefined || commits === 0 ? undefined : Math.round(bytesWritten / commits),
    cpuMicrosPerCommit: Math.round(tally.cpuMicros / Math.max(1, commits)),
  };
}

/** Increments visible in the store equal the acknowledged ones; untouched keys are unchanged. */
function verifySmall(opened: Opened, n: number, random: Random): void {
  const { store, increments, variant } = opened;
  let acknowledged = 0;
  let visible = 0;
  let wrong = 0;
  for (const [index, count] of increments) {
    const expected = recordOf(index);
    const actual = store.get(keyOf(index));
    acknowledged += count;
    if (actual === undefined) {
      wrong++;
      continue;
    }
    visible += actual.value - expected.value;
    if (actual.value !== expected.value + count || actual.name !== expected.name) wrong++;
  }
  verify(wrong === 0, `${variant.id} N=${n}: ${wrong} keys do not hold initial value + their increments`);
  verify(
    visible === acknowledged,
    `${variant.id} N=${n}: ${visible} increments visible, ${acknowledged} acknowledged`,
  );
  let changed = 0;
  for (const index of sampleIndexes(random, n, 500)) {
    if (increments.has(index)) continue;
    const actual = store.get(keyOf(index));
    if (actual === undefined || actual.value !== recordOf(index).value) changed++;
  }
  verify(changed === 0, `${variant.id} N=${n}: ${changed} untouched keys changed`);
}

type Entry = readonly [string, BenchRecord];

/** `count` batches of `size` distinct keys over 1.2·N key indexes (some inserts), the same for every system. */
function makeBatches(n: number, size: number, count: number, seed: number): Entry[][] {
  const random = new Random(seed);
  const space = Math.floor(n * 1.2);
  const batches: Entry[][] = [];
  for (let b = 0; b < count; b++) {
    batches.push(
      sampleIndexes(random, space, size).map((index, j): Entry => {
        const base = recordOf(index);
        return [keyOf(index), { ...base, name: `Upsert-${size}-${b}-${j}`, value: 1_000_000 + b * size + j }];
      }),
    );
  }
  return batches;
}

/** Runs the batches on every system, interleaved batch by batch; the first batch warms up. */
async function runBatches(opened: readonly Opened[], n: number, batches: readonly Entry[][], size: number) {
  const latencies = opened.map((): number[] => []);
  const cpuMicros = opened.map(() => 0);
  for (let b = 0; b < batches.length; b++) {
    // Rotate which system goes first (fsync latency drifts with recent writes).
    for (let j = 0; j < opened.length; j++) {
      const i = (j + b) % opened.length;
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await opened[i]?.store.upsertBatch(batches[b] as Entry[]);
      if (b > 0) {
        latencies[i]?.push(performance.now() - t0);
        cpuMicros[i] = (cpuMicros[i] ?? 0) + cpuSince(cpu);
      }
    }
  }
  return opened.map((o, i): BatchCell => {
    const times = latencies[i] ?? [];
    const total = times.reduce((a, x) => a + x, 0) / 1000;
    return {
      n,
      batchSize: size,
      system: o.variant.id,
      batches: times.length,
      upsertsPerSecond: round((times.length * size) / total, 1),
      transactionsPerSecond: round(times.length / total, 2),
      latencyMs: summarize(times),
      cpuMsPerBatch: round((cpuMicros[i] ?? 0) / 1000 / Math.max(1, times.length), 1),
    };
  });
}

/** Batch keys hold their last written record; the record count is N plus the inserted keys. */
function verifyBatch(
  opened: Opened,
  n: number,
  model: ReadonlyMap<string, BenchRecord>,
  inserted: number,
): void {
  let wrong = 0;
  for (const [key, record] of model) {
    const actual = opened.store.get(key);
    if (
      actual === undefined ||
      actual.value !== record.value ||
      actual.name !== record.name ||
      actual.category !== record.category
    )
      wrong++;
  }
  const id = opened.variant.id;
  verify(wrong === 0, `${id} N=${n}: ${wrong} of ${model.size} batch keys do not hold their last upsert`);
  const count = opened.store.count();
  verify(count === n + inserted, `${id} N=${n}: ${count} records, expected ${n + inserted}`);
}

/**
 * The TX-SMALL and TX-BATCH targets of the benchmark card and the performance issue, at each size
 * run, for ProtoBase WAL: C = 1 ÷ better-sqlite3, C = 16 and C = 256 ÷ lmdb (acked when flushed,
 * durable at acknowledgement like the others), C = 256 ÷ better-sqlite3 (≥ 5×), zero conflicts
 * and retries between disjoint keys, and batches of 100 and 10,000 ÷ better-sqlite3.
 */
function targetsFor(args: Args, small: readonly SmallCell[], batch: readonly BatchCell[]): TargetLog {
  const log = new TargetLog();
  const ours = 'protobase-wal';
  const inRun = (id: string) => args.systems.some((v) => v.id === id);
  const missing = (n: number, what: string, ...ids: string[]) => {
    const left = ids.filter((id) => !inRun(id));
    if (left.length > 0) return `${left.join(', ')} not in this run (--systems)`;
    return `${what} not in this run at N = ${fmt(n)} (--workloads, --writers)`;
  };
  const smallAt = (n: number, c: number, id: string): Figure | undefined => {
    const cell = small.find((x) => x.n === n && x.writers === c && x.system === id);
    return cell === undefined
      ? undefined
      : { value: cell.commitsPerSecond, text: `${fmt(cell.commitsPerSecond)} commits/s` };
  };
  const batchAt = (n: number, size: number, id: string): Figure | undefined => {
    const cell = batch.find((x) => x.n === n && x.batchSize === size && x.system === id);
    return cell === undefined
      ? undefined
      : { value: cell.upsertsPerSecond, text: `${fmt(cell.upsertsPerSecond)} upserts/s` };
  };
  const smallTargets = [
    { c: 1, peer: 'better-sqlite3', atLeast: 1 },
    { c: 16, peer: 'lmdb-flushed', atLeast: 1 },
    { c: 256, peer: 'lmdb-flushed', atLeast: 1 },
    { c: 256, peer: 'better-sqlite3', atLeast: 5 },
  ] as const;
  for (const n of args.sizes) {
    for (const { c, peer, atLeast } of smallTargets) {
      log.compare(
        {
          workload: 'TX-SMALL',
          name: `N = ${fmt(n)}, C = ${c}: ProtoBase WAL ÷ ${label(peer)}, commits/s`,
          target: { atLeast },
        },
        smallAt(n, c, ours),
        smallAt(n, c, peer),
        missing(n, `TX-SMALL C = ${c}`, ours, peer),
      );
    }
    const cells = small.filter((x) => x.n === n && x.system === ours);
    const conflicts = {
      workload: 'TX-SMALL',
      name: `N = ${fmt(n)}: ProtoBase WAL conflicts and retries between disjoint keys, every C`,
      target: { atMost: 0 },
      unit: 'conflicts and retries',
    };
    if (cells.length === 0) log.skip(conflicts, missing(n, 'TX-SMALL', ours));
    else
      log.add(
        conflicts,
        cells.reduce((sum, x) => sum + x.conflicts + x.retries, 0),
        `C = ${cells.map((x) => x.writers).join(', ')}`,
      );
    for (const size of [100, 10_000]) {
      log.compare(
        {
          workload: 'TX-BATCH',
          name: `N = ${fmt(n)}, batches of ${fmt(size)}: ProtoBase WAL ÷ ${label('better-sqlite3')}, upserts/s`,
          target: { atLeast: 1 },
        },
        batchAt(n, size, ours),
        batchAt(n, size, 'better-sqlite3'),
        missing(n, 'TX-BATCH', ours, 'better-sqlite3'),
      );
    }
  }
  return log;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'proto-bench-tx-'));
  const small: SmallCell[] = [];
  const batch: BatchCell[] = [];
  const builds: { n: number; system: string; seconds: number }[] = [];
  const sections: string[] = [];
  let host: Machine | undefined;
  let loadStart = '';
  try {
    host = machine(root);
    loadStart = loadavg()
      .map((x) => x.toFixed(1))
      .join(', ');
    console.log(machineLine(host));
    for (const n of args.sizes) {
      const opened: Opened[] = [];
      try {
        for (const variant of args.systems) {
          const dir = join(root, `${variant.id}-${n}`);
          mkdirSync(dir);
          const t0 = performance.now();
          const store = await buildStore(variant.kind, dir, n, variant.options);
          const buildSeconds = round((performance.now() - t0) / 1000, 2);
          builds.push({ n, system: variant.id, seconds: buildSeconds });
          console.log(`N=${fmt(n)} built ${variant.label} in ${buildSeconds} s`);
          opened.push({ variant, store, buildSeconds, increments: new Map() });
        }
        if (args.workloads.has('small')) {
          for (const c of args.writers) {
            // Rounds interleave the systems, so that load drifting on the machine hits them alike.
            const tallies = opened.map(newTally);
            for (let r = 0; r < args.rounds; r++) {
              // Each round starts with the next system: the disk's fsync latency drifts with
              // recent write volume, so no system should always go first.
              for (let j = 0; j < opened.length; j++) {
                const i = (j + r) % opened.length;
                const o = opened[i] as Opened;
                const warmMs = r === 0 ? 300 : 0;
                await smallRound(
                  o,
                  n,
                  c,
                  args.seconds / args.rounds,
                  warmMs,
                  n + c + r,
                  tallies[i] as SmallTally,
                );
              }
            }
            for (let i = 0; i < opened.length; i++) {
              const o = opened[i] as Opened;
              const cell = smallCell(o, n, c, tallies[i] as SmallTally);
              small.push(cell);
              console.log(
                `TX-SMALL N=${fmt(n)} C=${c} ${o.variant.label}: ${fmt(cell.commitsPerSecond)} commits/s, p50 ${cell.latencyMs.p50} ms, p95 ${cell.latencyMs.p95} ms, conflicts ${cell.conflicts}, retries ${cell.retries}, barriers ${cell.barriers ?? '-'}`,
              );
              if (isProtoBase(o.variant.kind)) {
                verify(
                  cell.conflicts === 0 && cell.retries === 0,
                  `${o.variant.id} N=${n} C=${c}: ${cell.conflicts} conflicts, ${cell.retries} retries between disjoint keys`,
                );
              }
              verifySmall(o, n, new Random(c));
            }
          }
          sections.push(smallTables(small, n));
        }
        if (args.workloads.has('batch')) {
          const model = new Map<string, BenchRecord>();
          const plans = [
            { size: 100, batches: makeBatches(n, 100, 1 + 30 * args.batchScale, 100 + n) },
            { size: 10_000, batches: makeBatches(n, 10_000, 1 + 5 * args.batchScale, 10_000 + n) },
          ];
          for (const plan of plans) {
            for (const b of plan.batches) for (const [key, record] of b) model.set(key, record);
            const inserted = [...model.keys()].filter((k) => Number(k.slice(4)) >= n).length;
            const cells = await runBatches(opened, n, plan.batches, plan.size);
            for (let i = 0; i < opened.length; i++) {
              const o = opened[i] as Opened;
              const cell = cells[i] as BatchCell;
              batch.push(cell);
              console.log(
                `TX-BATCH N=${fmt(n)} size=${fmt(plan.size)} ${o.variant.label}: ${fmt(cell.upsertsPerSecond)} upserts/s, p50 ${cell.latencyMs.p50} ms, p95 ${cell.latencyMs.p95} ms`,
              );
              verifyBatch(o, n, model, inserted);
            }
          }
          sections.push(batchTables(batch, n));
        }
      } finally {
        for (const o of opened) await o.store.close();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const notes = [
    'Notes: each TX-SMALL transaction is a read-modify-write of one key (value + 1) on the writer’s own disjoint keys;',
    `throughput counts acknowledged commits over ${args.seconds} s (${args.rounds} rounds interleaving the systems, rotating which goes first) after a 0.3 s warm-up. lmdb’s default (overlappingSync)`,
    'resolves `put` when the commit is visible and fsyncs afterwards; "acked when flushed" also awaits `db.flushed`.',
    'better-sqlite3 is synchronous: its C writers take turns on one connection (one fsync per commit).',
    'TX-BATCH: one transaction per batch, keys drawn from 1.2·N indexes, batches interleaved across systems (rotating which goes first); the first batch of each size is an untimed warm-up.',
    'The machine is shared: load average was',
    `${loadStart} at the start and ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} at the end.`,
  ].join(' ');
  const markdown = [
    `## Durable transactions (TX-SMALL, TX-BATCH)`,
    '',
    host === undefined ? '' : machineLine(host),
    '',
    ...sections.flatMap((s) => [s, '']),
    notes,
    '',
    failures.length === 0
      ? 'All result checks passed.'
      : `CHECKS FAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`,
  ].join('\n');
  console.log(`\n${markdown}`);
  const { ratios, notMeasured } = targetsFor(args, small, batch);
  const file = writeResults(
    'tx',
    {
      machine: host,
      // `args` is the command line (writeResults): the parsed options go under their own key.
      options: { ...args, systems: args.systems.map((v) => v.id), workloads: [...args.workloads] },
      builds,
      small,
      batch,
      failures,
      ratios,
      notMeasured,
    },
    markdown,
  );
  console.log(`\nresults: ${file}`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
