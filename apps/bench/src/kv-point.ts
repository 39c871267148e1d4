/**
 * KV-POINT: point get and set on a ProtoBase `Dictionary` of N records beside native `Map`,
 * Immutable.js `Map`, lmdb-js `get` and better-sqlite3 (prepared select by primary key).
 *
 * - get: random existing keys inside one read transaction (`tx.get('kv')` once, then
 *   `dict.get(key)` per op). ProtoBase is measured twice: on the tree as built and committed in
 *   this process, and after closing and reopening the space (nodes decoded from storage and
 *   served from the kernel's cache after a warm-up pass).
 * - set: random existing keys set to new records inside one transaction, uncommitted
 *   (`dict = dict.set(key, record)` on the transaction's bound view) beside `Map.set` and the
 *   persistent `Immutable.Map.set`.
 *
 * Every get is checked (the record's id equals the key inside the timed loop; a full field
 * comparison of every queried record runs untimed), and every set run is checked against a
 * model of the last value written per key. Each system runs the same key sequence; systems are
 * interleaved chunk by chunk (so load from elsewhere falls on all alike), the median of the
 * rounds is reported, with p50/p95 per-op latency from batches of 100 ops.
 *
 *   cd apps/bench && node --import tsx src/kv-point.ts [--full]
 *
 * Options: --full (adds N = 1M), --sizes=10000,100000, --ops=200000, --rounds=3,
 * --no-durable (skip lmdb and better-sqlite3).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { Map as ImmutableMap } from 'immutable';
import { type BenchRecord, entriesOf, keyOf, Random, recordOf, sameRecord } from './fixtures/data.js';
import { type Figure, sizeForTarget, TargetLog } from './fixtures/ratios.js';
import { buildStore, type Store } from './fixtures/stores.js';
import {
  check,
  fmt,
  machine,
  machineLine,
  percentile,
  ratio,
  round,
  table,
  writeResults,
} from './fixtures/timing.js';

type Records = Dictionary<string, BenchRecord>;

/**
 * A cache large enough to keep the whole data set decoded (the workload measures resident
 * reads; the kernel's default cache, 256 MiB of decoded-size estimate, holds about 800k records).
 */
const RESIDENT = { cache: { maxAtoms: 1_000_000, maxBytes: 8 * 2 ** 30 } };
type Getter = (key: string) => BenchRecord | undefined;

const BATCH = 100;

interface Options {
  readonly sizes: readonly number[];
  readonly ops: number;
  readonly rounds: number;
  readonly durable: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = value('sizes')?.split(',').map(Number) ?? [
    10_000,
    100_000,
    ...(argv.includes('--full') ? [1_000_000] : []),
  ];
  return {
    sizes,
    ops: Number(value('ops') ?? 200_000),
    rounds: Number(value('rounds') ?? 3),
    durable: !argv.includes('--no-durable'),
  };
}

interface Measured {
  readonly opsPerSec: number;
  /** Per-op latency in µs. */
  readonly p50: number;
  readonly p95: number;
}

interface RunResult {
  ms: number;
  readonly batches: number[];
}

const CHUNK = 10_000;

/**
 * Runs each system's `body(from, to)` over `ops` positions, interleaved: chunk by chunk, every
 * system runs the same chunk (in rotating order) before the next chunk starts, so load from
 * elsewhere on the machine falls on all systems alike. Each batch of `BATCH` ops is timed.
 */
function interleaved(ops: number, bodies: readonly ((from: number, to: number) => void)[]): RunResult[] {
  const results = bodies.map(() => ({ ms: 0, batches: [] as number[] }));
  let turn = 0;
  for (let chunk = 0; chunk < ops; chunk += CHUNK) {
    const end = Math.min(ops, chunk + CHUNK);
    for (let j = 0; j < bodies.length; j++) {
      const s = (j + turn) % bodies.length;
      const body = bodies[s] as (from: number, to: number) => void;
      const result = results[s] as RunResult;
      for (let from = chunk; from < end; from += BATCH) {
        const to = Math.min(end, from + BATCH);
        const t0 = performance.now();
        body(from, to);
        const dt = performance.now() - t0;
        result.ms += dt;
        result.batches.push((dt * 1000) / (to - from));
      }
    }
    turn++;
  }
  return results;
}

function summarizeRuns(ops: number, runs: readonly RunResult[]): Measured {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const median = sorted[Math.floor(sorted.length / 2)] as RunResult;
  const all = runs.flatMap((r) => r.batches);
  return {
    opsPerSec: Math.round((ops / median.ms) * 1000),
    p50: round(percentile(all, 0.5), 3),
    p95: round(percentile(all, 0.95), 3),
  };
}

