/**
 * OPEN and KV-POINT cold get: builds an on-disk database of N records for ProtoBase (WAL and
 * SQLite backends, a `Dictionary` under one root), lmdb-js and better-sqlite3, closes it, and
 * in a fresh child process per run measures the time from open to the first read, resident
 * memory (rss, heapUsed after gc) after open and after 10k random reads with ProtoBase's cache
 * bound configured, and the throughput of those 10k cold reads. Every record read is checked.
 * Each system runs in three fresh processes; the tables show medians.
 *
 *   cd apps/bench && node --import tsx --expose-gc src/open.ts [--full]
 *
 * Options: --full (adds N = 1M), --sizes=10000,100000, --runs=3, --systems=protobase-wal,...
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ChildResult, ChildSpec } from './fixtures/open-child.js';
import { type Figure, sizeForTarget, TargetLog } from './fixtures/ratios.js';
import { buildStore, isProtoBase, STORE_KINDS, type StoreKind } from './fixtures/stores.js';
import {
  BENCH_DIR,
  fmt,
  type Machine,
  machine,
  machineLine,
  percentile,
  ratio,
  round,
  table,
  writeResults,
} from './fixtures/timing.js';

const run = promisify(execFile);

const CACHE = { maxAtoms: 20_000, maxBytes: 64 * 2 ** 20 };
const READS = 10_000;
/** Memory allowed beyond the cache bound (the OPEN target). */
const SLACK_MIB = 50;

const LABELS: Record<StoreKind, string> = {
  'protobase-wal': 'ProtoBase WAL',
  'protobase-sqlite': 'ProtoBase SQLite',
  lmdb: 'lmdb',
  'better-sqlite3': 'better-sqlite3',
};

interface Args {
  readonly sizes: number[];
  readonly runs: number;
  readonly systems: readonly StoreKind[];
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const full = argv.includes('--full');
  const sizes = (value('sizes') ?? (full ? '10000,100000,1000000' : '10000,100000'))
    .split(',')
    .map((s) => Number(s.replaceAll('_', '')));
  const ids = value('systems')?.split(',');
  return {
    sizes,
    runs: Number(value('runs') ?? 3),
    systems: ids === undefined ? STORE_KINDS : STORE_KINDS.filter((k) => ids.includes(k)),
  };
}

/** Median over the runs of one system at one size. */
interface Summary {
  readonly n: number;
  readonly system: StoreKind;
  readonly runs: number;
  readonly buildSeconds: number;
  readonly openMs: number;
  readonly firstReadMs: number;
  readonly readsPerSecond: number;
  readonly baselineRssMiB: number;
  readonly rssAfterOpenMiB: number;
  readonly heapAfterOpenMiB: number;
  readonly rssAfterReadsMiB: number;
  readonly heapAfterReadsMiB: number;
  readonly cachedAtoms: number | undefined;
  readonly cachedMiB: number | undefined;
  readonly wrongReads: number;
}

const median = (values: readonly number[]) => percentile(values, 0.5);

async function runChild(spec: ChildSpec): Promise<ChildResult> {
  const child = fileURLToPath(new URL('./fixtures/open-child.ts', import.meta.url));
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', child, JSON.stringify(spec)],
    { cwd: BENCH_DIR, maxBuffer: 16 * 2 ** 20 },
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildResult;
}

function summarize(
  n: number,
  system: StoreKind,
  buildSeconds: number,
  results: readonly ChildResult[],
): Summary {
  const m = (f: (r: ChildResult) => number) => round(median(results.map(f)), 2);
  const proto = results[0]?.cache !== undefined;
  return {
    n,
    system,
    runs: results.length,
    buildSeconds,
    openMs: m((r) => r.openMs),
    firstReadMs: m((r) => r.firstReadMs),
    readsPerSecond: Math.round(median(results.map((r) => r.readsPerSecond))),
    baselineRssMiB: m((r) => r.baseline.rssMiB),
    rssAfterOpenMiB: m((r) => r.afterOpen.rssMiB - r.baseline.rssMiB),
    heapAfterOpenMiB: m((r) => r.afterOpen.heapUsedMiB - r.baseline.heapUsedMiB),
    rssAfterReadsMiB: m((r) => r.afterReads.rssMiB - r.baseline.rssMiB),
    heapAfterReadsMiB: m((r) => r.afterReads.heapUsedMiB - r.baseline.heapUsedMiB),
    cachedAtoms: proto ? m((r) => r.cache?.atoms ?? 0) : undefined,
    cachedMiB: proto ? m((r) => (r.cache?.bytes ?? 0) / 2 ** 20) : undefined,
    wrongReads: results.reduce((a, r) => a + r.wrongReads, 0),
  };
}

