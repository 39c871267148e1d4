/**
 * The inner loops of vector search: distances from one query to `count` vectors stored one
 * after another in a `Float32Array` block. Three implementations pass the same tests; the
 * fastest measured one (`bestKernels`) is what the index uses. Each writes `out[i]` for the
 * i-th vector: the dot product (`dot`) or the squared Euclidean distance (`l2`).
 */

/** Distances from a query to the vectors of a block. */
export interface Kernels {
  readonly name: string;
  /** `out[i] = query · block[i]`. */
  dot(query: Float32Array, block: Float32Array, count: number, dim: number, out: Float64Array): void;
  /** `out[i] = |query - block[i]|²`. */
  l2(query: Float32Array, block: Float32Array, count: number, dim: number, out: Float64Array): void;
}

/** One accumulator, one component per step: the reference. */
export const scalarKernels: Kernels = {
  name: 'scalar',
  dot(query, block, count, dim, out) {
    for (let i = 0, base = 0; i < count; i++, base += dim) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (query[j] as number) * (block[base + j] as number);
      out[i] = s;
    }
  },
  l2(query, block, count, dim, out) {
    for (let i = 0, base = 0; i < count; i++, base += dim) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const d = (query[j] as number) - (block[base + j] as number);
        s += d * d;
      }
      out[i] = s;
    }
  },
};

/** Four independent accumulators (the CPU overlaps them), the tail done one by one. */
export const unrolledKernels: Kernels = {
  name: 'unrolled',
  dot(query, block, count, dim, out) {
    const main = dim & ~3;
    for (let i = 0, base = 0; i < count; i++, base += dim) {
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      let j = 0;
      for (; j < main; j += 4) {
        const p = base + j;
        a += (query[j] as number) * (block[p] as number);
        b += (query[j + 1] as number) * (block[p + 1] as number);
        c += (query[j + 2] as number) * (block[p + 2] as number);
        d += (query[j + 3] as number) * (block[p + 3] as number);
      }
      for (; j < dim; j++) a += (query[j] as number) * (block[base + j] as number);
      out[i] = a + b + c + d;
    }
  },
  l2(query, block, count, dim, out) {
    const main = dim & ~3;
    for (let i = 0, base = 0; i < count; i++, base += dim) {
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      let j = 0;
      for (; j < main; j += 4) {
        const p = base + j;
        const x = (query[j] as number) - (block[p] as number);
        const y = (query[j + 1] as number) - (block[p + 1] as number);
        const z = (query[j + 2] as number) - (block[p + 2] as number);
        const w = (query[j + 3] as number) - (block[p + 3] as number);
        a += x * x;
        b += y * y;
        c += z * z;
        d += w * w;
      }
      for (; j < dim; j++) {
        const x = (query[j] as number) - (block[base + j] as number);
        a += x * x;
      }
      out[i] = a + b + c + d;
    }
  },
};
