/**
 * Metrics and the checks every stored or queried vector passes. Distances are "smaller is
 * nearer": cosine `1 - cos(a, b)`, euclidean the squared L2 distance, inner-product `-a·b`.
 * Under cosine, vectors are stored normalized, so its distance is `1 - q̂·v̂` (one dot product).
 */
import type { ProtoErrorReason } from '@proto/atom';
import { QueryError } from '@proto/query';

/** The metrics a vector index ranks by. */
export type VectorMetric = 'cosine' | 'euclidean' | 'inner-product';

export const METRICS: readonly VectorMetric[] = ['cosine', 'euclidean', 'inner-product'];

/** @internal */
export function vectorError(reason: ProtoErrorReason, message: string): never {
  throw new QueryError({ layer: 'vector', reason, message });
}

/** @internal */
export function invalid(message: string): never {
  return vectorError('invalid-argument', message);
}

/**
 * The stored form of a vector (a new `Float32Array`, unit length under cosine), or an
 * `invalid-argument` error naming what is wrong: not an array of numbers, the wrong dimension,
 * a NaN or infinite component, a zero vector under cosine.
 */
export function storedVector(value: unknown, dim: number, metric: VectorMetric, what: string): Float32Array {
  const isArray = Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array;
  if (!isArray) invalid(`${what} is not a vector (give a Float32Array or number[] of ${dim} numbers)`);
  const v = value as ArrayLike<unknown>;
  if (v.length !== dim)
    invalid(`${what} has dimension ${v.length}; this index holds vectors of dimension ${dim}`);
  const out = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      invalid(`${what} has a component that is not a finite number at ${i} (${String(x)})`);
    const f = Math.fround(x);
    if (!Number.isFinite(f)) invalid(`${what} has a component at ${i} that overflows float32 (${x})`);
    out[i] = f;
    norm += f * f;
  }
  if (metric === 'cosine') {
    if (norm === 0) invalid(`${what} is the zero vector, which has no direction under the cosine metric`);
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < dim; i++) out[i] = (out[i] as number) * scale;
  }
  return out;
}
