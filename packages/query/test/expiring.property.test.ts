/**
 * Expiring entries against a model (a Map with expiry times) over random sets, gets,
 * deletes, clock advances, sweeps, commits and reopens: every read agrees with the model at
 * the transaction's time, and the bound never breaks.
 */
import { ObjectSpace, type Transaction } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiringCache, type IndexedCollection } from '../src/index.js';

type Op =
  | { readonly kind: 'set'; readonly key: number; readonly value: number; readonly ttl: number | undefined }
  | { readonly kind: 'get'; readonly key: number }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'commit' }
  | { readonly kind: 'sweep'; readonly limit: number }
  | { readonly kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: 12 }),
      value: fc.integer(),
      ttl: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25 }) }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'commit' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('sweep' as const), limit: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

interface ModelEntry {
  readonly value: number;
  readonly expiresAt: number | undefined;
}

const live = (e: ModelEntry | undefined, t: number) =>
  e !== undefined && (e.expiresAt === undefined || e.expiresAt > t);

describe('expiring entries against a model', () => {
  it('reads agree with a Map of expiry times at every transaction time, across sweeps and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), fc.boolean(), async (ops, bounded) => {
        let time = 1_000;
        const clock = () => time;
        const location = createMemoryLocation();
        let space = await ObjectSpace.open(await openMemoryBackend({ location }), { clock });
        let db = space.database('app');
        const max = bounded ? 6 : undefined;
        const cache = new ExpiringCache<number, number>('c', max === undefined ? {} : { maxEntries: max });
        // The committed model, and the model of the open transaction.
        let committed = new Map<number, ModelEntry>();
        let model = new Map(committed);
        let tx: Transaction = db.begin();
        let txTime = time;
        const check = () => {
          const view = cache.in(tx);
          for (let k = 0; k <= 12; k++)
            expect(view.get(k), `key ${k}`).toBe(
              live(model.get(k), txTime) ? model.get(k)?.value : undefined,
            );
        };
        const commit = async () => {
          await tx.commit();
          committed = model;
          tx = db.begin();
          txTime = time;
          model = new Map(committed);
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'set': {
              cache.in(tx).set(o.key, o.value, o.ttl === undefined ? {} : { ttl: o.ttl });
              model.set(o.key, {
                value: o.value,
                expiresAt: o.ttl === undefined ? undefined : txTime + o.ttl,
              });
              if (max !== undefined && model.size > max) {
                // The bound is checked on what is stored; which entries go is the policy's choice.
                const stored = tx.get<IndexedCollection<{ key: number }, number>>('c');
                const keys = new Set(stored?.keys() ?? []);
                for (const k of [...model.keys()]) if (!keys.has(k)) model.delete(k);
              }
              break;
            }
            case 'get':
              expect(cache.in(tx).get(o.key)).toBe(
                live(model.get(o.key), txTime) ? model.get(o.key)?.value : undefined,
              );
              break;
            case 'delete':
              cache.in(tx).delete(o.key);
              model.delete(o.key);
              break;
            case 'advance':
              // The open transaction keeps its time; the next one sees the clock moved.
              time += o.ms;
              break;
            case 'commit':
              await commit();
              break;
            case 'sweep': {
              await commit();
              await cache.sweep(db, { limit: o.limit });
              tx.abort();
              tx = db.begin();
              txTime = time;
              // The sweep deleted only expired entries, which the model already treats as gone.
              for (const [k, e] of [...model])
                if (!live(e, time)) {
                  const stored = tx.get<IndexedCollection<{ key: number }, number>>('c');
                  if (stored !== undefined && !stored.has(k)) model.delete(k);
                }
              committed = new Map(model);
              break;
            }
            case 'reopen':
              await commit();
              tx.abort();
              await space.close();
              space = await ObjectSpace.open(await openMemoryBackend({ location }), { clock });
              db = space.database('app');
              tx = db.begin();
              txTime = time;
              break;
          }
          check();
          if (max !== undefined) {
            const stored = tx.get<IndexedCollection<{ key: number }, number>>('c');
            expect(stored?.size ?? 0).toBeLessThanOrEqual(max);
          }
          const liveKeys = [...model]
            .filter(([, e]) => live(e, txTime))
            .map(([k]) => k)
            .sort((a, b) => a - b);
          expect([...cache.in(tx).keys()]).toEqual(liveKeys);
          expect(cache.in(tx).size).toBe(liveKeys.length);
        }
        tx.abort();
        await space.close();
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