function sections(summaries: readonly Summary[], n: number): string {
  const at = summaries.filter((s) => s.n === n);
  const by = (k: StoreKind) => at.find((s) => s.system === k);
  const open = table(
    [
      'system',
      'open ms',
      'open → first read ms',
      'rss Δ after open MiB',
      'heap Δ after open MiB',
      'rss Δ after 10k reads MiB',
      'heap Δ after 10k reads MiB',
      'ProtoBase cache (atoms / MiB)',
      'build s',
    ],
    at.map((s) => [
      LABELS[s.system],
      fmt(s.openMs, 2),
      fmt(s.firstReadMs, 2),
      fmt(s.rssAfterOpenMiB, 1),
      fmt(s.heapAfterOpenMiB, 1),
      fmt(s.rssAfterReadsMiB, 1),
      fmt(s.heapAfterReadsMiB, 1),
      s.cachedAtoms === undefined ? '' : `${fmt(s.cachedAtoms)} / ${fmt(s.cachedMiB ?? 0, 1)}`,
      fmt(s.buildSeconds, 1),
    ]),
  );
  const ratioRows: string[][] = [];
  for (const ours of ['protobase-wal', 'protobase-sqlite'] as const) {
    const mine = by(ours);
    if (mine === undefined) continue;
    ratioRows.push([
      LABELS[ours],
      ratio(by('lmdb')?.firstReadMs ?? Number.NaN, mine.firstReadMs),
      ratio(by('better-sqlite3')?.firstReadMs ?? Number.NaN, mine.firstReadMs),
      mine.rssAfterReadsMiB <= CACHE.maxBytes / 2 ** 20 + SLACK_MIB ? 'yes' : 'NO',
    ]);
  }
  const openRatios = table(
    [
      'ProtoBase',
      'first read: lmdb ms ÷ ours',
      'first read: better-sqlite3 ms ÷ ours',
      'rss Δ ≤ bound + 50 MiB',
    ],
    ratioRows,
  );
  const cold = table(
    ['system', 'reads/s', '÷ lmdb', '÷ better-sqlite3'],
    at.map((s) => [
      LABELS[s.system],
      fmt(s.readsPerSecond),
      isProtoBase(s.system) ? ratio(s.readsPerSecond, by('lmdb')?.readsPerSecond ?? Number.NaN) : '',
      isProtoBase(s.system)
        ? ratio(s.readsPerSecond, by('better-sqlite3')?.readsPerSecond ?? Number.NaN)
        : '',
    ]),
  );
  return [
    `### OPEN, N = ${fmt(n)}`,
    '',
    open,
    '',
    'Ratios (higher is better for ProtoBase):',
    '',
    openRatios,
    '',
    `### KV-POINT cold get, N = ${fmt(n)} (${fmt(READS)} random reads right after open, fresh process)`,
    '',
    cold,
  ].join('\n');
}

/** The size the card's OPEN and cold get targets name. */
const CARD_N = 1_000_000;

/**
 * The OPEN and KV-POINT cold get targets of the benchmark card for ProtoBase WAL, at 1M (or the
 * largest size run): cold reads ÷ lmdb (≥ 0.5×) and ÷ better-sqlite3, the first read under
 * 100 ms, and rss growth after the reads within the cache bound + 50 MiB.
 */
