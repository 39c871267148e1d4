/**
 * `Dictionary.withChanges`: many sets and deletes merged into the tree in one walk give the
 * dictionary that the same calls one by one give, keep the B+ tree's shape rules, leave the
 * older version intact, and work on trees whose nodes are loaded from storage on demand.
 * `Dictionary.fromSorted`: a build from sorted arrays gives what `from` gives, and refuses
 * keys out of order. `countRange` (a binary search per node) counts what the range holds.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys, Dictionary, type Key, type RangeOptions, setNodeCapacity } from '../src/index.js';
import { KBranch, type KNode, type KSlot } from '../src/internal/keyed-node.js';
import { load } from '../src/internal/keyed-tree.js';
import { anyKey, checkTree, commitOutcome, openSpace, roundTrip, type SpaceHandle } from './helpers.js';

/** The leaves of a tree (as the nodes themselves). */
function leavesOf(root: KSlot | undefined): KNode[] {
  if (root === undefined) return [];
  const node = load(root);
  return node instanceof KBranch ? node.kids.flatMap(leavesOf) : [node];
}

const intKey = fc.integer({ min: 0, max: 600 });
const change = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constant('set' as const), intKey, fc.integer({ min: 0, max: 9 })) },
  { weight: 2, arbitrary: fc.tuple(fc.constant('delete' as const), intKey, fc.constant(0)) },
);

function oneByOne<V>(d: Dictionary<Key, V>, removals: readonly Key[], sets: readonly (readonly [Key, V])[]) {
  let out = d;
  for (const k of removals) out = out.delete(k);
  for (const [k, v] of sets) out = out.set(k, v);
  return out;
}