/** A timed get loop: checks each result's id. */
function getBody(get: Getter, keys: readonly string[]): (from: number, to: number) => void {
  return (from, to) => {
    for (let i = from; i < to; i++) {
      const key = keys[i] as string;
      const record = get(key);
      if (record === undefined || record.id !== key) throw new Error(`get(${key}) returned a wrong record`);
    }
  };
}

/** Untimed: every queried record equals the generated one in every field. */
function checkGets(label: string, get: Getter, keys: readonly string[], indexes: readonly number[]): void {
  for (let i = 0; i < keys.length; i++) {
    check(sameRecord(get(keys[i] as string), recordOf(indexes[i] as number)), `${label}: record ${keys[i]}`);
  }
}

interface SetRun {
  set: (key: string, record: BenchRecord) => void;
  read: (key: string) => BenchRecord | undefined;
  size: () => number;
}

interface SetSystem {
  readonly label: string;
  start(): SetRun;
}

/** Untimed: after a run, every updated key holds its last written record and the size is unchanged. */
function checkSets(
  label: string,
  run: SetRun,
  keys: readonly string[],
  updates: readonly BenchRecord[],
  n: number,
): void {
  const last = new Map<string, BenchRecord>();
  for (let i = 0; i < keys.length; i++) last.set(keys[i] as string, updates[i] as BenchRecord);
  check(run.size() === n, `${label}: size ${run.size()} after updates, expected ${n}`);
  for (const [key, record] of last)
    check(run.read(key) === record, `${label}: ${key} holds its last written record`);
}

interface SizeReport {
  readonly n: number;
  readonly get: Record<string, Measured>;
  readonly set: Record<string, Measured>;
  readonly depth: number;
}

async function runSize(n: number, options: Options, dir: string): Promise<SizeReport> {
  const random = new Random(0x5eed + n);
  const indexes = Array.from({ length: options.ops }, () => random.int(n));
  const keys = indexes.map(keyOf);
  const updates = indexes.map((i, j) => ({ ...recordOf(i), value: j }));

  // ProtoBase on the memory backend: built and committed, then the same data reopened.
  const location = createMemoryLocation();
  const space = await ObjectSpace.open(await openMemoryBackend({ location }), RESIDENT);
  await space.database('bench').transact((tx) => tx.set('kv', Dictionary.from(entriesOf(n))));
  const builtTx = space.database('bench').begin({ readOnly: true });
  const built = builtTx.get<Records>('kv') as Records;
  const depth = built.depth;
  const reopenedLocation = createMemoryLocation();
  const reopenedSpace = await ObjectSpace.open(
    await openMemoryBackend({ location: reopenedLocation }),
    RESIDENT,
  );
  await reopenedSpace.database('bench').transact((tx) => tx.set('kv', Dictionary.from(entriesOf(n))));
  await reopenedSpace.close();
  const loadedSpace = await ObjectSpace.open(
    await openMemoryBackend({ location: reopenedLocation }),
    RESIDENT,
  );
  const loaded = loadedSpace.database('bench').begin({ readOnly: true }).get<Records>('kv') as Records;

  const native = new Map<string, BenchRecord>(entriesOf(n));
  const immutable = ImmutableMap<string, BenchRecord>(entriesOf(n));

  const getters: [string, Getter][] = [
    ['ProtoBase Dictionary (built in process)', (k) => built.get(k)],
    ['ProtoBase Dictionary (reopened, cached)', (k) => loaded.get(k)],
    ['native Map', (k) => native.get(k)],
    ['Immutable.js Map', (k) => immutable.get(k)],
  ];
  const stores: Store[] = [];
  if (options.durable) {
    for (const kind of ['lmdb', 'better-sqlite3'] as const) {
      const storeDir = join(dir, `${kind}-${n}`);
      mkdirSync(storeDir, { recursive: true });
      const store = await buildStore(kind, storeDir, n);
      stores.push(store);
      getters.push([kind === 'lmdb' ? 'lmdb get' : 'better-sqlite3 select', store.reader() as Getter]);
    }
  }
  // Warm-up: one pass of the key sequence for every system (loads the reopened tree into the cache).
  for (const [, get] of getters) for (const key of keys) get(key);

  for (const [label, get] of getters) checkGets(label, get, keys, indexes);
  const getRuns = getters.map((): RunResult[] => []);
  for (let r = 0; r < options.rounds; r++) {
    const results = interleaved(
      options.ops,
      getters.map(([, get]) => getBody(get, keys)),
    );
    for (const [i, result] of results.entries()) getRuns[i]?.push(result);
  }

  const db = space.database('bench');
  const setSystems: SetSystem[] = [
    {
      label: 'ProtoBase Dictionary (set in a transaction)',
      start() {
        const tx = db.begin();
        let d = tx.get<Records>('kv') as Records;
        return {
          set: (k, v) => {
            d = d.set(k, v);
          },
          read: (k) => d.get(k),
          size: () => d.size,
        };
      },
    },
    {
      label: 'native Map',
      start() {
        const m = new Map(native);
        return { set: (k, v) => void m.set(k, v), read: (k) => m.get(k), size: () => m.size };
      },
    },
    {
      label: 'Immutable.js Map',
      start() {
        let m = immutable;
        return {
          set: (k, v) => {
            m = m.set(k, v);
          },
          read: (k) => m.get(k),
          size: () => m.size,
        };
      },
    },
  ];
  const setRuns = setSystems.map((): RunResult[] => []);
  for (let r = 0; r < options.rounds; r++) {
    const runs = setSystems.map((system) => system.start());
    const results = interleaved(
      options.ops,
      runs.map((run) => (from: number, to: number) => {
        const set = run.set;
        for (let i = from; i < to; i++) set(keys[i] as string, updates[i] as BenchRecord);
      }),
    );
    for (const [i, result] of results.entries()) setRuns[i]?.push(result);
    for (const [i, run] of runs.entries()) checkSets(setSystems[i]?.label ?? '', run, keys, updates, n);
  }

  for (const store of stores) await store.close();
  builtTx.abort();
  await loadedSpace.close();
  await space.close();

  const get: Record<string, Measured> = {};
  getters.forEach(([label], i) => {
    get[label] = summarizeRuns(options.ops, getRuns[i] ?? []);
  });
  const set: Record<string, Measured> = {};
  setSystems.forEach((system, i) => {
    set[system.label] = summarizeRuns(options.ops, setRuns[i] ?? []);
  });
  return { n, get, set, depth };
}