function targetsFor(args: Args, summaries: readonly Summary[]): TargetLog {
  const log = new TargetLog();
  const { n, offCard } = sizeForTarget(CARD_N, args.sizes);
  const by = (kind: StoreKind) => summaries.find((s) => s.n === n && s.system === kind);
  const ours = by('protobase-wal');
  const notRun = (...kinds: StoreKind[]) =>
    `${kinds.filter((k) => !args.systems.includes(k)).join(', ')} not in this run (--systems)`;
  const reads = (s: Summary | undefined): Figure | undefined =>
    s === undefined ? undefined : { value: s.readsPerSecond, text: `${fmt(s.readsPerSecond)} reads/s` };
  for (const [peer, atLeast] of [
    ['lmdb', 0.5],
    ['better-sqlite3', 1],
  ] as const) {
    log.compare(
      {
        workload: 'KV-POINT',
        ...offCard,
        name: `cold get, N = ${fmt(n)} on disk, ${fmt(READS)} reads in a fresh process: ProtoBase WAL ÷ ${LABELS[peer]}`,
        target: { atLeast },
      },
      reads(ours),
      reads(by(peer)),
      notRun('protobase-wal', peer),
    );
  }
  const firstRead = {
    workload: 'OPEN',
    ...offCard,
    name: `open → first read, N = ${fmt(n)}: ProtoBase WAL ms ÷ 100 ms`,
    target: { atMost: 1 },
  };
  const bound = CACHE.maxBytes / 2 ** 20 + SLACK_MIB;
  const memory = {
    workload: 'OPEN',
    ...offCard,
    name: `rss growth after open and ${fmt(READS)} reads, N = ${fmt(n)}: ProtoBase WAL ÷ (cache bound + ${SLACK_MIB} MiB)`,
    target: { atMost: 1 },
  };
  if (ours === undefined) {
    log.skip(firstRead, notRun('protobase-wal'));
    log.skip(memory, notRun('protobase-wal'));
  } else {
    log.add(firstRead, ours.firstReadMs / 100, `${fmt(ours.firstReadMs, 2)} ms`);
    log.add(
      memory,
      ours.rssAfterReadsMiB / bound,
      `${fmt(ours.rssAfterReadsMiB, 1)} MiB ÷ ${fmt(bound)} MiB`,
    );
  }
  return log;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'proto-bench-open-'));
  const summaries: Summary[] = [];
  const raw: ChildResult[] = [];
  const failures: string[] = [];
  let host: Machine | undefined;
  let loadStart = '';
  try {
    host = machine(root);
    loadStart = loadavg()
      .map((x) => x.toFixed(1))
      .join(', ');
    console.log(machineLine(host));
    for (const n of args.sizes) {
      const builds = new Map<StoreKind, number>();
      for (const kind of args.systems) {
        const dir = join(root, `${kind}-${n}`);
        mkdirSync(dir);
        const t0 = performance.now();
        const store = await buildStore(kind, dir, n);
        await store.close();
        builds.set(kind, round((performance.now() - t0) / 1000, 2));
        console.log(`N=${fmt(n)} built ${LABELS[kind]} in ${builds.get(kind)} s`);
      }
      const results = new Map<StoreKind, ChildResult[]>(args.systems.map((k) => [k, []]));
      // Runs interleave the systems so that drift on the machine hits them alike.
      for (let r = 0; r < args.runs; r++) {
        for (const kind of args.systems) {
          const result = await runChild({
            kind,
            dir: join(root, `${kind}-${n}`),
            n,
            reads: READS,
            seed: 1000 * r + n,
            cache: CACHE,
          });
          raw.push(result);
          results.get(kind)?.push(result);
          console.log(
            `OPEN N=${fmt(n)} ${LABELS[kind]} run ${r + 1}: first read ${round(result.firstReadMs, 2)} ms, ${fmt(result.readsPerSecond)} cold reads/s, rss Δ ${round(result.afterReads.rssMiB - result.baseline.rssMiB, 1)} MiB`,
          );
          if (result.wrongReads > 0) {
            failures.push(`${kind} N=${n}: ${result.wrongReads} reads returned the wrong record`);
          }
        }
      }
      for (const kind of args.systems) {
        summaries.push(summarize(n, kind, builds.get(kind) ?? Number.NaN, results.get(kind) ?? []));
      }
      rmSync(join(root), { recursive: true, force: true });
      mkdirSync(root);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const notes = [
    `Notes: each run is a fresh process (node --expose-gc, modules imported before the clock starts); memory is`,
    'the growth over the pre-open baseline, measured after gc. ProtoBase cache bound:',
    `maxAtoms ${fmt(CACHE.maxAtoms)}, maxBytes ${fmt(CACHE.maxBytes / 2 ** 20)} MiB; target rss Δ ≤ ${fmt(CACHE.maxBytes / 2 ** 20 + SLACK_MIB)} MiB.`,
    'The OS page cache is warm (the files were just written), so "cold" means a cold process, not a cold disk.',
    'lmdb’s rss includes the pages of its memory map that the reads touched.',
    `The machine is shared: load average ${loadStart} at the start, ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} at the end.`,
  ].join(' ');
  const markdown = [
    '## OPEN and KV-POINT cold get',
    '',
    host === undefined ? '' : machineLine(host),
    '',
    ...args.sizes.flatMap((n) => [sections(summaries, n), '']),
    notes,
    '',
    failures.length === 0
      ? 'All reads returned the right records.'
      : `CHECKS FAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`,
  ].join('\n');
  console.log(`\n${markdown}`);
  const { ratios, notMeasured } = targetsFor(args, summaries);
  const file = writeResults(
    'open',
    // `args` is the command line (writeResults): the parsed options go under their own key.
    { machine: host, options: args, cache: CACHE, summaries, runs: raw, failures, ratios, notMeasured },
    markdown,
  );
  console.log(`\nresults: ${file}`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
