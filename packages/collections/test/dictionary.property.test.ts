import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys, Dictionary, type Key, OrderedSet, setNodeCapacity } from '../src/index.js';
import type { KSlot } from '../src/internal/keyed-node.js';
import { anyKey, canon, checkTree, openSpace, roundTrip, type SpaceHandle } from './helpers.js';

interface RangeCase {
  from?: Key;
  to?: Key;
  fromInclusive?: boolean;
  toInclusive?: boolean;
  reverse?: boolean;
}

const rangeCase: fc.Arbitrary<RangeCase> = fc.record(
  { from: anyKey, to: anyKey, fromInclusive: fc.boolean(), toInclusive: fc.boolean(), reverse: fc.boolean() },
  { requiredKeys: [] },
);

type Op =
  | { kind: 'set'; key: Key; value: number }
  | { kind: 'delete'; key: Key }
  | { kind: 'increment'; key: Key; delta: number }
  | { kind: 'persist'; mode: 'commit' | 'evict' | 'reopen' }
  | { kind: 'deleteRange'; range: RangeCase };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: anyKey,
      value: fc.integer({ min: 0, max: 99 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: anyKey }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('increment' as const),
      key: anyKey,
      delta: fc.integer({ min: -5, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('persist' as const),
      mode: fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteRange' as const),
      range: rangeCase,
    }),
  },
);

function sortedModel(model: Map<string, [Key, number]>): [Key, number][] {
  return [...model.values()].sort((a, b) => compareKeys(a[0], b[0]));
}

function inRange(key: Key, r: RangeCase): boolean {
  if (r.from !== undefined) {
    const c = compareKeys(key, r.from);
    if (r.fromInclusive === false ? c <= 0 : c < 0) return false;
  }
  if (r.to !== undefined) {
    const c = compareKeys(key, r.to);
    if (r.toInclusive === true ? c > 0 : c >= 0) return false;
  }
  return true;
}

function check(d: Dictionary<Key, number>, model: Map<string, [Key, number]>, ranges: RangeCase[]): void {
  const sorted = sortedModel(model);
  expect(d.size).toBe(model.size);
  expect([...d].map(([k, v]) => [canon(k), v])).toEqual(sorted.map(([k, v]) => [canon(k), v]));
  expect([...d.keys({ reverse: true })].map(canon)).toEqual(sorted.map(([k]) => canon(k)).reverse());
  for (const [k, v] of sorted) expect(d.get(k)).toBe(v);
  for (const r of ranges) {
    const expected = sorted.filter(([k]) => inRange(k, r)).map(([k, v]) => [canon(k), v]);
    if (r.reverse === true) expected.reverse();
    expect([...d.range(r)].map(([k, v]) => [canon(k), v])).toEqual(expected);
    expect(d.countRange(r)).toBe(expected.length);
  }
  if (sorted.length > 0) {
    const mid = sorted.length >> 1;
    expect(canon(d.at(mid)?.[0])).toBe(canon(sorted[mid]?.[0]));
    expect(canon(d.first()?.[0])).toBe(canon(sorted[0]?.[0]));
    expect(canon(d.last()?.[0])).toBe(canon(sorted[sorted.length - 1]?.[0]));
  } else {
    expect(d.first()).toBeUndefined();
  }
}

/** Older versions are unaffected by later updates. */
function checkOld(old: [Dictionary<Key, number>, [Key, number][]][]): void {
  for (const [version, entries] of old) {
    expect([...version].map(([k, v]) => [canon(k), v])).toEqual(entries.map(([k, v]) => [canon(k), v]));
  }
}

