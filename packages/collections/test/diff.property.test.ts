/**
 * Structural diffs of every collection kind: on random histories of versions, the diff of
 * every pair of versions, applied to the older one, gives the newer one; it comes in the
 * kind's order with each key once; the reverse diff is its inverse; and a version's diff with
 * itself is empty.
 */
import { diff, type EntryChange } from '@proto/atom';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountedSet,
  compareKeys,
  Dictionary,
  HashDictionary,
  List,
  OrderedSet,
  RepeatedKeysDictionary,
  setNodeCapacity,
} from '../src/index.js';

interface Update {
  readonly add: boolean;
  readonly key: number;
  readonly value: number;
}

const update: fc.Arbitrary<Update> = fc.record({
  add: fc.boolean(),
  key: fc.integer({ min: 0, max: 150 }),
  value: fc.integer({ min: 0, max: 3 }),
});

interface Kind<C> {
  readonly name: string;
  empty(): C;
  apply(c: C, u: Update): C;
  /** `older` with the diff's changes applied. */
  patch(older: C, changes: readonly EntryChange[]): C;
  contents(c: C): unknown;
  /** True when the diff's keys come in this kind's order. */
  ordered(changes: readonly EntryChange[]): boolean;
}

const ascending = (changes: readonly EntryChange[]) =>
  changes.every((c, i) => i === 0 || compareKeys(changes[i - 1]?.key, c.key) < 0);

const kinds = [
  {
    name: 'Dictionary',
    empty: () => Dictionary.empty<number, unknown>(),
    apply: (c: Dictionary<number, unknown>, u: Update) =>
      u.add ? c.set(u.key, u.value === 3 ? { nested: [u.key, 'x'.repeat(80)] } : u.value) : c.delete(u.key),
    patch: (c: Dictionary<number, unknown>, changes: readonly EntryChange[]) =>
      changes.reduce(
        (d, ch) =>
          ch.kind === 'removed' ? d.delete(ch.key as number) : d.set(ch.key as number, ch.newValue),
        c,
      ),
    contents: (c: Dictionary<number, unknown>) => [c.size, [...c.entries()]],
    ordered: ascending,
  } satisfies Kind<Dictionary<number, unknown>>,
  {
    name: 'OrderedSet',
    empty: () => OrderedSet.empty<number>(),
    apply: (c: OrderedSet<number>, u: Update) => (u.add ? c.add(u.key) : c.delete(u.key)),
    patch: (c: OrderedSet<number>, changes: readonly EntryChange[]) =>
      changes.reduce(
        (s, ch) => (ch.kind === 'removed' ? s.delete(ch.key as number) : s.add(ch.key as number)),
        c,
      ),
    contents: (c: OrderedSet<number>) => [c.size, [...c.values()]],
    ordered: ascending,
  } satisfies Kind<OrderedSet<number>>,
  {
    name: 'CountedSet',
    empty: () => CountedSet.empty<number>(),
    apply: (c: CountedSet<number>, u: Update) =>
      u.add ? c.add(u.key, u.value + 1) : c.remove(u.key, Math.min(u.value + 1, c.count(u.key))),
    patch: (c: CountedSet<number>, changes: readonly EntryChange[]) =>
      changes.reduce((s, ch) => {
        const key = ch.key as number;
        const cleared = s.remove(key, s.count(key));
        return ch.kind === 'removed' ? cleared : cleared.add(key, ch.newValue as number);
      }, c),
    contents: (c: CountedSet<number>) => [c.size, c.distinctSize, [...c.entries()]],
    ordered: ascending,
  } satisfies Kind<CountedSet<number>>,
  {
    name: 'HashDictionary',
    empty: () => HashDictionary.empty<{ k: number }, number>(),
    apply: (c: HashDictionary<{ k: number }, number>, u: Update) =>
      u.add ? c.set({ k: u.key }, u.value) : c.delete({ k: u.key }),
    patch: (c: HashDictionary<{ k: number }, number>, changes: readonly EntryChange[]) =>
      changes.reduce(
        (d, ch) =>
          ch.kind === 'removed'
            ? d.delete(ch.key as { k: number })
            : d.set(ch.key as { k: number }, ch.newValue as number),
        c,
      ),
    contents: (c: HashDictionary<{ k: number }, number>) => [
      c.size,
      [...c.entries()].sort((a, b) => a[0].k - b[0].k),
    ],
    // Hash order: each key once is what can be checked without the hash.
    ordered: (changes: readonly EntryChange[]) =>
      new Set(changes.map((c) => (c.key as { k: number }).k)).size === changes.length,
  } satisfies Kind<HashDictionary<{ k: number }, number>>,
  {
    name: 'RepeatedKeysDictionary',
    empty: () => RepeatedKeysDictionary.empty<number, number>(),
    apply: (c: RepeatedKeysDictionary<number, number>, u: Update) =>
      u.add ? c.add(u.key % 30, u.value) : c.remove(u.key % 30, u.value),
    patch: (c: RepeatedKeysDictionary<number, number>, changes: readonly EntryChange[]) =>
      changes.reduce(
        (d, ch) =>
          ch.kind === 'removed'
            ? d.remove(ch.key as number, ch.oldValue as number)
            : d.add(ch.key as number, ch.newValue as number),
        c,
      ),
    contents: (c: RepeatedKeysDictionary<number, number>) => [c.size, [...c.entries()]],
    ordered: (changes: readonly EntryChange[]) =>
      changes.every(
        (c, i) =>
          i === 0 ||
          compareKeys(
            [changes[i - 1]?.key, changes[i - 1]?.oldValue ?? changes[i - 1]?.newValue],
            [c.key, c.oldValue ?? c.newValue],
          ) < 0,
      ),
  } satisfies Kind<RepeatedKeysDictionary<number, number>>,
  {
    name: 'List',
    empty: () => List.empty<number>(),
    apply: (c: List<number>, u: Update) => {
      const at = c.size === 0 ? 0 : u.key % c.size;
      switch (u.value) {
        case 0:
          return u.add ? c.append(u.key) : c.prepend(-u.key);
        case 1:
          return u.add || c.size === 0 ? c.insert(at, u.key) : c.remove(at);
        case 2:
          return c.size === 0 ? c.append(u.key) : c.set(at, u.key % 3);
        default:
          return c.size === 0 || u.add ? c.append(u.key) : c.remove(c.size - 1);
      }
    },
    // Changed positions first, then removals from the end down, then additions upward.
    patch: (c: List<number>, changes: readonly EntryChange[]) => {
      let out = c;
      for (const ch of changes)
        if (ch.kind === 'changed') out = out.set(ch.key as number, ch.newValue as number);
      const removed = changes.filter((ch) => ch.kind === 'removed').map((ch) => ch.key as number);
      for (const i of removed.sort((a, b) => b - a)) out = out.remove(i);
      for (const ch of changes)
        if (ch.kind === 'added') out = out.insert(ch.key as number, ch.newValue as number);
      return out;
    },
    contents: (c: List<number>) => [c.size, [...c]],
    ordered: (changes: readonly EntryChange[]) => {
      const rank = { changed: 0, added: 1, removed: 1 } as const;
      return changes.every((c, i) => {
        const p = changes[i - 1];
        if (p === undefined) return true;
        return rank[p.kind] < rank[c.kind] || (p.kind === c.kind && (p.key as number) < (c.key as number));
      });
    },
  } satisfies Kind<List<number>>,
] as const;