/**
 * How the cost of one operation grows from the smallest size run to the largest (time per op
 * at the largest ÷ at the smallest, from ops/s; the target is at most 3× from 10k to 1M).
 */
function growthFor(reports: readonly SizeReport[]): string {
  if (reports.length < 2) return '';
  const small = reports[0] as SizeReport;
  const large = reports[reports.length - 1] as SizeReport;
  const rows: string[][] = [];
  for (const kind of ['get', 'set'] as const) {
    for (const [label, m] of Object.entries(large[kind])) {
      const base = small[kind][label];
      if (base === undefined) continue;
      const growth = base.opsPerSec / m.opsPerSec;
      rows.push([kind, label, fmt(base.opsPerSec), fmt(m.opsPerSec), `${fmt(growth, 2)}×`]);
    }
  }
  return [
    `### Growth N = ${fmt(small.n)} → ${fmt(large.n)} (cost per op, larger ÷ smaller; lower is better)`,
    '',
    table(['op', 'system', `ops/s at ${fmt(small.n)}`, `ops/s at ${fmt(large.n)}`, 'growth'], rows),
  ].join('\n');
}

const OURS_GET = 'ProtoBase Dictionary (reopened, cached)';
const OURS_SET = 'ProtoBase Dictionary (set in a transaction)';

/** The size the card's get targets and growth name. */
const CARD_N = 1_000_000;
const CARD_SMALL_N = 10_000;

/**
 * The KV-POINT targets of the benchmark card, from what this run measured: get (resident, 1M)
 * ÷ Immutable.js and ÷ lmdb, set in a transaction ÷ Immutable.js at each size, and the growth of
 * a point get from 10k to 1M against native `Map`'s (+ 20%). Cold get is measured by `open.ts`.
 */
