/**
 * POSTGRES: the PostgreSQL backend beside the WAL backend, on a local server this workload
 * starts itself (`tooling/scripts/postgres.sh`, in a state directory of its own) and stops.
 *
 * TX-SMALL: a `Dictionary` of N records; each transaction reads one random record and writes
 * it back changed (`db.transact`). In one process with C = 1 and 16 concurrent writers, and
 * with 1, 4 and 8 client processes of one writer each on the same database (what the
 * PostgreSQL backend is for; the WAL backend is single-process): commits per second, p50.
 *
 * KV-POINT cold get: in a fresh process, 2,000 random point reads right after open, each its
 * own `db.transact` (reads/s), and the round trips they made (the backend's read calls): a cold
 * read costs about one batched round trip per tree level. The same again with each read its own
 * `db.read`, whose misses are blocking reads (the backend's worker thread).
 *
 * Usage: node --import tsx --expose-gc src/postgres.ts
 *          [--sizes=100000] [--seconds=4] [--processes=1,4,8]
 * Child mode (internal): src/postgres.ts --child=<json>
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectSpace, type StorageBackend } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { openPostgresBackend } from '@proto/storage-postgres';
import { openWalBackend } from '@proto/storage-wal';
import { Random } from './fixtures/data.js';
import { TargetLog } from './fixtures/ratios.js';
import { fmt, machine, machineLine, percentile, table, writeResults } from './fixtures/timing.js';

const SCRIPT = fileURLToPath(new URL('../../../tooling/scripts/postgres.sh', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const COLD_READS = 2_000;

interface Args {
  readonly sizes: number[];
  readonly seconds: number;
  readonly processes: number[];
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (v: string | undefined, d: number[]) => (v === undefined ? d : v.split(',').map(Number));
  return {
    sizes: list(get('sizes'), argv.includes('--full') ? [100_000, 1_000_000] : [100_000]),
    seconds: Number(get('seconds') ?? 4),
    processes: list(get('processes'), [1, 4, 8]),
  };
}

type Record = { readonly id: number; readonly name: string; readonly visits: number };

/** A backend that counts its read calls: each one a round trip. */
function counting(inner: StorageBackend): { backend: StorageBackend; reads: () => number } {
  let reads = 0;
  const backend: StorageBackend = {
    name: inner.name,
    capabilities: inner.capabilities,
    writeAtoms: (atoms) => inner.writeAtoms(atoms),
    readAtom: (pointer) => {
      reads++;
      return inner.readAtom(pointer);
    },
    readAtoms: (pointers) => {
      reads++;
      return (inner.readAtoms as NonNullable<StorageBackend['readAtoms']>).call(inner, pointers);
    },
    ...(inner.readAtomsBlocking === undefined
      ? {}
      : {
          readAtomsBlocking: (pointers: readonly string[]) => {
            reads++;
            return (inner.readAtomsBlocking as NonNullable<StorageBackend['readAtomsBlocking']>).call(
              inner,
              pointers,
            );
          },
        }),
    readRoot: () => inner.readRoot(),
    compareAndSetRoot: (expected, next) => inner.compareAndSetRoot(expected, next),
    ...(inner.watchRoot === undefined ? {} : { watchRoot: inner.watchRoot.bind(inner) }),
    ...(inner.reclaim === undefined ? {} : { reclaim: inner.reclaim.bind(inner) }),
    close: () => inner.close(),
  };
  return { backend, reads: () => reads };
}

interface Location {
  readonly kind: 'postgres' | 'wal';
  readonly url?: string;
  readonly prefix?: string;
  readonly path?: string;
}

async function open(location: Location): Promise<StorageBackend> {
  if (location.kind === 'wal') return openWalBackend({ path: location.path as string });
  return openPostgresBackend(
    { connectionString: location.url as string, maxConnections: 4 },
    { tablePrefix: location.prefix as string },
  );
}

async function build(location: Location, n: number): Promise<void> {
  const space = await ObjectSpace.open(await open(location));
  const records = Array.from(
    { length: n },
    (_, i) => [i, { id: i, name: `record ${i}`, visits: 0 }] as [number, Record],
  );
  await space.database('bench').transact((tx) => tx.set('records', Dictionary.from(records)));
  await space.close();
}

