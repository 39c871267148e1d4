import { from, IndexedCollection } from '@proto/query';
import { afterEach, describe, expect, it } from 'vitest';
import {
  activeKernels,
  type Kernels,
  scalarKernels,
  unrolledKernels,
  useKernels,
  vectorIndex,
} from '../src/index.ts';
import { wasmKernels } from '../src/wasm-kernels.ts';
import { bruteForce, clustered, distance, type Item, type Metric } from './fixtures.ts';

const KERNELS: Kernels[] = [
  scalarKernels,
  unrolledKernels,
  ...(wasmKernels() === undefined ? [] : [wasmKernels() as Kernels]),
];
const initial = activeKernels();
afterEach(() => useKernels(initial));

function collection(items: readonly Item[], metric: Metric, dim: number) {
  return IndexedCollection.empty<Item, string>({
    key: 'id',
    indexes: { emb: vectorIndex({ path: 'embedding', dim, metric, lists: 'none' }) },
  }).putAll(items);
}

/** Equal within 1e-6 relative (1e-6 absolute near 0, where the distance of a point to itself lies). */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}

describe('vector: exact search', () => {
  for (const kernels of KERNELS) {
    for (const metric of ['cosine', 'euclidean', 'inner-product'] as const) {
      it(`returns exactly the brute-force top k with the ${kernels.name} kernels under ${metric}`, () => {
        useKernels(kernels);
        const dim = 37; // not a multiple of 4: the kernels' tails run too
        const items = clustered(1500, dim, 7).map((it, i) => ({
          ...it,
          // Unnormalized vectors, so euclidean and inner product differ from cosine.
          embedding: it.embedding.map((x) => Math.fround(x * (1 + (i % 5)))),
        }));
        const c = collection(items, metric, dim);
        for (let q = 0; q < 10; q++) {
          const query = (items[q * 97] as Item).embedding;
          const truth = bruteForce(items, query, 10, metric);
          const found = from(c).nearest('embedding', query, { k: 10 }).toArray();
          expect(found.map((r) => r.key)).toEqual(truth.map((t) => t.id));
          found.forEach((r, i) => {
            expect(close(r.distance, (truth[i] as { distance: number }).distance)).toBe(true);
            expect(r.record).toBe(c.get(r.key as string));
          });
        }
      });
    }
  }

  it('computes the same distances with every kernel', () => {
    const items = clustered(200, 130, 3);
    const q = Float32Array.from((items[0] as Item).embedding);
    const block = new Float32Array(200 * 130);
    items.forEach((it, i) => {
      block.set(it.embedding, i * 130);
    });
    for (const kernels of KERNELS) {
      const dot = new Float64Array(200);
      const l2 = new Float64Array(200);
      kernels.dot(q, block, 200, 130, dot);
      kernels.l2(q, block, 200, 130, l2);
      items.forEach((it, i) => {
        expect(close(dot[i] as number, -distance('inner-product', q, it.embedding))).toBe(true);
        expect(close(l2[i] as number, distance('euclidean', q, it.embedding))).toBe(true);
      });
    }
  });

  it('breaks ties by primary key and returns every match when k exceeds them', () => {
    const v = [1, 0, 0];
    const items = ['d', 'b', 'a', 'c'].map((id) => ({ id, category: 0, embedding: v }));
    const c = collection([...items, { id: 'e', category: 1, embedding: [0, 1, 0] }], 'cosine', 3);
    expect(
      from(c)
        .nearest('embedding', v, { k: 3 })
        .toArray()
        .map((r) => r.key),
    ).toEqual(['a', 'b', 'c']);
    const all = from(c).where('category', '=', 0).nearest('embedding', v, { k: 50 }).toArray();
    expect(all.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd']);
    expect(from(c).nearest('embedding', v, { k: 50 }).count()).toBe(5);
  });

  it('ranks arrays and other sources by computing every distance', () => {
    const items = clustered(300, 8, 5);
    const q = (items[3] as Item).embedding;
    const found = from(items).nearest('embedding', q, { k: 5 }).toArray();
    expect(found.map((r) => r.record.id)).toEqual(bruteForce(items, q, 5).map((t) => t.id));
    expect(from(items).nearest('embedding', q, { k: 5 }).explain().text).toContain('NearestScan');
  });

  it('lets later steps see the neighbours (their distance and record)', () => {
    const items = clustered(500, 8, 9);
    const c = collection(items, 'cosine', 8);
    const q = (items[0] as Item).embedding;
    const near = from(c)
      .nearest('embedding', q, { k: 20 })
      .where('distance', '<', 0.05)
      .select((r) => r.record.id)
      .toArray();
    expect(near).toEqual(
      bruteForce(items, q, 20)
        .filter((t) => t.distance < 0.05)
        .map((t) => t.id),
    );
  });
});