describe('collections: Dictionary (model-based)', () => {
  let handle: SpaceHandle;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 50);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('matches a Map model when random operations run in memory and through commit, eviction and reopen', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 150 }),
        fc.array(rangeCase, { maxLength: 4 }),
        async (ops, ranges) => {
          const model = new Map<string, [Key, number]>();
          let d = Dictionary.empty<Key, number>();
          const old: [Dictionary<Key, number>, [Key, number][]][] = [];
          for (const o of ops) {
            switch (o.kind) {
              case 'set':
                d = d.set(o.key, o.value);
                model.set(canon(o.key), [o.key, o.value]);
                break;
              case 'delete':
                d = d.delete(o.key);
                model.delete(canon(o.key));
                break;
              case 'increment': {
                const current = model.get(canon(o.key));
                d = d.increment(o.key, o.delta);
                model.set(canon(o.key), [current?.[0] ?? o.key, (current?.[1] ?? 0) + o.delta]);
                break;
              }
              case 'deleteRange':
                d = d.deleteRange(o.range);
                for (const [c, [k]] of model) if (inRange(k, o.range)) model.delete(c);
                break;
              case 'persist':
                if (o.mode === 'reopen') {
                  // Versions loaded from a space are readable while it is open: check them now.
                  checkOld(old);
                  old.length = 0;
                }
                d = await roundTrip(handle, `d${round++}`, d, o.mode);
                break;
            }
            if (old.length < 3 && model.size % 7 === 3) old.push([d, sortedModel(model)]);
          }
          check(d, model, ranges);
          checkOld(old);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('builds the same contents with from() as with repeated set() when given unsorted duplicates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyKey, fc.integer()), { maxLength: 300 }), (pairs) => {
        const built = Dictionary.from(pairs);
        let incremental = Dictionary.empty<Key, number>();
        for (const [k, v] of pairs) incremental = incremental.set(k, v);
        expect([...built].map(([k, v]) => [canon(k), v])).toEqual(
          [...incremental].map(([k, v]) => [canon(k), v]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('matches a Map model when string keys share long prefixes and differ in rare code units', () => {
    const unit = fc.constantFrom('a', 'b', '\u0000', '\uffff', 'é', '0', '1');
    const key = fc
      .tuple(fc.constantFrom('', 'rec-000', 'rec-0001', 'x'), fc.string({ unit, maxLength: 4 }))
      .map(([p, s]) => p + s);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), key), { maxLength: 400 }),
        fc.array(key, { maxLength: 20 }),
        (ops, probes) => {
          const model = new Map<string, number>();
          let d = Dictionary.empty<string, number>();
          ops.forEach(([del, k], i) => {
            if (del) {
              d = d.delete(k);
              model.delete(k);
            } else {
              d = d.set(k, i);
              model.set(k, i);
            }
          });
          const sorted = [...model.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect([...d.keys()]).toEqual(sorted);
          for (const k of [...sorted, ...probes]) expect(d.get(k)).toBe(model.get(k));
          for (const k of probes) expect([...d.keys({ from: k })]).toEqual(sorted.filter((x) => x >= k));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('deleteRange matches a sorted-Map model and keeps the tree balanced, on trees of up to 5 levels', () => {
    const bound = fc.integer({ min: -10, max: 1010 });
    const range = fc.record(
      { from: bound, to: bound, fromInclusive: fc.boolean(), toInclusive: fc.boolean() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 1000 }),
        fc.array(range, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }),
        (keys, ranges, later) => {
          let d = Dictionary.from(keys.map((k) => [k, k * 2] as const));
          let set = OrderedSet.from(keys);
          const model = new Map(keys.map((k) => [k, k * 2]));
          for (const r of ranges) {
            const before = d;
            const beforeEntries = [...before];
            d = d.deleteRange(r);
            set = set.deleteRange(r);
            for (const k of [...model.keys()]) if (inRange(k, r)) model.delete(k);
            const sorted = [...model].sort((a, b) => a[0] - b[0]);
            expect([...d]).toEqual(sorted);
            expect([...set]).toEqual(sorted.map(([k]) => k));
            expect(d.size).toBe(model.size);
            expect(set.size).toBe(model.size);
            for (let i = 0; i < sorted.length; i += 7) expect(d.at(i)).toEqual(sorted[i]);
            checkTree(d._slot() as KSlot | undefined);
            checkTree(set._slot() as KSlot | undefined);
            expect([...before]).toEqual(beforeEntries); // persistent: the old version is intact
          }
          // The tree stays usable for later updates.
          for (const k of later) {
            d = d.set(k, -k);
            model.set(k, -k);
          }
          expect([...d]).toEqual([...model].sort((a, b) => a[0] - b[0]));
          checkTree(d._slot() as KSlot | undefined);
        },
      ),
      { numRuns: 300 },
    );
  });
});