/** Writers committing read-modify-write transactions for `seconds`: commits and latencies. */
async function small(space: ObjectSpace, n: number, writers: number, seconds: number, seed: number) {
  const db = space.database('bench');
  const random = new Random(seed);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let commits = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        const key = random.int(n);
        const started = performance.now();
        await db.transact((tx) => {
          const records = tx.get<Dictionary<number, Record>>('records') as Dictionary<number, Record>;
          const r = records.get(key) as Record;
          tx.set('records', records.set(key, { ...r, visits: r.visits + 1 }));
        });
        latencies.push(performance.now() - started);
        commits++;
      }
    }),
  );
  return { commits, latencies };
}

interface ChildSpec {
  /** `cold`: point reads in `db.transact`; `cold-read`: in `db.read` (blocking reads). */
  readonly mode: 'small' | 'cold' | 'cold-read';
  readonly location: Location;
  readonly n: number;
  readonly seconds: number;
  readonly seed: number;
}

async function child(spec: ChildSpec): Promise<void> {
  const counted = counting(await open(spec.location));
  const space = await ObjectSpace.open(counted.backend);
  if (spec.mode === 'small') {
    // Warm the path first: the figure is steady-state commits.
    await small(space, spec.n, 1, 0.3, spec.seed + 1);
    const { commits, latencies } = await small(space, spec.n, 1, spec.seconds, spec.seed);
    process.stdout.write(`${JSON.stringify({ commits, p50: percentile(latencies, 0.5) })}\n`);
  } else {
    const db = space.database('bench');
    const random = new Random(spec.seed);
    const before = counted.reads();
    const started = performance.now();
    for (let i = 0; i < COLD_READS; i++) {
      const key = random.int(spec.n);
      const read = (tx: { get<T>(name: string): T | undefined }) =>
        tx.get<Dictionary<number, Record>>('records')?.get(key);
      // Each db.read in an event-loop turn of its own, as request handlers run (in one turn,
      // misses under one parent would read ahead as a scan does).
      if (spec.mode === 'cold-read') await new Promise((resolve) => setImmediate(resolve));
      const r = spec.mode === 'cold' ? await db.transact(read) : db.read(read);
      if (r?.id !== key) throw new Error(`cold read of ${key} returned ${JSON.stringify(r)}`);
    }
    const ms = performance.now() - started;
    process.stdout.write(
      `${JSON.stringify({ readsPerSecond: (COLD_READS * 1000) / ms, roundTrips: counted.reads() - before })}\n`,
    );
  }
  await space.close();
}

/** Runs `count` child processes at once; resolves with their reports. */
function children(spec: ChildSpec, count: number): Promise<unknown[]> {
  return Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<unknown>((resolve, reject) => {
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', SELF, `--child=${JSON.stringify({ ...spec, seed: spec.seed + i })}`],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let out = '';
          p.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
          });
          p.on('exit', (code) =>
            code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`child exited ${code}`)),
          );
        }),
    ),
  );
}

/** The round trips of one cold point read: a fresh process, one read. */
async function coldPointRoundTrips(location: Location, n: number): Promise<number> {
  const counted = counting(await open(location));
  const space = await ObjectSpace.open(counted.backend);
  const before = counted.reads();
  await space
    .database('bench')
    .transact((tx) => tx.get<Dictionary<number, Record>>('records')?.get(Math.floor(n / 3)));
  const trips = counted.reads() - before;
  await space.close();
  return trips;
}

