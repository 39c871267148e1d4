/**
 * k-means for IVF-Flat: k-means++ seeding and Lloyd iterations, from a seed (the same input
 * and seed give the same centroids). Large inputs are trained on a seeded sample. The coarse
 * measure is the dot product for `cosine` (centroids renormalized: spherical k-means) and
 * `inner-product`, the squared L2 distance for `euclidean`.
 */
import { activeKernels } from './kernel-choice.js';
import { mulberry32 } from './random.js';
import { residentFloats } from './wasm-kernels.js';

/** How points are assigned to centroids. */
export type Coarse = 'dot' | 'l2';

/** Options of `trainCentroids`. */
export interface TrainOptions {
  readonly lists: number;
  readonly seed: number;
  readonly coarse: Coarse;
  /** Renormalize centroids to unit length after each step (cosine). */
  readonly normalize: boolean;
  readonly iterations: number;
  /** Points to train on at most (a seeded sample of the input). */
  readonly sample: number;
}

/** The index of the centroid nearest to `v` (`scratch` holds one value per centroid). */
export function nearestCentroid(
  v: Float32Array,
  centroids: Float32Array,
  lists: number,
  dim: number,
  coarse: Coarse,
  scratch: Float64Array,
): number {
  const k = activeKernels();
  let best = 0;
  if (coarse === 'dot') {
    k.dot(v, centroids, lists, dim, scratch);
    for (let c = 1; c < lists; c++) if ((scratch[c] as number) > (scratch[best] as number)) best = c;
  } else {
    k.l2(v, centroids, lists, dim, scratch);
    for (let c = 1; c < lists; c++) if ((scratch[c] as number) < (scratch[best] as number)) best = c;
  }
  return best;
}

function normalizeRows(m: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (m[r * dim + j] as number) ** 2;
    if (s === 0) continue;
    const f = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) m[r * dim + j] = (m[r * dim + j] as number) * f;
  }
}

/** Centroids (`lists × dim`, row-major) trained on the `n` points of `points`. */
export function trainCentroids(points: Float32Array, n: number, dim: number, options: TrainOptions): Trained {
  const steps = trainingSteps(points, n, dim, options);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Points a training step handles before it yields (to let other work run). */
const STEP = 512;

/**
 * `trainCentroids` as steps: it yields every few hundred points, so an asynchronous caller can
 * let readers and writers run in between (the retraining of a live index does).
 */
export function* trainingSteps(
  points: Float32Array,
  n: number,
  dim: number,
  options: TrainOptions,
): Generator<void, Trained> {
  const random = mulberry32(options.seed);
  const lists = Math.max(1, Math.min(options.lists, n));
  // A seeded sample without replacement (partial Fisher-Yates over positions).
  const m = Math.min(n, Math.max(lists, options.sample));
  let data = points;
  if (m < n) {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    data = residentFloats(m * dim);
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(random() * (n - i));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
      data.set(points.subarray((order[i] as number) * dim, (order[i] as number) * dim + dim), i * dim);
    }
  }
  const k = activeKernels();
  const centroids = residentFloats(lists * dim);
  // k-means++ seeding by squared L2 (for unit vectors the same order as the cosine distance).
  const minDist = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  const dist = new Float64Array(m);
  let first = Math.floor(random() * m);
  for (let c = 0; c < lists; c++) {
    if (c % 16 === 15) yield;
    centroids.set(data.subarray(first * dim, first * dim + dim), c * dim);
    k.l2(centroids.subarray(c * dim, c * dim + dim), data, m, dim, dist);
    let total = 0;
    for (let i = 0; i < m; i++) {
      if ((dist[i] as number) < (minDist[i] as number)) minDist[i] = dist[i] as number;
      total += minDist[i] as number;
    }
    if (total === 0) {
      first = Math.floor(random() * m);
      continue;
    }
    let target = random() * total;
    first = m - 1;
    for (let i = 0; i < m; i++) {
      target -= minDist[i] as number;
      if (target <= 0) {
        first = i;
        break;
      }
    }
  }
  if (options.normalize) normalizeRows(centroids, lists, dim);
  // Lloyd iterations.
  const assign = new Int32Array(m);
  const sums = new Float64Array(lists * dim);
  const counts = new Int32Array(lists);
  const scratch = new Float64Array(lists);
  for (let it = 0; it < options.iterations; it++) {
    let changed = 0;
    for (let i = 0; i < m; i++) {
      if (i % STEP === STEP - 1) yield;
      const c = nearestCentroid(
        data.subarray(i * dim, i * dim + dim),
        centroids,
        lists,
        dim,
        options.coarse,
        scratch,
      );
      if (c !== assign[i] || it === 0) changed++;
      assign[i] = c;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < m; i++) {
      const c = assign[i] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let j = 0; j < dim; j++)
        sums[c * dim + j] = (sums[c * dim + j] as number) + (data[i * dim + j] as number);
    }
    for (let c = 0; c < lists; c++) {
      const count = counts[c] as number;
      if (count === 0) {
        // An empty list takes a random point (seeded), so every list stays in use.
        const p = Math.floor(random() * m);
        centroids.set(data.subarray(p * dim, p * dim + dim), c * dim);
        continue;
      }
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = (sums[c * dim + j] as number) / count;
    }
    if (options.normalize) normalizeRows(centroids, lists, dim);
    if (it > 0 && changed === 0) break;
  }
  // Calibrated on all the points (up to 200k; else the sample): the training sample fits its own
  // centroids better than the rest of the data does.
  const pool = n <= 200_000 ? points : data;
  const calibration = yield* calibrate(pool, n <= 200_000 ? n : m, dim, centroids, lists, options.coarse);
  return { centroids, calibration };
}

