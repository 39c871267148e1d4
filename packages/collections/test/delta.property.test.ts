/**
 * Dictionary deltas (`deltaSince` / `withDelta`, what a delta commit stores): on random
 * dictionaries and random updates (splits, merges, a root that grows or shrinks a level), the
 * delta names exactly the keys whose value changed, rebuilds the newer version from the older
 * one, and survives commits through the kernel with checkpoints, evictions and reopens.
 */
import { LazyValue, ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dictionary, setNodeCapacity } from '../src/index.js';

type Dict = Dictionary<number, string | number>;

type Update =
  | { readonly kind: 'set'; readonly key: number; readonly value: number | string }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'clear-range'; readonly from: number; readonly count: number };

const update: fc.Arbitrary<Update> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: 300 }),
      // Some values are large enough to be stored out of line once written.
      value: fc.oneof(
        fc.integer({ min: 0, max: 9 }),
        // Values equal under === but stored apart (0 and -0), and NaN.
        fc.constantFrom(0, -0, Number.NaN),
        fc.integer({ min: 0, max: 9 }).map((n) => `${n}`.padEnd(1100, 'v')),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 300 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('clear-range' as const),
      from: fc.integer({ min: 0, max: 300 }),
      count: fc.integer({ min: 1, max: 300 }),
    }),
  },
);

function applyUpdate(d: Dict, u: Update): Dict {
  switch (u.kind) {
    case 'set':
      return d.set(u.key, u.value);
    case 'delete':
      return d.delete(u.key);
    case 'clear-range': {
      let next = d;
      for (let k = u.from; k < u.from + u.count; k++) next = next.delete(k);
      return next;
    }
  }
}

const initial = fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 9 })), {
  maxLength: 500,
});

type Delta = readonly [unknown[], unknown[], unknown[]];

describe('collections: dictionary deltas', () => {
  // Small nodes, so that a few hundred entries make a tree of three or four levels.
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64, 128));

  it('names exactly the changed keys and rebuilds the newer version from the older one', () => {
    fc.assert(
      fc.property(initial, fc.array(update, { maxLength: 60, size: 'large' }), (entries, updates) => {
        const older: Dict = Dictionary.from(entries);
        const newer = updates.reduce(applyUpdate, older);
        const delta = newer.deltaSince(older) as Delta | undefined;
        const before = new Map(older.entries());
        const after = new Map(newer.entries());
        const changed = new Set<number>();
        for (const [k, v] of after) if (!before.has(k) || !Object.is(before.get(k), v)) changed.add(k);
        const removed = [...before.keys()].filter((k) => !after.has(k));
        if (delta === undefined) {
          // Only when more than half the entries (and more than 64) changed.
          expect(changed.size + removed.length).toBeGreaterThan(Math.max(64, newer.size >> 1));
          return;
        }
        const [keys, vals, gone] = delta;
        expect(keys).toEqual([...changed].sort((a, b) => a - b));
        // Values that leaves store as segments come as segments (`LazyValue`s).
        expect(vals.map((v) => (v instanceof LazyValue ? v.get() : v))).toEqual(
          keys.map((k) => after.get(k as number)),
        );
        expect(gone).toEqual(removed.sort((a, b) => a - b));
        const rebuilt = older.withDelta(delta) as Dict;
        expect([...rebuilt.entries()]).toEqual([...newer.entries()]);
        expect(rebuilt.size).toBe(newer.size);
      }),
      { numRuns: 300 },
    );
  });

  it('names exactly the changed values when only values change (leaves keep their keys)', () => {
    fc.assert(
      fc.property(
        initial,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 10, max: 12 })), { maxLength: 40, size: 'large' }),
        (entries, sets) => {
          const older: Dict = Dictionary.from(entries);
          const keys = [...older.keys()];
          if (keys.length === 0) return;
          let newer = older;
          const expected = new Map<number, number>();
          for (const [pick, value] of sets) {
            const key = keys[pick % keys.length] as number;
            newer = newer.set(key, value);
            expected.set(key, value);
          }
          for (const [k, v] of [...expected]) if (older.get(k) === v) expected.delete(k);
          const delta = newer.deltaSince(older) as Delta;
          const sorted = [...expected.keys()].sort((a, b) => a - b);
          expect(delta).toEqual([sorted, sorted.map((k) => expected.get(k)), []]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is empty between a version and itself, and between equal versions built apart', () => {
    const d: Dict = Dictionary.from(Array.from({ length: 300 }, (_, i) => [i, i] as [number, number]));
    expect(d.deltaSince(d)).toEqual([[], [], []]);
    expect(d.set(5, 5).deltaSince(d)).toEqual([[], [], []]);
    expect(d.set(5, 6).deltaSince(d)).toEqual([[5], [6], []]);
    // Stored apart, so told apart: 0 and -0.
    const zero = d.set(5, 0);
    expect(zero.set(5, -0).deltaSince(zero)).toEqual([[5], [-0], []]);
  });

  it('keeps every committed version through delta commits, checkpoints, evictions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(
        initial,
        fc.array(
          fc.tuple(
            fc.array(update, { minLength: 1, maxLength: 8 }),
            fc.constantFrom('commit', 'commit', 'evict', 'reopen', 'crash', 'checkpoint'),
          ),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        fc.integer({ min: 0, max: 4 }),
        async (entries, steps, every) => {
          const location = createMemoryLocation();
          const options = { checkpoint: { commits: every }, historyLimit: 8, cache: { maxAtoms: 50 } };
          let backend = await openMemoryBackend({ location });
          let space = await ObjectSpace.open(backend, options);
          const versions: [number, [number, unknown][]][] = [];
          let model: Dict = Dictionary.from(entries);
          await space.database('db').transact((tx) => tx.set('d', Dictionary.from(entries)));
          versions.push([space.sequence, [...model.entries()]]);
          for (const [updates, after] of steps) {
            await space.database('db').transact((tx) => {
              const d = tx.get<Dict>('d') as Dict;
              tx.set('d', updates.reduce(applyUpdate, d));
            });
            model = updates.reduce(applyUpdate, model);
            versions.push([space.sequence, [...model.entries()]]);
            if (after === 'evict') space.evictCaches();
            if (after === 'checkpoint') await space.checkpoint();
            if (after === 'reopen' || after === 'crash') {
              // A crash: the backend goes away under the space, which never checkpoints; the
              // next open replays the delta records since the last checkpoint.
              await (after === 'reopen' ? space.close() : backend.close());
              backend = await openMemoryBackend({ location });
              space = await ObjectSpace.open(backend, options);
            }
            const db = space.database('db');
            expect([...(db.begin({ readOnly: true }).get<Dict>('d') as Dict).entries()]).toEqual([
              ...model.entries(),
            ]);
            // Every kept commit reads as it was, whether its state is in memory, stored whole or replayed.
            for (const { sequence } of space.history()) {
              const version = versions.find(([s]) => s === sequence);
              expect(version, `commit ${sequence} is kept`).toBeDefined();
              const read = db.begin({ asOf: sequence }).get<Dict>('d') as Dict;
              expect([...read.entries()]).toEqual(version?.[1]);
            }
          }
          const last = space.sequence;
          await space.close();
          const reopened = await ObjectSpace.open(await openMemoryBackend({ location }), options);
          expect(reopened.sequence).toBe(last);
          expect([
            ...(reopened.database('db').begin({ readOnly: true }).get<Dict>('d') as Dict).entries(),
          ]).toEqual([...model.entries()]);
          await reopened.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