describe('Dictionary.withChanges', () => {
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64));

  it('gives what the same deletes and sets one by one give, on trees of up to 4 levels', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(intKey, { maxLength: 600 }),
        fc.array(change, { maxLength: 300 }),
        (initial, changes) => {
          const base = Dictionary.from<number, number>(initial.map((k) => [k, -1]));
          const baseEntries = [...base];
          const removals = changes.filter((c) => c[0] === 'delete').map((c) => c[1]);
          const sets = changes.filter((c) => c[0] === 'set').map((c) => [c[1], c[2]] as const);
          const merged = base.withChanges({ set: sets, delete: removals });
          const expected = oneByOne(base as Dictionary<Key, number>, removals, sets);
          expect([...merged]).toEqual([...expected]);
          expect(merged.size).toBe(expected.size);
          checkTree(merged._slot() as KSlot | undefined, { quarterFull: true });
          expect([...base]).toEqual(baseEntries); // persistent: the old version is intact
          // The result keeps working with one-by-one updates.
          const later = merged.set(601, 1).delete(initial[0] ?? 0);
          expect([...later]).toEqual([...expected.set(601, 1).delete(initial[0] ?? 0)]);
          checkTree(later._slot() as KSlot | undefined, { quarterFull: true });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every node at least a quarter full when most keys are deleted', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(intKey, { minLength: 100, maxLength: 600 }),
        fc.double({ min: 0.5, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (initial, share, seed) => {
          const base = Dictionary.from(initial.map((k) => [k, k] as const));
          // A pseudo-random share of the keys, chosen from the seed.
          const removals = initial.filter((k) => ((k * 2_654_435_761 + seed) >>> 0) / 2 ** 32 < share);
          const merged = base.withChanges({ delete: removals });
          expect([...merged]).toEqual([...oneByOne(base, removals, [])]);
          checkTree(merged._slot() as KSlot | undefined, { quarterFull: true });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles any key type, repeated keys (the last set wins) and a key both deleted and set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyKey, fc.integer()), { maxLength: 80 }),
        fc.array(fc.tuple(anyKey, fc.integer()), { maxLength: 80 }),
        fc.array(anyKey, { maxLength: 40 }),
        (initial, sets, removals) => {
          const base = Dictionary.from(initial);
          const merged = base.withChanges({ set: sets, delete: removals });
          expect([...merged]).toEqual([...oneByOne(base, removals, sets)]);
          checkTree(merged._slot() as KSlot | undefined, { quarterFull: true });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the subtrees no change falls in, and returns itself when nothing changes', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => i);
    const base = Dictionary.from(keys.map((k) => [k, k] as const));
    expect(base.withChanges({ set: [[5, 5]], delete: [5000] })).toBe(base);
    expect(base.withChanges({})).toBe(base);
    const merged = base.withChanges({
      set: [
        [10, -1],
        [1990, -1],
      ],
      delete: [20],
    });
    // The three leaves the changes fall in (of 8 keys each) are new; every other leaf is the old tree's.
    const root = merged._slot() as KSlot;
    const old = new Set(leavesOf(base._slot() as KSlot));
    const leaves = leavesOf(root);
    expect(leaves.filter((leaf) => !old.has(leaf))).toHaveLength(3);
    expect(leaves.length).toBe(old.size);
    expect(merged.get(10)).toBe(-1);
    expect(merged.get(20)).toBeUndefined();
    checkTree(root, { quarterFull: true });
    // Deleting nearly everything leaves a valid, small tree.
    const emptied = base.withChanges({ delete: keys.slice(1) });
    expect([...emptied]).toEqual([[0, 0]]);
    checkTree(emptied._slot() as KSlot | undefined, { quarterFull: true });
    expect(base.withChanges({ delete: keys }).size).toBe(0);
  });

  describe('on a stored tree', () => {
    let handle: SpaceHandle;
    beforeAll(async () => {
      handle = await openSpace(undefined, 5);
    });
    afterAll(async () => {
      await handle.space.close();
    });

    it('merges into nodes loaded on demand and stores the result', async () => {
      const rnd =
        fc.sample(fc.array(change, { minLength: 200, maxLength: 200 }), { numRuns: 1, seed: 7 })[0] ?? [];
      const initial = Array.from({ length: 1500 }, (_, i) => [i * 2, i] as const);
      const stored = await roundTrip(handle, 'd', Dictionary.from(initial), 'evict');
      const removals = rnd.filter((c) => c[0] === 'delete').map((c) => c[1]);
      const sets = rnd.filter((c) => c[0] === 'set').map((c) => [c[1], c[2]] as const);
      const expected = [...oneByOne(Dictionary.from(initial) as Dictionary<Key, number>, removals, sets)];
      const merged = stored.withChanges({ set: sets, delete: removals });
      expect([...merged]).toEqual(expected);
      const reread = await roundTrip(handle, 'd', merged, 'reopen');
      expect([...reread]).toEqual(expected);
    });
  });

  describe('in a transaction', () => {
    let handle: SpaceHandle;
    beforeAll(async () => {
      handle = await openSpace();
    });
    afterAll(async () => {
      await handle.space.close();
    });
    type Scores = Dictionary<string, number>;
    const seed = (entries: [string, number][]) =>
      handle.space.database('tx').transact((tx) => tx.set('s', Dictionary.from(entries)));
    const read = () => [
      ...(handle.space.database('tx').begin({ readOnly: true }).get<Scores>('s') as Scores),
    ];

    it('is one operation: its own later reads see it, and it replays on a newer version', async () => {
      await seed([
        ['a', 1],
        ['b', 2],
        ['x', 9],
      ]);
      const db = handle.space.database('tx');
      const t1 = db.begin();
      const t2 = db.begin();
      const d1 = (t1.get<Scores>('s') as Scores).withChanges({ set: [['c', 3]], delete: ['a'] });
      expect(d1.get('a')).toBeUndefined();
      expect([...d1.keys()]).toEqual(['b', 'c', 'x']);
      t1.set('s', d1);
      const d2 = (t2.get<Scores>('s') as Scores).withChanges({
        set: [
          ['d', 4],
          ['b', 20],
        ],
      });
      t2.set('s', d2);
      expect(await commitOutcome(t1)).toBe('ok');
      // t2 read nothing: it rebases onto t1's commit, its changes replayed there.
      expect(await commitOutcome(t2)).toBe('ok');
      expect(read()).toEqual([
        ['b', 20],
        ['c', 3],
        ['d', 4],
        ['x', 9],
      ]);
    });

    it('conflicts with a transaction that read a key it changed', async () => {
      await seed([
        ['a', 1],
        ['b', 2],
      ]);
      const db = handle.space.database('tx');
      const reader = db.begin();
      const writer = db.begin();
      const seen = (reader.get<Scores>('s') as Scores).get('b') ?? 0;
      reader.set('s', (reader.get<Scores>('s') as Scores).set('a', seen + 1));
      writer.set('s', (writer.get<Scores>('s') as Scores).withChanges({ set: [['b', 50]] }));
      expect(await commitOutcome(writer)).toBe('ok');
      expect(await commitOutcome(reader)).toBe('conflict');
      expect(read()).toEqual([
        ['a', 1],
        ['b', 50],
      ]);
    });

    it('sets nested collections one by one, each tracked per key', async () => {
      await handle.space.database('tx').transact((tx) => tx.set('n', Dictionary.empty<string, Scores>()));
      await handle.space.database('tx').transact((tx) => {
        const outer = tx.get<Dictionary<string, Scores>>('n') as Dictionary<string, Scores>;
        tx.set('n', outer.withChanges({ set: [['cart', Dictionary.from<string, number>([['apple', 1]])]] }));
      });
      const outer = handle.space
        .database('tx')
        .begin({ readOnly: true })
        .get<Dictionary<string, Scores>>('n');
      expect([...(outer?.get('cart') ?? Dictionary.empty())]).toEqual([['apple', 1]]);
    });
  });
});

