/**
 * The nprobe an IVF index needs for a recall target, measured on its own data when it is
 * trained. For up to 128 of the points as queries: their nearest other points, in order, and the
 * rank (in the query's list order) of the list each belongs to. The nprobe for recall r over the
 * nearest `depth` neighbours is the quantile of those ranks at half the miss rate asked for
 * (0.975 for 0.95: a margin for the estimate's own noise), plus one.
 *
 * Depth matters under a filter: the 10 nearest records matching a filter that keeps a fraction
 * s of them lie, roughly, among the 10/s nearest of all (the 10th often farther), so a filtered
 * query looks the nprobe up at depth 2k/s (an unfiltered one at depth k).
 */
import { activeKernels } from './kernel-choice.js';
import type { Coarse } from './kmeans.js';

/** The recall@k levels calibrated. */
export const RECALL_LEVELS: readonly number[] = [0.8, 0.9, 0.95, 0.99];
/** The neighbour depths calibrated. */
export const DEPTHS: readonly number[] = [10, 30, 100, 300, 1000];

const QUERIES = 128;

/** The `k`-th smallest (0-based) of `values` (reordered in place). */
function kthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k] as number;
  }
  return values[lo] as number;
}

/**
 * The calibration table (`RECALL_LEVELS × DEPTHS`, row-major) for `m` points (`data`) assigned
 * to lists by `assign`. Yields between queries.
 */
export function* calibrationSteps(
  data: Float32Array,
  m: number,
  dim: number,
  assign: Int32Array,
  centroids: Float32Array,
  lists: number,
  coarse: Coarse,
): Generator<void, number[]> {
  const table = RECALL_LEVELS.flatMap(() => DEPTHS.map(() => 1));
  if (lists === 1 || m < 20) return table;
  const kernels = activeKernels();
  const queries = Math.min(QUERIES, m);
  const distances = new Float64Array(m);
  const scratch = new Float64Array(m);
  const toLists = new Float64Array(lists);
  const rankOf = new Int32Array(lists);
  const order = new Int32Array(lists);
  const deepest = Math.min(DEPTHS[DEPTHS.length - 1] as number, m - 1);
  /** ranks[d]: the list ranks of the neighbours at depths in (DEPTHS[d-1], DEPTHS[d]]. */
  const ranks: number[][] = DEPTHS.map(() => []);
  for (let qi = 0; qi < queries; qi++) {
    yield;
    const q = Math.floor((qi * m) / queries);
    const query = data.subarray(q * dim, q * dim + dim);
    if (coarse === 'dot') {
      kernels.dot(query, data, m, dim, distances);
      for (let i = 0; i < m; i++) distances[i] = -(distances[i] as number);
      kernels.dot(query, centroids, lists, dim, toLists);
      for (let i = 0; i < lists; i++) toLists[i] = -(toLists[i] as number);
    } else {
      kernels.l2(query, data, m, dim, distances);
      kernels.l2(query, centroids, lists, dim, toLists);
    }
    distances[q] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists; i++) order[i] = i;
    order.sort((a, b) => (toLists[a] as number) - (toLists[b] as number));
    for (let i = 0; i < lists; i++) rankOf[order[i] as number] = i;
    scratch.set(distances);
    const threshold = kthSmallest(scratch, deepest - 1);
    const near: number[] = [];
    for (let i = 0; i < m; i++) if ((distances[i] as number) <= threshold) near.push(i);
    near.sort((a, b) => (distances[a] as number) - (distances[b] as number) || a - b);
    let d = 0;
    for (let j = 0; j < Math.min(deepest, near.length); j++) {
      while (j >= (DEPTHS[d] as number)) d++;
      (ranks[d] as number[]).push(rankOf[assign[near[j] as number] as number] as number);
    }
  }
  // Cumulative: depth d covers every neighbour up to DEPTHS[d].
  const cumulative: number[] = [];
  DEPTHS.forEach((_, d) => {
    for (const r of ranks[d] as number[]) cumulative.push(r);
    const sorted = Float64Array.from(cumulative).sort();
    RECALL_LEVELS.forEach((level, l) => {
      const at = Math.min(sorted.length - 1, Math.ceil((1 - (1 - level) / 2) * sorted.length) - 1);
      table[l * DEPTHS.length + d] = Math.min(lists, (sorted[Math.max(0, at)] ?? 0) + 1);
    });
  });
  return table;
}

/** Runs `calibrationSteps` to the end. */
export function calibrate(
  data: Float32Array,
  m: number,
  dim: number,
  assign: Int32Array,
  centroids: Float32Array,
  lists: number,
  coarse: Coarse,
): number[] {
  const steps = calibrationSteps(data, m, dim, assign, centroids, lists, coarse);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** The calibrated nprobe for `recall` at neighbour depth `depth` (undefined: no table). */
export function calibratedNprobe(
  table: readonly number[],
  recall: number,
  depth: number,
): number | undefined {
  if (table.length !== RECALL_LEVELS.length * DEPTHS.length) return undefined;
  const level = RECALL_LEVELS.findIndex((l) => l >= recall);
  if (level < 0) return undefined;
  let d = DEPTHS.findIndex((x) => x >= depth);
  if (d < 0) d = DEPTHS.length - 1;
  return table[level * DEPTHS.length + d];
}
