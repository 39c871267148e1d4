/**
 * Recall of IVF-Flat against exact search on seeded clustered data, unfiltered and under
 * filters of selectivity 1%, 10% and 50%. Every seed of `SEEDS` (20 by default; set
 * PROTO_VECTOR_SEEDS=n for more) builds its own data set and index; the minimum recall over the
 * seeds is printed.
 */
import { from, IndexedCollection } from '@proto/query';
import { describe, expect, it } from 'vitest';
import { vectorIndex } from '../src/index.ts';
import { bruteForce, clustered, type Item, recall } from './fixtures.ts';

const SEEDS = Array.from({ length: Number(process.env.PROTO_VECTOR_SEEDS ?? 20) }, (_, i) => 1000 + i);
const N = 4000;
const DIM = 32;
const QUERIES = 50;

function setup(seed: number) {
  const items = clustered(N, DIM, seed, 40);
  const c = IndexedCollection.empty<Item, string>({ key: 'id' })
    .putAll(items)
    .createIndex('byCategory', 'category')
    .createIndex('emb', vectorIndex({ path: 'embedding', dim: DIM, seed }));
  const queries = Array.from({ length: QUERIES }, (_, i) => (items[(i * 197 + seed) % N] as Item).embedding);
  return { items, c, queries };
}

function meanRecall(found: readonly string[][], truth: readonly string[][]): number {
  return found.reduce((s, f, i) => s + recall(f, truth[i] as string[]), 0) / found.length;
}

describe('vector: IVF-Flat recall', () => {
  it(`reaches recall@10 >= 0.95 with { recall: 0.95 } and more with a larger nprobe (${SEEDS.length} seeds)`, () => {
    let worst = 1;
    for (const seed of SEEDS) {
      const { items, c, queries } = setup(seed);
      expect(c.indexes().find((ix) => ix.name === 'emb')?.on).toContain('ivf');
      const exact = queries.map((q) => bruteForce(items, q, 10));
      const truth = exact.map((t) => t.map((x) => x.id));
      const asked = queries.map((q) =>
        from(c)
          .nearest('embedding', q, { k: 10, recall: 0.95 })
          .toArray()
          .map((r) => r.key as string),
      );
      const r = meanRecall(asked, truth);
      worst = Math.min(worst, r);
      expect(r, `seed ${seed}`).toBeGreaterThanOrEqual(0.95);
      // Every list probed is exact: the brute-force distances, position by position (keys may
      // swap only between distances equal to float32 rounding).
      queries.forEach((q, i) => {
        const all = from(c).nearest('embedding', q, { k: 10, nprobe: 1000 }).toArray();
        all.forEach((r, j) => {
          expect(
            Math.abs(r.distance - ((exact[i] as { distance: number }[])[j]?.distance as number)),
          ).toBeLessThan(1e-6);
        });
      });
    }
    console.log(
      `IVF recall@10 with { recall: 0.95 }: worst mean over ${SEEDS.length} seeds ${worst.toFixed(3)}`,
    );
  });

  for (const [label, below] of [
    ['1%', 1],
    ['10%', 10],
    ['50%', 50],
  ] as const) {
    it(`reaches recall@10 >= 0.95 under a filter of selectivity ${label} (${SEEDS.length} seeds)`, () => {
      let worst = 1;
      const plans = new Set<string>();
      for (const seed of SEEDS) {
        const { items, c, queries } = setup(seed);
        const matching = items.filter((it) => it.category < below);
        const truth = queries.map((q) => bruteForce(matching, q, 10).map((t) => t.id));
        const q = from(c).where('category', '<', below);
        const found = queries.map((v) => {
          const rows = q.nearest('embedding', v, { k: 10 }).toArray();
          for (const r of rows) expect(r.record.category).toBeLessThan(below);
          return rows.map((r) => r.key as string);
        });
        plans.add(q.nearest('embedding', queries[0] as number[], { k: 10 }).explain().plan.node);
        const r = meanRecall(found, truth);
        worst = Math.min(worst, r);
        expect(r, `seed ${seed}`).toBeGreaterThanOrEqual(0.95);
      }
      console.log(
        `filtered ${label}: worst mean recall@10 over ${SEEDS.length} seeds ${worst.toFixed(3)}; plans ${[...plans].join(', ')}`,
      );
    });
  }
});
