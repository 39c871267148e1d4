/**
 * The searches of a vector index: an exact scan of every block, exact distances over a filter's
 * candidates (pre-filtering), and the IVF scan of the nearest lists, which with a filter tests
 * it as it goes and keeps probing lists until k records match (an iterative scan). Results are
 * nearest first, ties by primary key; a filter is tested only for vectors that would enter the
 * current top k, so most vectors cost one distance and no record lookup.
 */
import { cursorOf, type Key } from '@proto/collections';
import type { NearestFilter, NearestHit, NearestSearch } from '@proto/query';
import { compareValues } from '@proto/query';
import { activeKernels } from './kernel-choice.js';
import type { VectorMetric } from './metric.js';
import { coarseOf, floatsOf, type StoredBlock, type VectorIndex } from './vector-index.js';

/** The k nearest seen so far, sorted ascending (distance, then key). */
export class TopK {
  readonly keys: Key[] = [];
  readonly distances: number[] = [];
  /** The distance a candidate must not exceed to enter (Infinity until full). */
  worst = Number.POSITIVE_INFINITY;
  constructor(readonly k: number) {}

  /** True when (distance, key) would enter. */
  admits(distance: number, key: Key): boolean {
    if (distance < this.worst) return true;
    if (distance > this.worst) return false;
    return compareValues(key, this.keys[this.k - 1]) < 0;
  }

  add(distance: number, key: Key): void {
    const keys = this.keys;
    const ds = this.distances;
    let i = ds.length;
    if (i === this.k) i--;
    // Shift larger entries right (the last one falls off when full).
    while (i > 0) {
      const d = ds[i - 1] as number;
      if (d < distance || (d === distance && compareValues(keys[i - 1], key) < 0)) break;
      if (i < this.k) {
        ds[i] = d;
        keys[i] = keys[i - 1] as Key;
      }
      i--;
    }
    ds[i] = distance;
    keys[i] = key;
    if (ds.length === this.k) this.worst = ds[this.k - 1] as number;
  }

  hits(): NearestHit[] {
    return this.keys.map((key, i) => ({ key, distance: this.distances[i] as number }));
  }
}

/** Per-search scratch for kernel output. */
function scratchFor(n: number, current: Float64Array | undefined): Float64Array {
  return current !== undefined && current.length >= n ? current : new Float64Array(Math.max(n, 64));
}

/** Scores one block into `top`; returns how many vectors were scored. */
function scoreBlock(
  block: StoredBlock,
  query: Float32Array,
  metric: VectorMetric,
  dim: number,
  out: Float64Array,
  top: TopK,
  filter: NearestFilter | undefined,
): number {
  const keys = block[0];
  const n = keys.length;
  const floats = floatsOf(block);
  const k = activeKernels();
  if (metric === 'euclidean') k.l2(query, floats, n, dim, out);
  else k.dot(query, floats, n, dim, out);
  // distance = sign · value + offset: 1 - dot (cosine), -dot (inner product), l2 (euclidean).
  const sign = metric === 'euclidean' ? 1 : -1;
  const offset = metric === 'cosine' ? 1 : 0;
  for (let i = 0; i < n; i++) {
    const d = sign * (out[i] as number) + offset;
    if (d > top.worst) continue;
    const key = keys[i] as Key;
    if (!top.admits(d, key)) continue;
    if (filter !== undefined && !filter.matches(key)) continue;
    top.add(d, key);
  }
  return n;
}

/** Every vector, exactly. */
export function exactScan(
  index: VectorIndex,
  query: Float32Array,
  k: number,
  filter: NearestFilter | undefined,
): NearestSearch {
  const top = new TopK(k);
  const out = scratchFor(index.capacity, undefined);
  let scored = 0;
  const c = cursorOf(index.blocks);
  while (c.next())
    scored += scoreBlock(c.value as StoredBlock, query, index.definition.metric, index.dim, out, top, filter);
  return { hits: top.hits(), scored };
}

/**
 * Exact distances over the filter's matching records, from the vectors they hold (the records
 * were checked when written): one fetch per candidate, as the filter's own plan reads them.
 */
export function prefilterScan(
  index: VectorIndex,
  query: Float32Array,
  k: number,
  filter: NearestFilter,
  vectorOf: (record: unknown) => unknown,
): NearestSearch {
  const top = new TopK(k);
  const dim = index.dim;
  const metric = index.definition.metric;
  let candidates = 0;
  let scored = 0;
  for (const [pk, record] of filter.records()) {
    candidates++;
    const v = vectorOf(record) as ArrayLike<number> | undefined | null;
    if (v === undefined || v === null || v.length !== dim) continue;
    let dot = 0;
    let norm = 0;
    let l2 = 0;
    if (metric === 'euclidean')
      for (let j = 0; j < dim; j++) {
        const x = (query[j] as number) - Math.fround(v[j] as number);
        l2 += x * x;
      }
    else
      for (let j = 0; j < dim; j++) {
        const x = Math.fround(v[j] as number);
        dot += (query[j] as number) * x;
        norm += x * x;
      }
    scored++;
    const d = metric === 'euclidean' ? l2 : metric === 'cosine' ? 1 - dot / Math.sqrt(norm) : -dot;
    if (top.admits(d, pk)) top.add(d, pk);
  }
  return { hits: top.hits(), scored, detail: `${candidates} candidates` };
}

/** The lists in order of their centroid's nearness to the query. */
export function listOrder(index: VectorIndex, query: Float32Array): Int32Array {
  const lists = index.lists;
  const order = new Int32Array(lists);
  for (let i = 0; i < lists; i++) order[i] = i;
  const c = index.centroids;
  if (c === undefined) return order;
  const score = new Float64Array(lists);
  const kernels = activeKernels();
  if (coarseOf(index.definition.metric) === 'l2') kernels.l2(query, c, lists, index.dim, score);
  else {
    kernels.dot(query, c, lists, index.dim, score);
    for (let i = 0; i < lists; i++) score[i] = -(score[i] as number);
  }
  return order.sort((a, b) => (score[a] as number) - (score[b] as number));
}

/**
 * The IVF scan: the `nprobe` nearest lists; with a filter, at least `minLists` and then more,
 * one at a time, until k records match (or every list was read).
 */
export function ivfScan(
  index: VectorIndex,
  query: Float32Array,
  k: number,
  nprobe: number,
  filter: NearestFilter | undefined,
  minLists: number,
): NearestSearch {
  const top = new TopK(k);
  const order = listOrder(index, query);
  const out = scratchFor(index.capacity, undefined);
  const lists = order.length;
  const want = filter === undefined ? Math.min(nprobe, lists) : Math.min(Math.max(nprobe, minLists), lists);
  let scored = 0;
  let probed = 0;
  // With a filter the scan goes on past `want` lists until k records match and the last
  // `nprobe` lists changed nothing in the top k (the matching neighbours can be spread wide).
  let changed = 0;
  while (probed < lists) {
    if (probed >= want && (filter === undefined || (top.keys.length >= k && probed - changed >= nprobe)))
      break;
    const list = order[probed++] as number;
    const worst = top.worst;
    const size = top.keys.length;
    for (const block of index.listBlocks(list))
      scored += scoreBlock(block, query, index.definition.metric, index.dim, out, top, filter);
    if (top.worst !== worst || top.keys.length !== size) changed = probed;
  }
  return { hits: top.hits(), scored, detail: `probed ${probed}/${lists} lists` };
}
