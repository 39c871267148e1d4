/**
 * Query benchmarks of `@proto/query` beside plain arrays, better-sqlite3 and lokijs
 * (BENCHMARKS.md: IDX-AND-RANGE, IDX-PK, IDX-BUILD, QUERY-5).
 *
 * - IDX-AND-RANGE: `category == c AND status == s AND lo < value < hi` over N records with
 *   indexes on category, status and value (C=50, S=20, window 100; and C=500, S=100, window
 *   500). Paths: the indexed plan, a linear scan (the same query on the collection without
 *   indexes), a plain array filter, better-sqlite3 with the same three indexes, lokijs with
 *   binary indices.
 * - IDX-PK: equality on the unique uuid field `id` through the query API, beside a `Map`,
 *   better-sqlite3 (unique index) and lokijs (unique index).
 * - IDX-BUILD: building each index (id unique, category, value) over an existing collection,
 *   and the cost of keeping all three current during a committed batch of 10,000 upserts,
 *   beside better-sqlite3 (CREATE INDEX; the same batch with and without the indexes).
 * - QUERY-5: five pipelines over users, beside plain arrays and better-sqlite3 SQL.
 *
 * Every query's result is checked against the plain-array result (a fast wrong answer fails
 * the run). Latencies are per query (p50/p95, µs); ratios are peer time / our time (higher is
 * better for us), from medians.
 *
 *   cd apps/bench && node --import tsx src/query.ts [--full]
 *
 * Options: --full (adds N = 1M), --sizes=10000,100000, --only=idx,pk,build,q5, --queries=N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { and, field, from, IndexedCollection } from '@proto/query';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import Database from 'better-sqlite3';
import Loki from 'lokijs';
import { measuredBuild } from './fixtures/built.js';
import { sizeForTarget, TargetLog } from './fixtures/ratios.js';
import { writeResults } from './fixtures/timing.js';

// --- options, PRNG, timing, reporting --------------------------------------------------

const argv = process.argv.slice(2);
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const FULL = argv.includes('--full');
const SIZES = opt('sizes')?.split(',').map(Number) ?? [10_000, 100_000, ...(FULL ? [1_000_000] : [])];
const Q5_SIZES = opt('sizes')?.split(',').map(Number) ?? [
  10_000,
  50_000,
  100_000,
  ...(FULL ? [1_000_000] : []),
];
const ONLY = new Set(opt('only')?.split(',') ?? ['idx', 'pk', 'build', 'q5']);
const QUERIES = Number(opt('queries') ?? 400);

/** mulberry32: a small seeded PRNG, identical for every system. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(rnd: () => number): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += Math.floor(rnd() * 16).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

interface Stats {
  /** µs per query. */
  readonly p50: number;
  readonly p95: number;
  readonly qps: number;
}

/** Runs `run(i)` for i = 0..n-1, timing each call; `rounds` passes, the best pass reported. */
function measure(n: number, run: (i: number) => void, rounds = 3): Stats {
  let best: Stats | undefined;
  for (let r = 0; r < rounds; r++) {
    const times = new Array<number>(n);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      run(i);
      times[i] = (performance.now() - s) * 1000;
    }
    const total = performance.now() - t0;
    times.sort((a, b) => a - b);
    const stats = { p50: percentile(times, 0.5), p95: percentile(times, 0.95), qps: (n / total) * 1000 };
    if (best === undefined || stats.p50 < best.p50) best = stats;
  }
  return best as Stats;
}