/** What a training produced. */
export interface Trained {
  readonly centroids: Float32Array;
  /** Lists to probe for the recall@10 levels of `RECALL_LEVELS`, measured on the sample. */
  readonly calibration: readonly number[];
}

/** The recall@10 levels a training calibrates nprobe for. */
export const RECALL_LEVELS: readonly number[] = [0.8, 0.9, 0.95, 0.99];

/**
 * nprobe per recall level: for up to 128 of the points as queries, the exact 10 nearest other
 * points and the rank (in the query's list order) of the list each belongs to; the
 * nprobe for recall r is the quantile of those ranks at half the miss rate asked for (0.975
 * for 0.95: a margin for the estimate's own noise), plus one.
 */
function* calibrate(
  data: Float32Array,
  m: number,
  dim: number,
  centroids: Float32Array,
  lists: number,
  coarse: Coarse,
): Generator<void, number[]> {
  const k = activeKernels();
  const queries = Math.min(128, m);
  if (lists === 1 || m < 20) return RECALL_LEVELS.map(() => 1);
  const distances = new Float64Array(m);
  const toLists = new Float64Array(lists);
  const rankOf = new Int32Array(lists);
  const order = new Int32Array(lists);
  const ranks: number[] = [];
  for (let qi = 0; qi < queries; qi++) {
    yield;
    const q = Math.floor((qi * m) / queries);
    const query = data.subarray(q * dim, q * dim + dim);
    if (coarse === 'dot') {
      k.dot(query, data, m, dim, distances);
      for (let i = 0; i < m; i++) distances[i] = -(distances[i] as number);
      k.dot(query, centroids, lists, dim, toLists);
      for (let i = 0; i < lists; i++) toLists[i] = -(toLists[i] as number);
    } else {
      k.l2(query, data, m, dim, distances);
      k.l2(query, centroids, lists, dim, toLists);
    }
    distances[q] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists; i++) order[i] = i;
    order.sort((a, b) => (toLists[a] as number) - (toLists[b] as number));
    for (let i = 0; i < lists; i++) rankOf[order[i] as number] = i;
    // The 10 nearest other points (a partial selection: 10 passes).
    const taken = new Set<number>();
    for (let t = 0; t < 10; t++) {
      let best = -1;
      for (let i = 0; i < m; i++)
        if (!taken.has(i) && (best < 0 || (distances[i] as number) < (distances[best] as number))) best = i;
      taken.add(best);
      const list = nearestCentroid(
        data.subarray(best * dim, best * dim + dim),
        centroids,
        lists,
        dim,
        coarse,
        toLists,
      );
      ranks.push(rankOf[list] as number);
    }
  }
  ranks.sort((a, b) => a - b);
  return RECALL_LEVELS.map((level) =>
    Math.min(lists, (ranks[Math.min(ranks.length - 1, Math.ceil(level * ranks.length) - 1)] as number) + 1),
  );
}
