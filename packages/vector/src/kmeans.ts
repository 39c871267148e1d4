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
  return { centroids };
}

/** What a training produced. */
export interface Trained {
  readonly centroids: Float32Array;
}
