/**
 * Deltas of the other collections (`OrderedSet`, `CountedSet`, `HashDictionary`, `List`,
 * `RepeatedKeysDictionary`): on random updates, applying the newer version's delta to the
 * older one gives the newer contents and sizes, and a space reopened after a crash (no
 * checkpoint since the commits) reads what the delta commits left.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountedSet,
  HashDictionary,
  List,
  OrderedSet,
  RepeatedKeysDictionary,
  setNodeCapacity,
} from '../src/index.js';

/** One update, applied to every kind the way that kind understands it. */
interface Update {
  readonly add: boolean;
  readonly key: number;
  readonly value: number;
}

const update: fc.Arbitrary<Update> = fc.record({
  add: fc.boolean(),
  key: fc.integer({ min: 0, max: 120 }),
  value: fc.integer({ min: 0, max: 3 }),
});

interface Kind<C> {
  readonly name: string;
  empty(): C;
  apply(c: C, u: Update): C;
  /** Contents and sizes, comparable with `toEqual`. */
  contents(c: C): unknown;
}

const kinds = [
  {
    name: 'OrderedSet',
    empty: () => OrderedSet.empty<number>(),
    apply: (c: OrderedSet<number>, u: Update) => (u.add ? c.add(u.key) : c.delete(u.key)),
    contents: (c: OrderedSet<number>) => [c.size, [...c.values()]],
  } satisfies Kind<OrderedSet<number>>,
  {
    name: 'CountedSet',
    empty: () => CountedSet.empty<number>(),
    apply: (c: CountedSet<number>, u: Update) =>
      u.add ? c.add(u.key, u.value + 1) : c.remove(u.key, Math.min(u.value + 1, c.count(u.key))),
    contents: (c: CountedSet<number>) => [c.size, c.distinctSize, [...c.entries()]],
  } satisfies Kind<CountedSet<number>>,
  {
    name: 'HashDictionary',
    empty: () => HashDictionary.empty<{ k: number }, number>(),
    apply: (c: HashDictionary<{ k: number }, number>, u: Update) =>
      u.add ? c.set({ k: u.key }, u.value) : c.delete({ k: u.key }),
    contents: (c: HashDictionary<{ k: number }, number>) => [
      c.size,
      [...c.entries()].sort((a, b) => a[0].k - b[0].k),
    ],
  } satisfies Kind<HashDictionary<{ k: number }, number>>,
  {
    name: 'RepeatedKeysDictionary',
    empty: () => RepeatedKeysDictionary.empty<number, number>(),
    apply: (c: RepeatedKeysDictionary<number, number>, u: Update) =>
      u.add ? c.add(u.key % 30, u.value) : c.remove(u.key % 30, u.value),
    contents: (c: RepeatedKeysDictionary<number, number>) => [c.size, [...c.entries()]],
  } satisfies Kind<RepeatedKeysDictionary<number, number>>,
  {
    name: 'List',
    empty: () => List.empty<number | string>(),
    // One update edits one place of the list: set, insert, append, prepend or remove.
    apply: (c: List<number | string>, u: Update) => {
      const at = c.size === 0 ? 0 : u.key % (c.size + (u.add ? 1 : 0));
      switch (u.value) {
        case 0:
          return u.add ? c.append(u.key) : c.prepend(-u.key);
        case 1:
          return u.add || c.size === 0 ? c.insert(at, u.key) : c.remove(at % c.size);
        case 2:
          return c.size === 0 ? c.append(`${u.key}`.padEnd(70, 's')) : c.set(at % c.size, -0);
        default:
          return c.size === 0 ? c.append(u.key) : c.set(at % c.size, u.add ? u.key : Number.NaN);
      }
    },
    contents: (c: List<number | string>) => [c.size, [...c]],
  } satisfies Kind<List<number | string>>,
] as const;

describe('collections: deltas of sets, counted sets, hash dictionaries and multimaps', () => {
  // Small nodes: a hundred entries make a tree of several levels.
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64, 128));

  for (const kind of kinds) {
    it(`${kind.name}: the delta rebuilds the newer version from the older one`, () => {
      const k = kind as unknown as Kind<{ deltaSince(o: unknown): unknown; withDelta(d: unknown): unknown }>;
      fc.assert(
        fc.property(
          fc.array(update, { maxLength: 150 }),
          fc.array(update, { maxLength: 40 }),
          (first, then) => {
            const older = first.reduce(k.apply, k.empty());
            const newer = then.reduce(k.apply, older);
            const delta = newer.deltaSince(older);
            if (delta === undefined) return;
            expect(k.contents(older.withDelta(delta) as never)).toEqual(k.contents(newer));
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('List: a delta is the one splice of the items changed, whatever the length', async () => {
    const long = List.from(Array.from({ length: 10_000 }, (_, i) => i));
    expect(long.append(-1).deltaSince(long)).toEqual([10_000, 0, [-1]]);
    expect(long.prepend(-1).deltaSince(long)).toEqual([0, 0, [-1]]);
    expect(long.set(4321, -1).deltaSince(long)).toEqual([4321, 1, [-1]]);
    expect(long.remove(17).deltaSince(long)).toEqual([17, 1, []]);
    expect(long.insert(500, -1).insert(501, -2).deltaSince(long)).toEqual([500, 0, [-1, -2]]);
    // Through the kernel, an append to a stored 10,000-item list writes one small record.
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    await db.transact((tx) => tx.set('log', long));
    const before = space.stats();
    await db.transact((tx) => tx.set('log', (tx.get('log') as List<number>).append(10_000)));
    const after = space.stats();
    expect(after.atomsWritten - before.atomsWritten).toBe(1);
    expect(after.bytesWritten - before.bytesWritten).toBeLessThan(150);
    await space.close();
  });

  it('reopens after a crash with what the delta commits of every kind left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(update, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        async (commits) => {
          const location = createMemoryLocation();
          const backend = await openMemoryBackend({ location });
          const space = await ObjectSpace.open(backend);
          const db = space.database('db');
          await db.transact((tx) => {
            for (const kind of kinds) tx.set(kind.name, kind.empty());
          });
          const models = new Map<string, unknown>(kinds.map((kind) => [kind.name, kind.empty()]));
          for (const updates of commits) {
            await db.transact((tx) => {
              for (const kind of kinds) {
                const k = kind as unknown as Kind<unknown>;
                tx.set(kind.name, updates.reduce(k.apply, tx.get(kind.name)));
              }
            });
            for (const kind of kinds) {
              const k = kind as unknown as Kind<unknown>;
              models.set(kind.name, updates.reduce(k.apply, models.get(kind.name)));
            }
          }
          expect(space.stats().checkpoints).toBe(1);
          // The backend goes away without a checkpoint: the next open replays the delta records.
          await backend.close();
          const reopened = await ObjectSpace.open(await openMemoryBackend({ location }));
          const read = reopened.database('db').begin({ readOnly: true });
          for (const kind of kinds) {
            const k = kind as unknown as Kind<unknown>;
            expect(k.contents(read.get(kind.name)), kind.name).toEqual(k.contents(models.get(kind.name)));
          }
          await reopened.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