function fmt(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Peer time ÷ our time (higher is better for us). */
function ratio(peer: number, ours: number): string {
  return `${(peer / ours).toFixed(2)}×`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`result check failed: ${message}`);
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

const out: string[] = [];
const json: Record<string, unknown> = {};
function print(text: string): void {
  console.log(text);
  out.push(text);
}

/**
 * Where a workload records its targets at the size the card names (or the largest size run):
 * passed only to that size's run. `offCard` goes into each target when the card's size did not run.
 */
interface AtTargetSize {
  readonly log: TargetLog;
  readonly offCard: { readonly cardSize?: number };
}

/** `peer p50 ÷ our p50` (our speed ÷ the peer's) with both latencies as the detail. */
function recordLatencyRatio(
  at: AtTargetSize,
  workload: string,
  name: string,
  atLeast: number,
  ours: Stats,
  peer: Stats,
): void {
  at.log.add(
    { workload, name, target: { atLeast }, ...at.offCard },
    peer.p50 / ours.p50,
    `p50 ${fmt(peer.p50, 2)} µs (peer) ÷ ${fmt(ours.p50, 2)} µs (ProtoBase)`,
  );
}

// --- IDX-AND-RANGE / IDX-PK / IDX-BUILD data ---------------------------------------------

interface Item {
  readonly id: string;
  readonly name: string;
  readonly value: number;
  readonly category: string;
  readonly status: string;
  readonly tags: readonly string[];
}

function items(n: number, categories: number, statuses: number, seed = 42): Item[] {
  const rnd = prng(seed);
  const out: Item[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const nt = 1 + Math.floor(rnd() * 5);
    const tags: string[] = [];
    for (let t = 0; t < nt; t++) tags.push(`tag${Math.floor(rnd() * 20)}`);
    out[i] = {
      id: uuid(rnd),
      name: `Item-${i}`,
      value: 1 + Math.floor(rnd() * 100_000),
      category: `cat-${Math.floor(rnd() * categories)}`,
      status: `st-${Math.floor(rnd() * statuses)}`,
      tags,
    };
  }
  return out;
}

async function commitAndRead<T>(name: string, value: unknown): Promise<{ space: ObjectSpace; value: T }> {
  const space = await ObjectSpace.open(await openMemoryBackend({ location: createMemoryLocation() }));
  const db = space.database('bench');
  await db.transact((tx) => tx.set(name, value));
  const tx = db.begin({ readOnly: true });
  return { space, value: tx.get<T>(name) as T };
}

function sqliteItems(
  dir: string,
  data: readonly Item[],
  indexes: boolean,
  composite = false,
): Database.Database {
  const db = new Database(join(dir, `items-${data.length}-${Math.random().toString(36).slice(2)}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('cache_size = -262144');
  // `name` is the collection's primary key on our side: a unique index here too.
  db.exec(
    'CREATE TABLE items (rid INTEGER PRIMARY KEY, id TEXT, name TEXT UNIQUE, value INTEGER, category TEXT, status TEXT, tags TEXT)',
  );
  const insert = db.prepare(
    'INSERT INTO items (id, name, value, category, status, tags) VALUES (?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const r of data) insert.run(r.id, r.name, r.value, r.category, r.status, r.tags.join(','));
  })();
  if (indexes) {
    db.exec('CREATE UNIQUE INDEX items_id ON items(id)');
    db.exec('CREATE INDEX items_category ON items(category)');
    db.exec('CREATE INDEX items_status ON items(status)');
    db.exec('CREATE INDEX items_value ON items(value)');
    db.exec('ANALYZE');
  }
  if (composite) {
    db.exec('CREATE INDEX items_category_status_value ON items(category, status, value)');
    db.exec('ANALYZE');
  }
  return db;
}

function lokiItems(data: readonly Item[]): Collection<Item> {
  const db = new Loki('bench.db');
  const coll = db.addCollection<Item>('items', { indices: ['category', 'status', 'value'], unique: ['id'] });
  coll.insert(data.map((r) => ({ ...r })));
  return coll;
}

interface RangeQuery {
  readonly c: string;
  readonly s: string;
  readonly lo: number;
  readonly hi: number;
}

/** `category == c AND status == s AND lo < value < hi`. */
const rangeFilter = (q: RangeQuery) =>
  and(field('category').eq(q.c), field('status').eq(q.s), field('value').between(q.lo, q.hi, '()'));

async function idxAndRange(
  n: number,
  categories: number,
  statuses: number,
  window: number,
  dir: string,
  at: AtTargetSize | undefined,
): Promise<void> {
  const label = `IDX-AND-RANGE N=${n.toLocaleString('en-US')} C=${categories} S=${statuses} window=${window}`;
  const data = items(n, categories, statuses);
  const built = IndexedCollection.from<Item, string>(data, {
    key: 'name',
    indexes: { byCategory: 'category', byStatus: 'status', byValue: 'value' },
  });
  const { space, value: coll } = await commitAndRead<IndexedCollection<Item, string>>('items', built);
  const bare = coll.dropIndex('byCategory').dropIndex('byStatus').dropIndex('byValue');
  // The same records with one composite index instead (and SQLite likewise).
  const { space: compositeSpace, value: compositeColl } = await commitAndRead<
    IndexedCollection<Item, string>
  >(
    'items',
    IndexedCollection.from<Item, string>(data, {
      key: 'name',
      indexes: { byCategoryStatusValue: { paths: ['category', 'status', 'value'] } },
    }),
  );
  const sqlite = sqliteItems(dir, data, true);
  const sqliteComposite = sqliteItems(dir, data, false, true);
  const loki = lokiItems(data);
  const rnd = prng(7 + n + categories);
  const queries: RangeQuery[] = Array.from({ length: QUERIES }, () => {
    const lo = Math.floor(rnd() * (100_000 - window));
    return {
      c: `cat-${Math.floor(rnd() * categories)}`,
      s: `st-${Math.floor(rnd() * statuses)}`,
      lo,
      hi: lo + window,
    };
  });
  const stmt = sqlite.prepare(
    'SELECT id FROM items WHERE category = ? AND status = ? AND value > ? AND value < ?',
  );
  const ours = (q: RangeQuery) => from(coll).where(rangeFilter(q)).toArray();
  const composite = (q: RangeQuery) => from(compositeColl).where(rangeFilter(q)).toArray();
  const compositeStmt = sqliteComposite.prepare(
    'SELECT id FROM items WHERE category = ? AND status = ? AND value > ? AND value < ?',
  );
  const sqlComposite = (q: RangeQuery) => compositeStmt.all(q.c, q.s, q.lo, q.hi) as { id: string }[];
  const linear = (q: RangeQuery) => from(bare).where(rangeFilter(q)).toArray();
  const array = (q: RangeQuery) =>
    data.filter((r) => r.category === q.c && r.status === q.s && r.value > q.lo && r.value < q.hi);
  const sql = (q: RangeQuery) => stmt.all(q.c, q.s, q.lo, q.hi) as { id: string }[];
  // Loki uses one binary index per find: narrow by the value range first (integers, so the
  // inclusive $between [lo + 1, hi - 1] is the exclusive range), then filter the rest.
  const lk = (q: RangeQuery) =>
    loki
      .chain()
      .find({ value: { $between: [q.lo + 1, q.hi - 1] } })
      .find({ category: q.c })
      .find({ status: q.s })
      .data();
  // Correctness: every system returns the plain array's rows for every query.
  let matched = 0;
  const checked: [string, (q: RangeQuery) => readonly { readonly id: string }[]][] = [
    ['indexed plan', ours],
    ['better-sqlite3', sql],
    ['composite index', composite],
    ['better-sqlite3 (composite index)', sqlComposite],
    ['lokijs', lk],
  ];
  for (const q of queries) {
    const expected = array(q).map((r) => r.id);
    matched += expected.length;
    for (const [name, run] of checked)
      check(
        sameIds(
          run(q).map((r) => r.id),
          expected,
        ),
        `${label}: ${name}`,
      );
  }
  for (const q of queries.slice(0, 20))
    check(
      sameIds(
        linear(q).map((r) => r.id),
        array(q).map((r) => r.id),
      ),
      `${label}: linear`,
    );
  const nq = queries.length;
  const few = Math.max(10, Math.min(nq, Math.round(2_000_000 / n)));
  const r = {
    indexed: measure(nq, (i) => ours(queries[i] as RangeQuery)),
    linear: measure(few, (i) => linear(queries[i] as RangeQuery), 1),
    array: measure(few, (i) => array(queries[i] as RangeQuery), 2),
    sqlite: measure(nq, (i) => sql(queries[i] as RangeQuery)),
    loki: measure(nq, (i) => lk(queries[i] as RangeQuery)),
    composite: measure(nq, (i) => composite(queries[i] as RangeQuery)),
    sqliteComposite: measure(nq, (i) => sqlComposite(queries[i] as RangeQuery)),
  };
  const compositePlan = from(compositeColl)
    .where(rangeFilter({ c: 'cat-1', s: 'st-1', lo: 5000, hi: 5000 + window }))
    .explain().text;
  const plan = from(coll)
    .where(rangeFilter({ c: 'cat-1', s: 'st-1', lo: 5000, hi: 5000 + window }))
    .explain().text;
  growthPoints.push({
    workload: `IDX-AND-RANGE C=${categories} S=${statuses} window=${window}`,
    n,
    p50: r.indexed.p50,
  });
  growthPoints.push({
    workload: `IDX-AND-RANGE composite C=${categories} S=${statuses} window=${window}`,
    n,
    p50: r.composite.p50,
  });
  print(
    `\n### ${label}\n\nAverage rows per query: ${fmt(matched / nq, 2)}. Plan with the three single-field indexes, then with the composite index:\n\n\`\`\`\n${plan}\n\n${compositePlan}\n\`\`\`\n`,
  );
  const row = (name: string, x: Stats) => [
    name,
    fmt(x.p50),
    fmt(x.p95),
    fmt(x.qps, 0),
    ratio(x.p50, r.indexed.p50),
    ratio(r.indexed.qps, x.qps),
  ];
  print(
    table(
      ['system', 'p50 µs', 'p95 µs', 'qps', 'ours vs it (p50)', 'ours vs it (qps)'],
      [
        row('ProtoBase indexed plan', r.indexed),
        row('ProtoBase composite index', r.composite),
        row('ProtoBase linear scan', r.linear),
        row('plain array filter', r.array),
        row('better-sqlite3 (3 indexes)', r.sqlite),
        row('better-sqlite3 (composite index)', r.sqliteComposite),
        row('lokijs (binary indices)', r.loki),
      ],
    ),
  );
  json[label] = r;
  if (at !== undefined) {
    const shape = `N = ${fmt(n, 0)}, C = ${categories}, S = ${statuses}, window ${window}`;
    recordLatencyRatio(
      at,
      'IDX-AND-RANGE',
      `${shape}: indexed plan ÷ better-sqlite3 (3 indexes)`,
      1,
      r.indexed,
      r.sqlite,
    );
    recordLatencyRatio(at, 'IDX-AND-RANGE', `${shape}: indexed plan ÷ linear scan`, 10, r.indexed, r.linear);
    recordLatencyRatio(
      at,
      'IDX-AND-RANGE',
      `${shape}: indexed plan ÷ lokijs (binary indices)`,
      2,
      r.indexed,
      r.loki,
    );
    recordLatencyRatio(
      at,
      'IDX-AND-RANGE',
      `${shape}: composite index ÷ better-sqlite3 (composite index)`,
      1,
      r.composite,
      r.sqliteComposite,
    );
    recordLatencyRatio(
      at,
      'IDX-AND-RANGE',
      `${shape}: composite index ÷ lokijs (binary indices)`,
      2,
      r.composite,
      r.loki,
    );
  }
  sqlite.close();
  sqliteComposite.close();
  await space.close();
  await compositeSpace.close();
}

async function idxPk(n: number, dir: string, at: AtTargetSize | undefined): Promise<void> {
  const label = `IDX-PK N=${n.toLocaleString('en-US')}`;
  const data = items(n, 50, 20);
  const built = IndexedCollection.from<Item, string>(data, {
    key: 'name',
    indexes: { byId: { path: 'id', unique: true } },
  });
  const { space, value: coll } = await commitAndRead<IndexedCollection<Item, string>>('items', built);
  const sqlite = sqliteItems(dir, data, true);
  const loki = lokiItems(data);
  const map = new Map(data.map((r) => [r.id, r]));
  const rnd = prng(99);
  const keys = Array.from({ length: QUERIES * 10 }, () => (data[Math.floor(rnd() * n)] as Item).id);
  const stmt = sqlite.prepare('SELECT * FROM items WHERE id = ?');
  const ours = (k: string) => from(coll).where('id', '=', k).first();
  for (const k of keys.slice(0, 1000)) {
    check(ours(k)?.id === k, `${label}: ours`);
    check((stmt.get(k) as Item | undefined)?.id === k, `${label}: sqlite`);
    check(loki.by('id', k)?.id === k, `${label}: loki`);
  }
  const nk = keys.length;
  const r = {
    ours: measure(nk, (i) => ours(keys[i] as string)),
    map: measure(nk, (i) => map.get(keys[i] as string)),
    sqlite: measure(nk, (i) => stmt.get(keys[i] as string)),
    loki: measure(nk, (i) => loki.by('id', keys[i] as string)),
  };
  growthPoints.push({ workload: 'IDX-PK', n, p50: r.ours.p50 });
  print(
    `\n### ${label}\n\nPlan: \`${from(coll).where('id', '=', 'x').explain().text.replaceAll('\n', ' / ')}\`\n`,
  );
  const row = (name: string, x: Stats) => [
    name,
    fmt(x.p50, 2),
    fmt(x.p95, 2),
    fmt(x.qps, 0),
    ratio(x.p50, r.ours.p50),
    ratio(r.ours.qps, x.qps),
  ];
  print(
    table(
      ['system', 'p50 µs', 'p95 µs', 'qps', 'ours vs it (p50)', 'ours vs it (qps)'],
      [
        row('ProtoBase from().where(id =).first()', r.ours),
        row('native Map.get', r.map),
        row('better-sqlite3 prepared select', r.sqlite),
        row('lokijs by(unique)', r.loki),
      ],
    ),
  );
  json[label] = r;
  if (at !== undefined)
    recordLatencyRatio(
      at,
      'IDX-PK',
      `N = ${fmt(n, 0)}: from().where(id =).first() ÷ better-sqlite3 prepared select`,
      1,
      r.ours,
      r.sqlite,
    );
  sqlite.close();
  await space.close();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function idxBuild(n: number, dir: string, at: AtTargetSize | undefined): Promise<void> {
  const label = `IDX-BUILD N=${n.toLocaleString('en-US')}`;
  const data = items(n, 50, 20);
  const { space, value: coll } = await commitAndRead<IndexedCollection<Item, string>>(
    'items',
    IndexedCollection.from<Item, string>(data, { key: 'name' }),
  );
  const specs = [
    {
      name: 'id (unique)',
      create: (c: IndexedCollection<Item, string>) => c.createIndex('byId', { path: 'id', unique: true }),
      sql: 'CREATE UNIQUE INDEX ix ON items(id)',
    },
    {
      name: 'category (50 values)',
      create: (c: IndexedCollection<Item, string>) => c.createIndex('byCategory', 'category'),
      sql: 'CREATE INDEX ix ON items(category)',
    },
    {
      name: 'value (numeric)',
      create: (c: IndexedCollection<Item, string>) => c.createIndex('byValue', 'value'),
      sql: 'CREATE INDEX ix ON items(value)',
    },
  ];
  const rows: string[][] = [];
  const result: Record<string, unknown> = {};
  const sqlite = sqliteItems(dir, data, false);
  for (const spec of specs) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < 3; r++) {
      let t = performance.now();
      const indexed = spec.create(coll);
      ours.push(performance.now() - t);
      check(indexed.indexes()[0]?.entries === n, `${label}: ${spec.name} entries`);
      t = performance.now();
      sqlite.exec(spec.sql);
      theirs.push(performance.now() - t);
      sqlite.exec('DROP INDEX ix');
    }
    result[spec.name] = { oursMs: median(ours), sqliteMs: median(theirs) };
    at?.log.add(
      {
        workload: 'IDX-BUILD',
        name: `N = ${fmt(n, 0)}, index on ${spec.name}: ProtoBase ÷ better-sqlite3 CREATE INDEX`,
        target: { atLeast: 0.5 },
        ...at.offCard,
      },
      median(theirs) / median(ours),
      `${fmt(median(theirs))} ms (CREATE INDEX) ÷ ${fmt(median(ours))} ms (ProtoBase)`,
    );
    rows.push([
      spec.name,
      fmt(median(ours)),
      fmt(median(theirs)),
      ratio(median(theirs), median(ours)),
      median(ours) < 1000 ? 'yes' : 'NO',
    ]);
  }
  print(`\n### ${label}: building one index over an existing collection\n`);
  print(table(['index', 'ProtoBase ms', 'better-sqlite3 CREATE INDEX ms', 'ours vs it', 'under 1 s'], rows));

  // Keeping the three indexes current during a committed batch of 10,000 upserts.
  const batch = 10_000;
  const rnd = prng(5);
  const upserts: Item[] = Array.from({ length: batch }, (_, i) => {
    const existing = i % 2 === 0 ? (data[Math.floor(rnd() * n)] as Item) : undefined;
    return {
      id: existing?.id ?? uuid(rnd),
      name: existing?.name ?? `Item-new-${i}`,
      value: 1 + Math.floor(rnd() * 100_000),
      category: `cat-${Math.floor(rnd() * 50)}`,
      status: `st-${Math.floor(rnd() * 20)}`,
      tags: ['tag1'],
    };
  });
  const withIndexes = specs.reduce((c, s) => s.create(c), coll);
  const db = space.database('bench');
  await db.transact((tx) => tx.set('indexed', withIndexes));
  const timeBatch = async (root: string): Promise<number> => {
    const t = performance.now();
    await db.transact((tx) => {
      let c = tx.get<IndexedCollection<Item, string>>(root) as IndexedCollection<Item, string>;
      for (const u of upserts) c = c.put(u);
      tx.set(root, c);
    });
    return performance.now() - t;
  };
  const plainTimes: number[] = [];
  const indexedTimes: number[] = [];
  for (let r = 0; r < 3; r++) {
    await db.transact((tx) => {
      tx.set('items', coll);
      tx.set('indexed', withIndexes);
    });
    plainTimes.push(await timeBatch('items'));
    indexedTimes.push(await timeBatch('indexed'));
  }
  const after = db
    .begin({ readOnly: true })
    .get<IndexedCollection<Item, string>>('indexed') as IndexedCollection<Item, string>;
  const probe = upserts[upserts.length - 2] as Item;
  check(
    from(after).where('id', '=', probe.id).first()?.value === probe.value,
    `${label}: batch visible through the index`,
  );
  check(
    after.indexes().every((ix) => ix.entries === after.size),
    `${label}: index sizes after the batch`,
  );
  const sqlBatch = (indexes: boolean): number => {
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const s = sqliteItems(dir, data, indexes);
      s.pragma('synchronous = FULL');
      const up = s.prepare(
        'INSERT INTO items (id, name, value, category, status, tags) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      );
      const upd = s.prepare('UPDATE items SET value = ?, category = ?, status = ? WHERE name = ?');
      const t = performance.now();
      s.transaction(() => {
        for (const u of upserts) {
          if (upd.run(u.value, u.category, u.status, u.name).changes === 0)
            up.run(u.id, u.name, u.value, u.category, u.status, 'tag1');
        }
      })();
      times.push(performance.now() - t);
      s.close();
    }
    return median(times);
  };
  const sqlPlain = sqlBatch(false);
  const sqlIndexed = sqlBatch(true);
  print(
    `\n### ${label}: a committed batch of ${batch.toLocaleString('en-US')} upserts (half updates, half inserts)\n`,
  );
  print(
    table(
      ['system', 'no secondary index ms', 'with id, category, value ms', 'index overhead'],
      [
        [
          'ProtoBase (memory backend, one transaction)',
          fmt(median(plainTimes)),
          fmt(median(indexedTimes)),
          ratio(median(indexedTimes), median(plainTimes)),
        ],
        [
          'better-sqlite3 (one transaction, synchronous=FULL)',
          fmt(sqlPlain),
          fmt(sqlIndexed),
          ratio(sqlIndexed, sqlPlain),
        ],
      ],
    ),
  );
  result.batch = { oursPlain: median(plainTimes), oursIndexed: median(indexedTimes), sqlPlain, sqlIndexed };
  at?.log.add(
    {
      workload: 'IDX-BUILD',
      name: `index upkeep, N = ${fmt(n, 0)}, a committed batch of ${fmt(batch, 0)} upserts: ProtoBase with 3 indexes ÷ without (memory backend)`,
      target: { atMost: 3 },
      ...at.offCard,
    },
    median(indexedTimes) / median(plainTimes),
    `${fmt(median(indexedTimes))} ms ÷ ${fmt(median(plainTimes))} ms`,
  );
  json[label] = result;
  sqlite.close();
  await space.close();
}

// --- QUERY-5 --------------------------------------------------------------------------

interface User {
  readonly id: string;
  readonly first: string;
  readonly last: string;
  readonly age: number;
  readonly country: string;
  readonly status: 'active' | 'inactive';
  readonly email: string;
  readonly lastLogin: number;
  readonly score: number;
}

const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elena', 'Facundo', 'Gala', 'Hugo', 'Inés', 'Juan'];
const LAST = ['García', 'López', 'Pérez', 'Gómez', 'Díaz', 'Romero', 'Sosa', 'Torres', 'Ruiz', 'Vega'];
const COUNTRIES = ['ES', 'AR', 'MX', 'US', 'FR'];

function usersOf(n: number): User[] {
  const rnd = prng(1234);
  return Array.from({ length: n }, (_, i) => {
    const first = FIRST[Math.floor(rnd() * FIRST.length)] as string;
    const last = LAST[Math.floor(rnd() * LAST.length)] as string;
    return {
      id: `u-${i.toString().padStart(8, '0')}`,
      first,
      last,
      age: 10 + Math.floor(rnd() * 71),
      country: COUNTRIES[Math.floor(rnd() * COUNTRIES.length)] as string,
      status: rnd() < 0.5 ? 'active' : 'inactive',
      email: `${first}.${last}.${i}@example.com`.toLowerCase(),
      lastLogin: Math.floor(rnd() * 10_001),
      score: Math.round(rnd() * 1e6) / 100,
    };
  });
}

interface Pipeline {
  readonly name: string;
  readonly ours: () => unknown;
  readonly array: () => unknown;
  readonly sql: () => unknown;
  readonly same: (a: unknown, b: unknown) => boolean;
  readonly plan: () => string;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameSet(a: unknown, b: unknown): boolean {
  return sameIds(a as string[], b as string[]);
}

function sameGroups(a: unknown, b: unknown): boolean {
  const x = a as { key: string; n: number; avgAge: number }[];
  const y = b as { key: string; n: number; avgAge: number }[];
  return (
    x.length === y.length &&
    x.every(
      (g, i) => g.key === y[i]?.key && g.n === y[i]?.n && Math.abs(g.avgAge - (y[i]?.avgAge ?? 0)) < 1e-9,
    )
  );
}

async function query5(n: number, dir: string, at: AtTargetSize | undefined): Promise<void> {
  const label = `QUERY-5 N=${n.toLocaleString('en-US')}`;
  const users = usersOf(n);
  const built = IndexedCollection.from<User, string>(users, {
    key: 'id',
    indexes: {
      byAge: 'age',
      byCountry: 'country',
      byStatus: 'status',
      byLastLogin: 'lastLogin',
      byEmail: 'email',
    },
  });
  const { space, value: coll } = await commitAndRead<IndexedCollection<User, string>>('users', built);
  const sqlite = new Database(join(dir, `users-${n}.db`));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('cache_size = -262144');
  sqlite.exec(
    'CREATE TABLE users (id TEXT PRIMARY KEY, first TEXT, last TEXT, age INTEGER, country TEXT, status TEXT, email TEXT, lastLogin INTEGER, score REAL)',
  );
  const ins = sqlite.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  sqlite.transaction(() => {
    for (const u of users)
      ins.run(u.id, u.first, u.last, u.age, u.country, u.status, u.email, u.lastLogin, u.score);
  })();
  for (const c of ['age', 'country', 'status', 'lastLogin', 'email'])
    sqlite.exec(`CREATE INDEX users_${c} ON users(${c})`);
  sqlite.exec('ANALYZE');
  const q1 = sqlite.prepare(
    "SELECT id, first || ' ' || last AS name FROM users WHERE age >= 18 AND country IN ('ES', 'AR') ORDER BY lastLogin DESC, id ASC LIMIT 50",
  );
  const q2 = sqlite.prepare('SELECT DISTINCT email FROM users').pluck();
  const q3 = sqlite.prepare("SELECT COUNT(*) FROM users WHERE status = 'active'").pluck();
  const q4 = sqlite.prepare('SELECT COUNT(*) FROM users WHERE age BETWEEN 30 AND 50').pluck();
  const q5 = sqlite.prepare(
    "SELECT country AS key, COUNT(*) AS n, AVG(age) AS avgAge FROM users WHERE status = 'active' GROUP BY country ORDER BY avgAge DESC LIMIT 10",
  );
  const p1 = () =>
    from(coll)
      .where('age', '>=', 18)
      .where('country', 'in', ['ES', 'AR'])
      .orderBy('lastLogin', 'desc')
      .select((u) => ({ id: u.id, name: `${u.first} ${u.last}` }))
      .limit(50);
  const p2 = () => from(coll).select('email').distinct();
  const p3 = () => from(coll).where('status', '=', 'active');
  const p4 = () => from(coll).where('age', 'between', [30, 50]);
  const p5 = () =>
    from(coll)
      .where('status', '=', 'active')
      .groupBy('country', (a) => ({ n: a.count(), avgAge: a.avg('age') }))
      .orderBy('avgAge', 'desc')
      .limit(10);
  const pipelines: Pipeline[] = [
    {
      name: '(1) age >= 18 AND country IN (ES, AR) ORDER BY lastLogin DESC, project, take 50',
      ours: () => p1().toArray(),
      array: () =>
        users
          .filter((u) => u.age >= 18 && (u.country === 'ES' || u.country === 'AR'))
          .sort((a, b) => b.lastLogin - a.lastLogin || (a.id < b.id ? -1 : 1))
          .slice(0, 50)
          .map((u) => ({ id: u.id, name: `${u.first} ${u.last}` })),
      sql: () => q1.all(),
      same: sameJson,
      plan: () => p1().explain().text,
    },
    {
      name: '(2) distinct emails',
      ours: () => p2().toArray(),
      array: () => [...new Set(users.map((u) => u.email))],
      sql: () => q2.all(),
      same: sameSet,
      plan: () => p2().explain().text,
    },
    {
      name: "(3) count status = 'active'",
      ours: () => p3().count(),
      array: () => {
        let c = 0;
        for (const u of users) if (u.status === 'active') c++;
        return c;
      },
      sql: () => q3.get(),
      same: (a, b) => a === b,
      plan: () => p3().explain({ count: true }).text,
    },
    {
      name: '(4) count age BETWEEN 30 AND 50',
      ours: () => p4().count(),
      array: () => {
        let c = 0;
        for (const u of users) if (u.age >= 30 && u.age <= 50) c++;
        return c;
      },
      sql: () => q4.get(),
      same: (a, b) => a === b,
      plan: () => p4().explain({ count: true }).text,
    },
    {
      name: '(5) active users GROUP BY country: count, avg(age); ORDER BY avg DESC, take 10',
      ours: () => p5().toArray(),
      array: () => {
        const groups = new Map<string, { key: string; n: number; sum: number }>();
        for (const u of users) {
          if (u.status !== 'active') continue;
          let g = groups.get(u.country);
          if (g === undefined) groups.set(u.country, (g = { key: u.country, n: 0, sum: 0 }));
          g.n++;
          g.sum += u.age;
        }
        return [...groups.values()]
          .map((g) => ({ key: g.key, n: g.n, avgAge: g.sum / g.n }))
          .sort((a, b) => b.avgAge - a.avgAge)
          .slice(0, 10);
      },
      sql: () => q5.all(),
      same: sameGroups,
      plan: () => p5().explain().text,
    },
  ];
  print(`\n### ${label}\n`);
  const rows: string[][] = [];
  const result: Record<string, unknown> = {};
  for (const p of pipelines) {
    const expected = p.array();
    check(p.same(p.ours(), expected), `${label} ${p.name}: ours`);
    check(p.same(p.sql(), expected), `${label} ${p.name}: better-sqlite3`);
    const iterations = Math.max(20, Math.min(2000, Math.round(5_000_000 / n)));
    const ours = measure(iterations, () => p.ours());
    const array = measure(iterations, () => p.array());
    const sql = measure(iterations, () => p.sql());
    const vsSql = sql.p50 / ours.p50;
    const vsArray = array.p50 / ours.p50;
    result[p.name] = { ours, array, sql };
    if (at !== undefined) {
      recordLatencyRatio(
        at,
        'QUERY-5',
        `N = ${fmt(n, 0)}, ${p.name}: ProtoBase ÷ better-sqlite3`,
        1,
        ours,
        sql,
      );
      recordLatencyRatio(
        at,
        'QUERY-5',
        `N = ${fmt(n, 0)}, ${p.name}: ProtoBase ÷ plain arrays`,
        0.5,
        ours,
        array,
      );
    }
    rows.push([
      p.name,
      fmt(ours.p50),
      fmt(ours.p95),
      fmt(array.p50),
      fmt(sql.p50),
      ratio(array.p50, ours.p50),
      ratio(sql.p50, ours.p50),
      vsSql >= 1 || vsArray >= 0.5 ? 'yes' : 'NO',
    ]);
    print(`${p.name}:\n\n\`\`\`\n${p.plan()}\n\`\`\`\n`);
  }
  print(
    table(
      [
        'pipeline',
        'ours p50 µs',
        'ours p95 µs',
        'arrays p50 µs',
        'sqlite p50 µs',
        'vs arrays',
        'vs sqlite',
        'target met',
      ],
      rows,
    ),
  );
  json[label] = result;
  sqlite.close();
  await space.close();
}

// --- main -------------------------------------------------------------------------------

/** p50 of our indexed queries per workload and size, for the growth table. */
const growthPoints: { workload: string; n: number; p50: number }[] = [];

/** How the p50 of our indexed queries grows from the smallest size to the largest (target: at most 3× from 10k to 1M). */
function printGrowth(): void {
  const rows: string[][] = [];
  for (const workload of new Set(growthPoints.map((g) => g.workload))) {
    const points = growthPoints.filter((g) => g.workload === workload).sort((a, b) => a.n - b.n);
    if (points.length < 2) continue;
    const small = points[0] as (typeof points)[number];
    const large = points[points.length - 1] as (typeof points)[number];
    rows.push([workload, fmt(small.p50, 1), fmt(large.p50, 1), `${fmt(large.p50 / small.p50, 2)}×`]);
  }
  if (rows.length === 0) return;
  const first = Math.min(...growthPoints.map((g) => g.n));
  const last = Math.max(...growthPoints.map((g) => g.n));
  const size = (n: number) => fmt(n, 0);
  print(
    `\n### Growth N = ${size(first)} → ${size(last)} (p50 per query, larger ÷ smaller; lower is better)\n`,
  );
  print(table(['workload', `p50 µs at ${size(first)}`, `p50 µs at ${size(last)}`, 'growth'], rows));
}

/** The sizes the card's targets name: IDX-* at 100k, QUERY-5 at 50k. */
const CARD_IDX_N = 100_000;
const CARD_Q5_N = 50_000;

async function main(): Promise<void> {
  measuredBuild();
  const dir = mkdtempSync(join(tmpdir(), 'proto-bench-query-'));
  const log = new TargetLog();
  const idxSize = sizeForTarget(CARD_IDX_N, SIZES);
  const q5Size = sizeForTarget(CARD_Q5_N, Q5_SIZES);
  const atIdx = (n: number) => (n === idxSize.n ? { log, offCard: idxSize.offCard } : undefined);
  try {
    print('# Query benchmarks (`apps/bench/src/query.ts`)\n');
    print(
      `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Ratios: peer time ÷ ours (higher is better for us). Latencies in µs per query.`,
    );
    for (const n of SIZES) {
      if (ONLY.has('idx')) {
        await idxAndRange(n, 50, 20, 100, dir, atIdx(n));
        await idxAndRange(n, 500, 100, 500, dir, atIdx(n));
      }
      if (ONLY.has('pk')) await idxPk(n, dir, atIdx(n));
      if (ONLY.has('build')) await idxBuild(n, dir, atIdx(n));
    }
    printGrowth();
    if (ONLY.has('q5'))
      for (const n of Q5_SIZES)
        await query5(n, dir, n === q5Size.n ? { log, offCard: q5Size.offCard } : undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [shape, text] of [
    ['C=50 S=20 window=100', 'C = 50, S = 20, window 100'],
    ['C=500 S=100 window=500', 'C = 500, S = 100, window 500'],
  ] as const) {
    const points = growthPoints.filter((g) => g.workload === `IDX-AND-RANGE composite ${shape}`);
    const small = points.find((g) => g.n === 10_000);
    const large = points.find((g) => g.n === 1_000_000);
    const spec = {
      workload: 'IDX-AND-RANGE',
      name: `growth N = 10,000 → 1,000,000 with a composite index, ${text} (p50 per query, larger ÷ smaller)`,
      target: { atMost: 3 },
    };
    if (small === undefined || large === undefined) log.skip(spec, 'needs N = 10,000 and 1,000,000 (--full)');
    else log.add(spec, large.p50 / small.p50, `${fmt(large.p50, 2)} µs ÷ ${fmt(small.p50, 2)} µs`);
  }
  const { ratios, notMeasured } = log;
  writeResults('query', { ...json, ratios, notMeasured }, out.join('\n'));
}

await main();
