/**
 * CACHE: ProtoBase as a cache, beside the caches users would pick instead. 100,000 keys with a
 * TTL (values of 100 B), one request at a time (as a request handler makes them):
 * - get hit and get miss: `ExpiringCache.get(db, key)` (one `db.read`, WAL backend), Redis
 *   `GET` over loopback through ioredis (default configuration), `lru-cache` in process;
 * - durable set with TTL: one `ExpiringCache.set` per transaction, acknowledged after fsync (WAL),
 *   beside Redis `SET ... PX` with `appendonly yes` + `appendfsync always` (acknowledged after
 *   its fsync), and, for reference, Redis's default (not durable) and `lru-cache`.
 * Redis runs as two `redis-server` processes this bench starts on 127.0.0.1 (free ports, data in
 * a temp directory) and stops by PID; `scripts/ensure-redis.sh` installs Debian's package first
 * when it is missing. Each measured loop follows an untimed warm-up of a quarter of its calls. Targets: gets ≥ 10× Redis, durable sets ≥ 1.0× Redis `appendfsync
 * always`, gets within 2× of lru-cache.
 *
 * Usage: node --import tsx --expose-gc src/cache.ts [--gets=20000] [--sets=2000]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectSpace } from '@proto/atom';
import { ExpiringCache } from '@proto/query';
import { openWalBackend } from '@proto/storage-wal';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Random } from './fixtures/data.js';
import { type Figure, TargetLog } from './fixtures/ratios.js';
import {
  check,
  collectGarbage,
  fmt,
  machine,
  machineLine,
  percentile,
  ratio,
  table,
  writeResults,
} from './fixtures/timing.js';

const N = 100_000;
const TTL = 3_600_000;
const arg = (name: string, fallback: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
};
const GETS = arg('gets', 20_000);
const SETS = arg('sets', 2_000);

const keyOf = (i: number) => `key:${i}`;
const valueFor = (i: number, version = 0) => `${i}:${version}:`.padEnd(100, 'v');

interface Result {
  readonly system: string;
  readonly op: string;
  readonly opsPerSec: number;
  readonly p50us: number;
  readonly p99us: number;
}

/**
 * Times `n` calls of `fn` one at a time, after `n / 4` untimed calls of it (every system gets the
 * same warm-up: JIT, caches, connections); returns ops/s and latency percentiles.
 */
