/**
 * ANN: k-nearest-neighbour search over N vectors of dimension 128 (BENCHMARKS.md), ProtoBase's
 * `@proto/vector` (exact and IVF-Flat at several nprobe, through `from(c).nearest(...)`) against
 * hnswlib-node (brute force, and HNSW with M 16, efConstruction 200, efSearch 16/64/128), one
 * query at a time, on two data sets from one seed: `random` (standard normal, normalized) and
 * `clustered` (1,000 standard normal centres, each point a centre plus N(0, 0.35²) per
 * component, normalized). Cosine, k = 10, 100 queries drawn from the data. Reports p50/p95
 * latency, QPS, build time, memory and recall@10 against exact; the exact rows are checked
 * against a plain brute force. Filtered variant: kNN among records of a category filter with
 * selectivity 1%, 10% and 50% (ProtoBase's planner choosing pre-filtering or an iterative IVF
 * scan; hnswlib-node HNSW with its filter callback; exact distances over the filter's
 * candidates as the baseline).
 *
 *   cd apps/bench && node --import tsx --expose-gc src/ann.ts
 *
 * Options: --sizes=20000,100000  --sets=clustered,random  --queries=100  --no-hnsw
 */
import { createRequire } from 'node:module';
import { from, IndexedCollection } from '@proto/query';
import { activeKernels, residentBytes, unrolledKernels, useKernels, vectorIndex } from '@proto/vector';
import { sizeForTarget, TargetLog } from './fixtures/ratios.js';
import {
  check,
  collectGarbage,
  fmt,
  machine,
  machineLine,
  percentile,
  ratio,
  round,
  table,
  writeResults,
} from './fixtures/timing.js';

const DIM = 128;
const K = 10;

interface Row {
  readonly id: number;
  readonly category: number;
  readonly embedding: readonly number[];
}

interface Hnsw {
  initIndex(maxElements: number, m?: number, efConstruction?: number, seed?: number): void;
  setEf(ef: number): void;
  addPoint(point: number[], label: number): void;
  searchKnn(query: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[] };
}
interface Brute {
  initIndex(maxElements: number): void;
  addPoint(point: number[], label: number): void;
  searchKnn(query: number[], k: number): { neighbors: number[] };
}
interface HnswLib {
  HierarchicalNSW: new (space: 'cosine', dim: number) => Hnsw;
  BruteforceSearch: new (space: 'cosine', dim: number) => Brute;
}

/** hnswlib-node, loaded only here (a native addon built at install). */
function loadHnswlib(): HnswLib {
  return createRequire(import.meta.url)('hnswlib-node') as HnswLib;
}

function args() {
  const argv = process.argv.slice(2);
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    sizes: (value('sizes') ?? '20000,100000').split(',').map(Number),
    sets: (value('sets') ?? 'clustered,random').split(',') as ('clustered' | 'random')[],
    queries: Number(value('queries') ?? 100),
    hnsw: !argv.includes('--no-hnsw'),
  };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(u: () => number): () => number {
  return () => {
    let x = 0;
    while (x === 0) x = u();
    return Math.sqrt(-2 * Math.log(x)) * Math.cos(2 * Math.PI * u());
  };
}

function normalized(v: Float64Array): number[] {
  let s = 0;
  for (const x of v) s += x * x;
  const f = 1 / Math.sqrt(s);
  return Array.from(v, (x) => Math.fround(x * f));
}

/** The data set `name` of `n` points from seed 1 (categories uniform over 0..99). */
function dataset(name: 'clustered' | 'random', n: number): Row[] {
  const u = mulberry32(1);
  const g = normal(u);
  const centres =
    name === 'clustered' ? Array.from({ length: 1000 }, () => Float64Array.from({ length: DIM }, g)) : [];
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float64Array(DIM);
    if (name === 'clustered') {
      const c = centres[Math.floor(u() * 1000)] as Float64Array;
      for (let j = 0; j < DIM; j++) v[j] = (c[j] as number) + 0.35 * g();
    } else for (let j = 0; j < DIM; j++) v[j] = g();
    rows.push({ id: i, category: Math.floor(u() * 100), embedding: normalized(v) });
  }
  return rows;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return 1 - d / Math.sqrt(na * nb);
}