async function main(): Promise<void> {
  const flag = process.argv.find((a) => a.startsWith('--child='));
  if (flag !== undefined) {
    await child(JSON.parse(flag.slice('--child='.length)) as ChildSpec);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const state = mkdtempSync(join(tmpdir(), 'proto-bench-postgres-'));
  const env = { ...process.env, PROTO_POSTGRES_STATE: state };
  const url = execFileSync('bash', [SCRIPT, 'start'], { env, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'proto-bench-pg-wal-'));
  const log = new TargetLog();
  const sections: string[] = [];
  const results: unknown[] = [];
  const host = machine(dir);
  try {
    for (const n of args.sizes) {
      const pg: Location = { kind: 'postgres', url, prefix: `bench_${n}_` };
      const wal: Location = { kind: 'wal', path: join(dir, `wal-${n}`) };
      const rows: string[][] = [];
      const buildStart = performance.now();
      await build(pg, n);
      const pgBuild = (performance.now() - buildStart) / 1000;
      await build(wal, n);
      for (const writers of [1, 16]) {
        for (const location of [pg, wal]) {
          const space = await ObjectSpace.open(await open(location));
          await small(space, n, writers, 0.3, 7);
          const { commits, latencies } = await small(space, n, writers, args.seconds, 11);
          await space.close();
          const rate = commits / args.seconds;
          rows.push([
            location.kind,
            `C=${writers}, 1 process`,
            fmt(rate),
            fmt(percentile(latencies, 0.5), 2),
          ]);
          results.push({ n, system: location.kind, writers, processes: 1, commitsPerSecond: rate });
        }
      }
      for (const count of args.processes) {
        const reports = (await children(
          { mode: 'small', location: pg, n, seconds: args.seconds, seed: 100 },
          count,
        )) as {
          commits: number;
          p50: number;
        }[];
        const rate = reports.reduce((s, r) => s + r.commits, 0) / args.seconds;
        const p50 = percentile(
          reports.map((r) => r.p50),
          0.5,
        );
        rows.push(['postgres', `C=1 in each of ${count} processes`, fmt(rate), fmt(p50, 2)]);
        results.push({ n, system: 'postgres', writers: 1, processes: count, commitsPerSecond: rate });
        log.add(
          {
            workload: 'TX-SMALL',
            name: `PostgreSQL backend, N = ${n.toLocaleString('en-US')}, ${count} client process${count === 1 ? '' : 'es'}`,
            target: {},
            unit: 'commits/s',
          },
          rate,
          `${fmt(rate)} commits/s in all, p50 ${fmt(p50, 2)} ms`,
        );
      }
      const [cold] = (await children({ mode: 'cold', location: pg, n, seconds: 0, seed: 5 }, 1)) as {
        readsPerSecond: number;
        roundTrips: number;
      }[];
      const [coldRead] = (await children({ mode: 'cold-read', location: pg, n, seconds: 0, seed: 5 }, 1)) as {
        readsPerSecond: number;
        roundTrips: number;
      }[];
      const trips = await coldPointRoundTrips(pg, n);
      rows.push([
        'postgres',
        `cold get, fresh process (${COLD_READS} reads in db.transact)`,
        `${fmt(cold?.readsPerSecond ?? 0)} reads/s`,
        `${fmt((cold?.roundTrips ?? 0) / COLD_READS, 2)} round trips per read`,
      ]);
      rows.push([
        'postgres',
        `cold get, fresh process (${COLD_READS} reads in db.read: blocking reads)`,
        `${fmt(coldRead?.readsPerSecond ?? 0)} reads/s`,
        `${fmt((coldRead?.roundTrips ?? 0) / COLD_READS, 2)} round trips per read`,
      ]);
      results.push({
        n,
        system: 'postgres',
        coldReadsPerSecond: cold?.readsPerSecond,
        coldBlockingReadsPerSecond: coldRead?.readsPerSecond,
        coldPointRoundTrips: trips,
        buildSeconds: pgBuild,
      });
      log.add(
        {
          workload: 'KV-POINT',
          name: `cold get on the PostgreSQL backend, N = ${n.toLocaleString('en-US')}: round trips of the first read in a fresh process`,
          target: {},
          unit: 'round trips',
        },
        trips,
        `${trips} round trips (one batched read per tree level, with the state, database and root above it); ${fmt(cold?.readsPerSecond ?? 0)} reads/s over ${COLD_READS} cold reads`,
      );
      sections.push(
        `### N = ${n.toLocaleString('en-US')} (build ${fmt(pgBuild, 1)} s)\n\n${table(['system', 'run', 'commits/s (or reads/s)', 'p50 ms'], rows)}\n\n` +
          `A cold point read in a fresh process: ${trips} round trips.`,
      );
    }
  } finally {
    execFileSync('bash', [SCRIPT, 'stop'], { env, stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
  const markdown = [
    '## POSTGRES: the PostgreSQL backend beside the WAL backend',
    '',
    `${machineLine(host)}; a local PostgreSQL started by the bench (fsync and synchronous_commit on). Load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} at the end.`,
    '',
    ...sections,
  ].join('\n');
  console.log(markdown);
  console.log(
    `\nresults: ${writeResults('postgres', { machine: host, results, ratios: log.ratios, notMeasured: log.notMeasured }, markdown)}`,
  );
}

await main();