async function timeOps(
  n: number,
  fn: (i: number) => unknown,
): Promise<{ opsPerSec: number; p50us: number; p99us: number }> {
  for (let i = 0; i < n / 4; i++) {
    const r = fn(i);
    if (r instanceof Promise) await r;
  }
  const lat = new Float64Array(n);
  collectGarbage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = fn(i);
    if (r instanceof Promise) await r;
    lat[i] = (performance.now() - s) * 1000;
  }
  const ms = performance.now() - t0;
  const sorted = [...lat];
  return { opsPerSec: (n * 1000) / ms, p50us: percentile(sorted, 0.5), p99us: percentile(sorted, 0.99) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

interface RedisServer {
  readonly client: Redis;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

async function startRedis(dir: string, durable: boolean): Promise<RedisServer> {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
  ];
  args.push('--appendonly', durable ? 'yes' : 'no');
  if (durable) args.push('--appendfsync', 'always');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // Connect once the server says it listens.
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  await client.ping();
  return {
    client,
    process: child,
    stop: async () => {
      client.disconnect();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The CACHE targets (benchmark card, expiring-entries issue): gets ≥ 10× Redis over loopback,
 * durable sets ≥ 1.0× Redis `appendfsync always`, gets within 2× of lru-cache (≥ 0.5×), in ops/s.
 */
function targetsFor(results: readonly Result[]): TargetLog {
  const log = new TargetLog();
  const opsOf = (system: string, op: string): Figure | undefined => {
    const r = results.find((x) => x.system === system && x.op === op);
    return r === undefined ? undefined : { value: r.opsPerSec, text: `${fmt(r.opsPerSec)} ops/s` };
  };
  const targets = [
    ['get hit', 'Redis', 10],
    ['get miss', 'Redis', 10],
    ['durable set', 'Redis appendfsync always', 1],
    ['get hit', 'lru-cache', 0.5],
    ['get miss', 'lru-cache', 0.5],
  ] as const;
  for (const [op, peer, atLeast] of targets) {
    log.compare(
      {
        workload: 'CACHE',
        name: `${op}, ${fmt(N)} keys with a TTL, one request at a time: ProtoBase ExpiringCache (WAL) ÷ ${peer}`,
        target: { atLeast },
      },
      opsOf('ProtoBase', op),
      opsOf(peer, op),
      `${peer} ${op} not measured`,
    );
  }
  return log;
}

async function main(): Promise<void> {
  const ensure = spawnSync('bash', [fileURLToPath(new URL('../scripts/ensure-redis.sh', import.meta.url))], {
    stdio: 'inherit',
  });
  if (ensure.status !== 0) throw new Error('redis-server is not available (see the message above)');
  const root = mkdtempSync(join(tmpdir(), 'proto-bench-cache-'));
  const results: Result[] = [];
  const add = (system: string, op: string, r: { opsPerSec: number; p50us: number; p99us: number }) => {
    results.push({ system, op, ...r });
    console.log(
      `CACHE ${op} ${system}: ${fmt(r.opsPerSec)} ops/s, p50 ${fmt(r.p50us, 1)} µs, p99 ${fmt(r.p99us, 1)} µs`,
    );
  };
  const random = new Random(11);
  const hits = Array.from({ length: GETS }, () => random.int(N));
  const misses = Array.from({ length: GETS }, () => N + random.int(N));
  const setKeys = Array.from({ length: SETS }, () => random.int(N));
  try {
    const host = machine(root);

    // ProtoBase: ExpiringCache on the WAL backend.
    const space = await ObjectSpace.open(await openWalBackend({ path: join(root, 'wal') }));
    const db = space.database('bench');
    const cache = new ExpiringCache<string, string>('cache', { ttl: TTL });
    for (let start = 0; start < N; start += 10_000) {
      await db.transact((tx) => {
        const view = cache.in(tx);
        for (let i = start; i < Math.min(N, start + 10_000); i++) view.set(keyOf(i), valueFor(i));
      });
    }
    await space.checkpoint();
    add(
      'ProtoBase',
      'get hit',
      await timeOps(GETS, (i) => {
        const k = hits[i] as number;
        if (cache.get(db, keyOf(k)) !== valueFor(k)) throw new Error('wrong value');
      }),
    );
    add(
      'ProtoBase',
      'get miss',
      await timeOps(GETS, (i) => {
        if (cache.get(db, keyOf(misses[i] as number)) !== undefined) throw new Error('hit on a missing key');
      }),
    );
    add(
      'ProtoBase',
      'durable set',
      await timeOps(SETS, (i) =>
        db.transact((tx) =>
          cache.in(tx).set(keyOf(setKeys[i] as number), valueFor(setKeys[i] as number, i + 1), { ttl: TTL }),
        ),
      ),
    );
    const last = new Map<number, number>();
    for (const [i, k] of setKeys.entries()) last.set(k, i + 1);
    for (const [k, v] of last)
      check(
        cache.in(db.begin({ readOnly: true })).get(keyOf(k)) === valueFor(k, v),
        'ProtoBase kept the last set',
      );
    await space.close();

    // Redis, defaults (gets, and sets for reference) and appendfsync always (durable sets).
    const plain = await startRedis(mkdtempSync(join(root, 'redis-')), false);
    const durable = await startRedis(mkdtempSync(join(root, 'redis-aof-')), true);
    try {
      for (const server of [plain, durable]) {
        for (let start = 0; start < N; start += 5_000) {
          const pipe = server.client.pipeline();
          for (let i = start; i < Math.min(N, start + 5_000); i++) pipe.set(keyOf(i), valueFor(i), 'PX', TTL);
          await pipe.exec();
        }
      }
      add(
        'Redis',
        'get hit',
        await timeOps(GETS, async (i) => {
          const k = hits[i] as number;
          if ((await plain.client.get(keyOf(k))) !== valueFor(k)) throw new Error('wrong value');
        }),
      );
      add(
        'Redis',
        'get miss',
        await timeOps(GETS, async (i) => {
          if ((await plain.client.get(keyOf(misses[i] as number))) !== null)
            throw new Error('hit on a missing key');
        }),
      );
      add(
        'Redis appendfsync always',
        'durable set',
        await timeOps(SETS, (i) =>
          durable.client.set(keyOf(setKeys[i] as number), valueFor(setKeys[i] as number, i + 1), 'PX', TTL),
        ),
      );
      add(
        'Redis (default, not durable)',
        'set',
        await timeOps(SETS, (i) =>
          plain.client.set(keyOf(setKeys[i] as number), valueFor(setKeys[i] as number, i + 1), 'PX', TTL),
        ),
      );
      for (const [k, v] of last)
        check((await durable.client.get(keyOf(k))) === valueFor(k, v), 'Redis kept the last set');
    } finally {
      await plain.stop();
      await durable.stop();
    }

    // lru-cache, in process.
    const lru = new LRUCache<string, string>({ max: 2 * N, ttl: TTL });
    for (let i = 0; i < N; i++) lru.set(keyOf(i), valueFor(i));
    add(
      'lru-cache',
      'get hit',
      await timeOps(GETS, (i) => {
        const k = hits[i] as number;
        if (lru.get(keyOf(k)) !== valueFor(k)) throw new Error('wrong value');
      }),
    );
    add(
      'lru-cache',
      'get miss',
      await timeOps(GETS, (i) => {
        if (lru.get(keyOf(misses[i] as number)) !== undefined) throw new Error('hit on a missing key');
      }),
    );
    add(
      'lru-cache (not durable)',
      'set',
      await timeOps(SETS, (i) => {
        lru.set(keyOf(setKeys[i] as number), valueFor(setKeys[i] as number, i + 1), { ttl: TTL });
      }),
    );

    const ours = (op: string) => results.find((r) => r.system === 'ProtoBase' && r.op === op) as Result;
    const markdown = [
      '## ProtoBase as a cache (CACHE)',
      '',
      machineLine(host),
      '',
      `${fmt(N)} keys with a TTL, values of 100 B, one request at a time; ${fmt(GETS)} gets, ${fmt(SETS)} sets. ProtoBase: \`ExpiringCache\` on the WAL backend (a get is a read-only transaction; a set is a durable commit).`,
      '',
      table(
        ['op', 'system', 'ops/s', 'p50 µs', 'p99 µs', 'ProtoBase ÷ this (ops/s)'],
        results.map((r) => {
          const base = r.op === 'set' ? ours('durable set') : ours(r.op);
          return [
            r.op,
            r.system,
            fmt(r.opsPerSec),
            fmt(r.p50us, 1),
            fmt(r.p99us, 1),
            r.system === 'ProtoBase' ? '-' : ratio(base.opsPerSec, r.opsPerSec),
          ];
        }),
      ),
      '',
      'Targets: get ≥ 10× Redis, durable set ≥ 1.0× Redis `appendfsync always`, get ≥ 0.5× lru-cache.',
      '',
      `Load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(', ')}. All result checks passed.`,
    ].join('\n');
    console.log(`\n${markdown}`);
    const { ratios, notMeasured } = targetsFor(results);
    console.log(
      `\nresults: ${writeResults('cache', { machine: host, results, ratios, notMeasured }, markdown)}`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