function targetsFor(reports: readonly SizeReport[], options: Options): TargetLog {
  const log = new TargetLog();
  const opsOf = (m: Measured | undefined): Figure | undefined =>
    m === undefined ? undefined : { value: m.opsPerSec, text: `${fmt(m.opsPerSec)} ops/s` };
  const { n, offCard } = sizeForTarget(CARD_N, options.sizes);
  const at = reports.find((r) => r.n === n);
  for (const [peer, label] of [
    ['Immutable.js Map', 'Immutable.js Map.get'],
    ['lmdb get', 'lmdb get'],
  ] as const) {
    const spec = {
      workload: 'KV-POINT',
      ...offCard,
      name: `get, resident, N = ${fmt(n)}: ProtoBase (reopened, cached) ÷ ${label}`,
      target: { atLeast: 1 },
    };
    const ours = opsOf(at?.get[OURS_GET]);
    const theirs = opsOf(at?.get[peer]);
    if (ours !== undefined && theirs !== undefined)
      log.add(spec, ours.value / theirs.value, `${ours.text} ÷ ${theirs.text}`);
    else log.skip(spec, peer === 'lmdb get' ? 'lmdb not run (--no-durable)' : `N = ${fmt(n)} not run`);
  }
  for (const report of reports) {
    log.compare(
      {
        workload: 'KV-POINT',
        name: `set in a transaction, N = ${fmt(report.n)}: ProtoBase ÷ Immutable.js Map.set`,
        target: { atLeast: 1 },
      },
      opsOf(report.set[OURS_SET]),
      opsOf(report.set['Immutable.js Map']),
      'not run',
    );
  }
  const small = reports[0];
  const large = reports.at(-1);
  const growthSpec = {
    workload: 'KV-POINT',
    name: `point get growth N = ${fmt(small?.n ?? CARD_SMALL_N)} → ${fmt(large?.n ?? CARD_N)} (cost per get, larger ÷ smaller): ProtoBase's ÷ (native Map's + 20%)`,
    target: { atMost: 1 },
  };
  const growthOf = (label: string) => {
    const before = small?.get[label];
    const after = large?.get[label];
    return before === undefined || after === undefined ? Number.NaN : before.opsPerSec / after.opsPerSec;
  };
  if (small === undefined || large === undefined || small.n === large.n)
    log.skip(growthSpec, 'needs two sizes (--sizes=10000,1000000 or --full)');
  else {
    const ours = growthOf(OURS_GET);
    const map = growthOf('native Map');
    const card =
      small.n === CARD_SMALL_N && large.n === CARD_N ? '' : '; the card measures 10,000 → 1,000,000';
    log.add(growthSpec, ours / (map * 1.2), `${fmt(ours, 2)}× ÷ (${fmt(map, 2)}× × 1.2)${card}`);
  }
  return log;
}

function markdownFor(report: SizeReport): string {
  const ours = report.get[OURS_GET] as Measured;
  const oursBuilt = report.get['ProtoBase Dictionary (built in process)'] as Measured;
  const getRows = Object.entries(report.get).map(([label, m]) => [
    label,
    fmt(m.opsPerSec),
    fmt(m.p50, 3),
    fmt(m.p95, 3),
    label.startsWith('ProtoBase')
      ? ''
      : `${ratio(ours.opsPerSec, m.opsPerSec)} / ${ratio(oursBuilt.opsPerSec, m.opsPerSec)}`,
  ]);
  const oursSet = report.set[OURS_SET] as Measured;
  const setRows = Object.entries(report.set).map(([label, m]) => [
    label,
    fmt(m.opsPerSec),
    fmt(m.p50, 3),
    fmt(m.p95, 3),
    label.startsWith('ProtoBase') ? '' : ratio(oursSet.opsPerSec, m.opsPerSec),
  ]);
  return [
    `### N = ${fmt(report.n)} (tree depth ${report.depth})`,
    '',
    '**get** (random existing keys, one read transaction)',
    '',
    table(['system', 'ops/s', 'p50 µs', 'p95 µs', 'ProtoBase ÷ peer (reopened / built)'], getRows),
    '',
    '**set** (random existing keys, one transaction, uncommitted)',
    '',
    table(['system', 'ops/s', 'p50 µs', 'p95 µs', 'ProtoBase ÷ peer'], setRows),
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'proto-kv-point-'));
  try {
    const m = machine(dir);
    const reports: SizeReport[] = [];
    for (const n of options.sizes) {
      const report = await runSize(n, options, dir);
      reports.push(report);
      console.log(`${markdownFor(report)}\n`);
    }
    const growth = growthFor(reports);
    if (growth !== '') console.log(`${growth}\n`);
    const markdown = [
      '## KV-POINT',
      '',
      machineLine(m),
      `Ops per system and size: ${fmt(options.ops)} (median of ${options.rounds} rounds; latency per op from batches of ${BATCH}).`,
      '',
      ...reports.map(markdownFor),
      growth,
    ].join('\n\n');
    const { ratios, notMeasured } = targetsFor(reports, options);
    const file = writeResults(
      'kv-point',
      { workload: 'KV-POINT', machine: m, options, reports, ratios, notMeasured },
      markdown,
    );
    console.log(`results: ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