/** Plain brute force over `rows` (ties by id). */
function bruteForce(rows: readonly Row[], q: readonly number[], k: number): number[] {
  const scored = rows.map((r) => ({ id: r.id, d: cosine(q, r.embedding) }));
  scored.sort((a, b) => a.d - b.d || a.id - b.id);
  return scored.slice(0, k).map((s) => s.id);
}

function recallOf(found: readonly number[][], truth: readonly number[][]): number {
  let hit = 0;
  let total = 0;
  found.forEach((f, i) => {
    const t = new Set(truth[i]);
    total += t.size;
    for (const id of f) if (t.has(id)) hit++;
  });
  return total === 0 ? 1 : hit / total;
}

interface Measured {
  readonly system: string;
  readonly p50: number;
  readonly p95: number;
  readonly qps: number;
  readonly recall: number;
  readonly buildMs?: number;
  readonly memoryMiB?: number;
}

function timeQueries(queries: readonly (readonly number[])[], run: (q: readonly number[]) => number[]) {
  for (let i = 0; i < Math.min(5, queries.length); i++) run(queries[i] as readonly number[]); // warm-up
  const latencies: number[] = [];
  const results: number[][] = [];
  const start = performance.now();
  for (const q of queries) {
    const t = performance.now();
    results.push(run(q));
    latencies.push(performance.now() - t);
  }
  const total = performance.now() - start;
  return {
    results,
    p50: round(percentile(latencies, 0.5), 3),
    p95: round(percentile(latencies, 0.95), 3),
    qps: round((queries.length / total) * 1000, 0),
  };
}

function heapMiB(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external + residentBytes()) / 2 ** 20;
}

type Items = IndexedCollection<Row, number>;