describe('Dictionary.fromSorted', () => {
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64));

  it('gives what from() gives for keys in ascending order, with values or one value for all', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(anyKey, { maxLength: 300, comparator: (a, b) => compareKeys(a, b) === 0 }),
        (raw) => {
          const keys = [...raw].sort(compareKeys);
          const values = keys.map((_, i) => i);
          const built = Dictionary.fromSorted(keys, values);
          expect([...built]).toEqual([...Dictionary.from(keys.map((k, i) => [k, i] as const))]);
          checkTree(built._slot() as KSlot | undefined, { quarterFull: true });
          const set = Dictionary.fromSorted(keys, true);
          expect([...set.values()].every((v) => v === true)).toBe(true);
          expect(set.size).toBe(keys.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses keys out of order, repeated keys and arrays of different lengths', () => {
    expect(() => Dictionary.fromSorted(['b', 'a'], true)).toThrow(/strictly ascending; key 1/);
    expect(() => Dictionary.fromSorted([1, 1], true)).toThrow(/strictly ascending/);
    expect(() => Dictionary.fromSorted([0, -0], true)).toThrow(/strictly ascending/);
    expect(() => Dictionary.fromSorted(['a', 'b'], [1])).toThrow(/2 keys but 1 values/);
    expect(() => Dictionary.fromSorted([{} as never], true)).toThrow(/not a key/);
    expect(Dictionary.fromSorted([], []).size).toBe(0);
  });
});

describe('Dictionary.countRange', () => {
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64));

  it('counts the entries a range holds, on trees of up to 4 levels, with composite keys too', () => {
    const bound = fc.integer({ min: -5, max: 1005 });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 50, maxLength: 1000 }),
        fc.array(
          fc.record(
            { from: bound, to: bound, fromInclusive: fc.boolean(), toInclusive: fc.boolean() },
            { requiredKeys: [] },
          ),
          { minLength: 1, maxLength: 8 },
        ),
        (keys, ranges) => {
          const d = Dictionary.from(keys.map((k) => [k, k] as const));
          // The same keys as [k >> 4, k & 15] arrays: the same order, compared element-wise.
          const pairs = Dictionary.from<Key, number>(keys.map((k) => [[k >> 4, k & 15], k]));
          for (const r of ranges) {
            const inside = keys.filter(
              (k) =>
                (r.from === undefined || (r.fromInclusive === false ? k > r.from : k >= r.from)) &&
                (r.to === undefined || (r.toInclusive === true ? k <= r.to : k < r.to)),
            ).length;
            expect(d.countRange(r)).toBe(inside);
            // k ↦ [k >> 4, k & 15] keeps the order for k ≥ -16, so the range maps over too.
            const pr: RangeOptions<Key> = {
              ...(r.fromInclusive === undefined ? {} : { fromInclusive: r.fromInclusive }),
              ...(r.toInclusive === undefined ? {} : { toInclusive: r.toInclusive }),
              ...(r.from === undefined ? {} : { from: [r.from >> 4, r.from & 15] }),
              ...(r.to === undefined ? {} : { to: [r.to >> 4, r.to & 15] }),
            };
            expect(pairs.countRange(pr)).toBe(inside);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