describe('collections: structural diffs of every kind', () => {
  // Small nodes: a hundred entries make a tree of several levels.
  beforeAll(() => setNodeCapacity(8));
  afterAll(() => setNodeCapacity(64, 128));

  for (const kind of kinds) {
    it(`${kind.name}: the diff of every pair of versions turns the older into the newer`, () => {
      const k = kind as unknown as Kind<unknown>;
      fc.assert(
        fc.property(
          fc.array(fc.array(update, { maxLength: 25 }), { minLength: 1, maxLength: 6 }),
          (history) => {
            const versions = [k.empty()];
            for (const updates of history) versions.push(updates.reduce(k.apply, versions.at(-1)));
            for (let i = 0; i < versions.length; i++) {
              expect([...diff(versions[i], versions[i])]).toEqual([]);
              for (let j = 0; j < versions.length; j++) {
                if (i === j) continue;
                const changes = [...diff(versions[i], versions[j])];
                expect(k.contents(k.patch(versions[i], changes))).toEqual(k.contents(versions[j]));
                expect(k.ordered(changes), `${kind.name} order`).toBe(true);
                for (const c of changes) {
                  if (c.kind === 'added') expect(c.oldValue).toBeUndefined();
                  if (c.kind === 'removed') expect(c.newValue).toBeUndefined();
                }
              }
            }
            // From nothing, everything is added; to nothing, everything is removed.
            const last = versions.at(-1);
            const all = [...diff(undefined, last)];
            expect(all.every((c) => c.kind === 'added')).toBe(true);
            expect(k.contents(k.patch(k.empty(), all))).toEqual(k.contents(last));
            const gone = [...diff(last, undefined)];
            expect(gone.map((c) => [c.key, c.oldValue])).toEqual(all.map((c) => [c.key, c.newValue]));
            expect(gone.every((c) => c.kind === 'removed')).toBe(true);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('a value that is not a collection is one change with key undefined', () => {
    expect([...diff(1, 2)]).toEqual([{ kind: 'changed', key: undefined, oldValue: 1, newValue: 2 }]);
    expect([...diff({ a: [1] }, { a: [1] })]).toEqual([]);
    expect([...diff(undefined, 'x')]).toEqual([
      { kind: 'added', key: undefined, oldValue: undefined, newValue: 'x' },
    ]);
    const d = Dictionary.from([[1, 'a']]);
    // Different kinds are compared as whole values.
    expect([...diff(d, 5)]).toEqual([{ kind: 'changed', key: undefined, oldValue: d, newValue: 5 }]);
  });

  it('a diff is lazy: taking the first change reads no further', () => {
    const big = Dictionary.from(Array.from({ length: 5000 }, (_, i) => [i, i] as [number, number]));
    const changed = big.set(10, -1).set(4000, -1);
    const it = diff(big, changed)[Symbol.iterator]();
    expect(it.next().value).toEqual({ kind: 'changed', key: 10, oldValue: 10, newValue: -1 });
    expect(it.next().value).toEqual({ kind: 'changed', key: 4000, oldValue: 4000, newValue: -1 });
    expect(it.next().done).toBe(true);
  });
});