function main(): void {
  const options = args();
  const hnswlib = options.hnsw ? loadHnswlib() : undefined;
  const m = machine(process.cwd());
  // The card's ANN targets are at N = 100,000 (or the largest size run).
  const log = new TargetLog();
  const { n: targetN, offCard } = sizeForTarget(100_000, options.sizes);
  const noHnsw = 'hnswlib-node not run (--no-hnsw)';
  for (const set of ['clustered', 'random'] as const) {
    if (options.sets.includes(set)) continue;
    log.skip(
      { workload: 'ANN', name: `${set}: every target of this data set`, target: {} },
      `data set ${set} not in this run (--sets)`,
    );
  }
  const json: unknown[] = [];
  const out: string[] = [`# ANN (dim ${DIM}, k ${K}, cosine, one query at a time)`, '', machineLine(m), ''];
  console.log(out.join('\n'));
  for (const n of options.sizes) {
    for (const set of options.sets) {
      const rows = dataset(set, n);
      const pick = mulberry32(7);
      const queries = Array.from(
        { length: options.queries },
        () => (rows[Math.floor(pick() * n)] as Row).embedding,
      );
      const truth = queries.map((q) => bruteForce(rows, q, K));
      const base = IndexedCollection.empty<Row, number>({ key: 'id' })
        .putAll(rows)
        .createIndex('byCategory', 'category');
      const measured: Measured[] = [];

      // Exact (a flat vector index).
      let before = heapMiB();
      let t = performance.now();
      const flat: Items = base.createIndex(
        'emb',
        vectorIndex({ path: 'embedding', dim: DIM, lists: 'none' }),
      );
      const flatBuild = performance.now() - t;
      const flatMemory = heapMiB() - before;
      const exact = timeQueries(queries, (q) =>
        from(flat)
          .nearest('embedding', q, { k: K })
          .toArray()
          .map((r) => r.key as number),
      );
      check(recallOf(exact.results, truth) === 1, `exact search equals brute force (${set}, ${n})`);
      measured.push({
        system: `ProtoBase exact (${activeKernels().name})`,
        ...exact,
        recall: 1,
        buildMs: flatBuild,
        memoryMiB: flatMemory,
      });
      // The same exact scan with the unrolled JS kernel, for the kernel comparison.
      {
        const saved = activeKernels();
        useKernels(unrolledKernels);
        const js = timeQueries(queries, (q) =>
          from(flat)
            .nearest('embedding', q, { k: K })
            .toArray()
            .map((r) => r.key as number),
        );
        useKernels(saved);
        measured.push({
          system: 'ProtoBase exact (unrolled JS)',
          ...js,
          recall: recallOf(js.results, truth),
        });
      }

      // IVF-Flat.
      before = heapMiB();
      t = performance.now();
      const ivf: Items = base.createIndex('emb', vectorIndex({ path: 'embedding', dim: DIM }));
      const ivfBuild = performance.now() - t;
      const ivfMemory = heapMiB() - before;
      const lists = ivf.indexes().find((ix) => ix.name === 'emb')?.keys ?? 0;
      const ivfRows: (Measured & { nprobe: number })[] = [];
      for (const nprobe of [1, 2, 4, 8, 16, 32, 64]) {
        if (nprobe > lists) break;
        const r = timeQueries(queries, (q) =>
          from(ivf)
            .nearest('embedding', q, { k: K, nprobe })
            .toArray()
            .map((x) => x.key as number),
        );
        const row = {
          system: `ProtoBase IVF-Flat nlist ${lists} nprobe ${nprobe}`,
          nprobe,
          ...r,
          recall: round(recallOf(r.results, truth), 3),
          ...(nprobe === 1 ? { buildMs: ivfBuild, memoryMiB: ivfMemory } : {}),
        };
        ivfRows.push(row);
        measured.push(row);
      }

      // hnswlib-node.
      const hnswRows: (Measured & { ef: number })[] = [];
      let hnswBuild = Number.NaN;
      let brute: Measured | undefined;
      let hnsw: Hnsw | undefined;
      if (hnswlib !== undefined) {
        before = heapMiB();
        const rss0 = process.memoryUsage().rss;
        t = performance.now();
        const bf = new hnswlib.BruteforceSearch('cosine', DIM);
        bf.initIndex(n);
        for (const r of rows) bf.addPoint(r.embedding as number[], r.id);
        const bfBuild = performance.now() - t;
        const bfMemory = (process.memoryUsage().rss - rss0) / 2 ** 20;
        const b = timeQueries(queries, (q) => bf.searchKnn(q as number[], K).neighbors);
        brute = {
          system: 'hnswlib-node brute force',
          ...b,
          recall: round(recallOf(b.results, truth), 3),
          buildMs: bfBuild,
          memoryMiB: bfMemory,
        };
        measured.push(brute);
        const rss1 = process.memoryUsage().rss;
        t = performance.now();
        hnsw = new hnswlib.HierarchicalNSW('cosine', DIM);
        hnsw.initIndex(n, 16, 200, 100);
        for (const r of rows) hnsw.addPoint(r.embedding as number[], r.id);
        hnswBuild = performance.now() - t;
        const hnswMemory = (process.memoryUsage().rss - rss1) / 2 ** 20;
        for (const ef of [16, 64, 128]) {
          hnsw.setEf(ef);
          const h = hnsw;
          const r = timeQueries(queries, (q) => h.searchKnn(q as number[], K).neighbors);
          const row = {
            system: `hnswlib-node HNSW M16 efC200 efSearch ${ef}`,
            ef,
            ...r,
            recall: round(recallOf(r.results, truth), 3),
            ...(ef === 16 ? { buildMs: hnswBuild, memoryMiB: hnswMemory } : {}),
          };
          hnswRows.push(row);
          measured.push(row);
        }
      }

      const heading = `## ${set}, N = ${fmt(n)}`;
      const text = [
        heading,
        '',
        table(
          ['system', 'p50 ms', 'p95 ms', 'QPS', 'recall@10', 'build ms', 'memory MiB'],
          measured.map((r) => [
            r.system,
            fmt(r.p50, 3),
            fmt(r.p95, 3),
            fmt(r.qps),
            fmt(r.recall, 3),
            r.buildMs === undefined ? '' : fmt(r.buildMs),
            r.memoryMiB === undefined ? '' : fmt(r.memoryMiB, 1),
          ]),
        ),
        '',
      ];
      // Ratios.
      const exactRow = measured[0] as Measured;
      const good = ivfRows.find((r) => r.recall >= 0.95);
      const lines: string[] = [];
      if (brute !== undefined)
        lines.push(
          `- exact vs hnswlib-node brute force: ${ratio(exactRow.qps, brute.qps)} by QPS, ${ratio(brute.p50, exactRow.p50)} by p50 (target ≥ 0.5×)`,
        );
      if (good !== undefined) {
        lines.push(
          `- IVF at recall ≥ 0.95 (nprobe ${good.nprobe}, recall ${good.recall}): ${ratio(good.qps, exactRow.qps)} exact QPS, ${ratio(exactRow.p50, good.p50)} by p50 (target ≥ 10×)`,
        );
        const equal = hnswRows.find((h) => h.recall >= good.recall);
        if (equal !== undefined)
          lines.push(
            `- at equal recall, HNSW efSearch ${equal.ef} (recall ${equal.recall}) vs IVF: ${ratio(equal.qps, good.qps)} IVF's QPS, ${ratio(good.p50, equal.p50)} by p50`,
          );
      } else lines.push('- no nprobe swept reached recall 0.95');
      if (Number.isFinite(hnswBuild))
        lines.push(`- IVF build ÷ HNSW build: ${ratio(ivfBuild, hnswBuild)} (target ≤ 0.5×)`);
      text.push(...lines, '');
      const at = n === targetN;
      const shape = `${set}, N = ${fmt(n)}`;
      if (at) {
        log.compare(
          {
            workload: 'ANN',
            ...offCard,
            name: `${shape}: ProtoBase exact ÷ hnswlib-node brute force, QPS`,
            target: { atLeast: 0.5 },
          },
          { value: exactRow.qps, text: `${fmt(exactRow.qps)} QPS` },
          brute === undefined ? undefined : { value: brute.qps, text: `${fmt(brute.qps)} QPS` },
          noHnsw,
        );
      }
      if (at && set === 'clustered') {
        log.add(
          {
            workload: 'ANN',
            ...offCard,
            name: `${shape}: IVF-Flat QPS at the first nprobe with recall@10 ≥ 0.95 ÷ exact QPS`,
            target: { atLeast: 10 },
          },
          good === undefined ? Number.NaN : good.qps / exactRow.qps,
          good === undefined
            ? `no nprobe up to ${ivfRows.at(-1)?.nprobe ?? 0} reached recall 0.95`
            : `nprobe ${good.nprobe}, recall ${fmt(good.recall, 3)}: ${fmt(good.qps)} QPS ÷ ${fmt(exactRow.qps)} QPS`,
        );
        const build = {
          workload: 'ANN',
          ...offCard,
          name: `${shape}: IVF-Flat build ÷ HNSW build (M 16, efConstruction 200), time`,
          target: { atMost: 0.5 },
        };
        if (Number.isFinite(hnswBuild))
          log.add(build, ivfBuild / hnswBuild, `${fmt(ivfBuild)} ms ÷ ${fmt(hnswBuild)} ms`);
        else log.skip(build, noHnsw);
      }

      // Filtered.
      const vectors = rows.map((r) => Float32Array.from(r.embedding));
      const filtered: string[][] = [];
      const filteredJson: unknown[] = [];
      for (const [label, below] of [
        ['1%', 1],
        ['10%', 10],
        ['50%', 50],
      ] as const) {
        const matching = rows.filter((r) => r.category < below);
        const ftruth = queries.map((q) => bruteForce(matching, q, K));
        const ours = timeQueries(queries, (q) =>
          from(ivf)
            .where('category', '<', below)
            .nearest('embedding', q, { k: K })
            .toArray()
            .map((x) => x.key as number),
        );
        const plan = from(ivf)
          .where('category', '<', below)
          .nearest('embedding', queries[0] as number[], { k: K })
          .explain().plan.node;
        // The baseline: the filter's candidates from the category index, then every distance.
        const kernels = activeKernels();
        const out = new Float64Array(1);
        const candidates = timeQueries(queries, (q) => {
          const qf = Float32Array.from(q);
          const found = from(ivf).where('category', '<', below).toArray();
          const scored = found.map((r) => {
            kernels.dot(qf, vectors[r.id] as Float32Array, 1, DIM, out);
            return { id: r.id, d: 1 - (out[0] as number) };
          });
          scored.sort((a, b) => a.d - b.d || a.id - b.id);
          return scored.slice(0, K).map((s) => s.id);
        });
        let peer: ReturnType<typeof timeQueries> | undefined;
        if (hnsw !== undefined) {
          hnsw.setEf(128);
          const h = hnsw;
          const byId = rows;
          peer = timeQueries(
            queries,
            (q) => h.searchKnn(q as number[], K, (id) => (byId[id] as Row).category < below).neighbors,
          );
        }
        const oursRecall = round(recallOf(ours.results, ftruth), 3);
        if (at) {
          log.add(
            {
              workload: 'ANN',
              ...offCard,
              name: `${shape}, filtered kNN at ${label} selectivity: ProtoBase recall@10`,
              target: { atLeast: 0.95 },
              unit: 'recall@10',
            },
            oursRecall,
            `plan ${plan}`,
          );
          log.add(
            {
              workload: 'ANN',
              ...offCard,
              name: `${shape}, filtered kNN at ${label} selectivity: exact over the filter's candidates ÷ ProtoBase, p50`,
              target: { atLeast: 1 },
            },
            candidates.p50 / ours.p50,
            `${fmt(candidates.p50, 3)} ms ÷ ${fmt(ours.p50, 3)} ms (${plan})`,
          );
        }
        filtered.push([
          label,
          plan,
          fmt(ours.p50, 3),
          fmt(ours.p95, 3),
          fmt(oursRecall, 3),
          fmt(candidates.p50, 3),
          peer === undefined ? 'n/a' : fmt(peer.p50, 3),
          peer === undefined ? 'n/a' : fmt(recallOf(peer.results, ftruth), 3),
        ]);
        filteredJson.push({
          selectivity: label,
          plan,
          ours: { ...ours, results: undefined, recall: oursRecall },
          candidates: { ...candidates, results: undefined },
          hnsw:
            peer === undefined
              ? undefined
              : { ...peer, results: undefined, recall: recallOf(peer.results, ftruth) },
        });
      }
      text.push(
        `Filtered (category filter; ProtoBase IVF index + ordered category index; hnswlib HNSW efSearch 128 with a filter callback):`,
        '',
        table(
          [
            'selectivity',
            'ProtoBase plan',
            'p50 ms',
            'p95 ms',
            'recall@10',
            'exact over candidates p50 ms',
            'HNSW+filter p50 ms',
            'HNSW+filter recall@10',
          ],
          filtered,
        ),
        '',
      );
      console.log(text.join('\n'));
      out.push(...text);
      json.push({
        set,
        n,
        measured: measured.map((r) => ({ ...r, results: undefined })),
        ivfBuild,
        hnswBuild,
        filtered: filteredJson,
      });
    }
  }
  const { ratios, notMeasured } = log;
  const file = writeResults('ann', { machine: m, results: json, ratios, notMeasured }, out.join('\n'));
  console.log(`results: ${file}`);
}

main();
