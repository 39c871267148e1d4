import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  compareKeys,
  cursorOf,
  Dictionary,
  type Key,
  type KeyRange,
  leafKeysOf,
  setNodeCapacity,
} from '../src/index.js';
import { anyKey, openSpace, roundTrip, type SpaceHandle } from './helpers.js';

// Issue 10: the ordered access `@proto/query` relies on (`cursorOf`, `leafKeysOf`) is public
// API of this package, checked here against a sorted-array model instead of by self-tests at
// first use in query.

type Entry = [Key, number];

/** `key` as the dictionary stores it (`-0` is `0`), for deep equality. */
function stored(key: Key): Key {
  if (key === 0) return 0;
  return Array.isArray(key) ? Object.freeze(key.map(stored)) : key;
}

/** The model: entries sorted by `compareKeys`, the last value of a repeated key winning. */
function sortedModel(entries: readonly (readonly [Key, number])[]): Entry[] {
  const out: Entry[] = [];
  const sorted = entries.map((e, i) => [e, i] as const);
  sorted.sort((a, b) => compareKeys(a[0][0], b[0][0]) || a[1] - b[1]);
  for (const [[k, v]] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && compareKeys(last[0], k) === 0) last[1] = v;
    else out.push([stored(k), v]);
  }
  return out;
}

function inRange(key: Key, range: KeyRange | undefined): boolean {
  if (range === undefined) return true;
  if (range.from !== undefined) {
    const c = compareKeys(key, range.from);
    if (range.fromInclusive === false ? c <= 0 : c < 0) return false;
  }
  if (range.to !== undefined) {
    const c = compareKeys(key, range.to);
    if (range.toInclusive === true ? c > 0 : c >= 0) return false;
  }
  return true;
}

function expected(model: readonly Entry[], range: KeyRange | undefined, reverse: boolean): Entry[] {
  const hits = model.filter(([k]) => inRange(k, range));
  return reverse ? hits.reverse() : hits;
}

function walk(dict: Dictionary<Key, number>, range: KeyRange | undefined, reverse: boolean): Entry[] {
  const cursor = cursorOf(dict, range, reverse);
  const out: Entry[] = [];
  while (cursor.next()) out.push([cursor.key, cursor.value]);
  // Exhausted cursors stay exhausted.
  expect(cursor.next()).toBe(false);
  return out;
}

const bound = fc.option(anyKey, { nil: undefined });
const keyRange: fc.Arbitrary<KeyRange | undefined> = fc.option(
  fc.record(
    { from: bound, to: bound, fromInclusive: fc.boolean(), toInclusive: fc.boolean() },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const entries = fc.array(fc.tuple(anyKey, fc.integer({ min: 0, max: 999 })), { maxLength: 300 });

/** Builds the dictionary bottom-up, or by single inserts and deletes (splits and merges). */
function build(list: readonly (readonly [Key, number])[], byInsert: boolean, drop: number) {
  if (!byInsert) return { dict: Dictionary.from<Key, number>(list), model: sortedModel(list) };
  let dict = Dictionary.empty<Key, number>();
  for (const [k, v] of list) dict = dict.set(k, v);
  let model = sortedModel(list);
  for (let i = 0; i < model.length; i += drop) dict = dict.delete((model[i] as Entry)[0]);
  model = model.filter((_, i) => i % drop !== 0);
  return { dict, model };
}

describe('collections: ordered access (model-based)', () => {
  afterEach(() => setNodeCapacity(64));

  it('walks exactly the sorted model of a random range, forward and reverse, when the tree has one leaf or many', () => {
    fc.assert(
      fc.property(
        entries,
        fc.constantFrom(8, 16, 64),
        fc.boolean(),
        fc.integer({ min: 2, max: 7 }),
        fc.array(fc.tuple(keyRange, fc.boolean()), { minLength: 1, maxLength: 6 }),
        (list, capacity, byInsert, drop, ranges) => {
          setNodeCapacity(capacity);
          const { dict, model } = build(list, byInsert, drop);
          expect(dict.size).toBe(model.length);
          for (const [range, reverse] of ranges) {
            expect(walk(dict, range, reverse)).toEqual(expected(model, range, reverse));
          }
          expect(walk(dict, undefined, false)).toEqual(model);
          const keys = leafKeysOf(dict);
          if (dict.depth <= 1) expect(keys).toEqual(model.map(([k]) => k));
          else expect(keys).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('collections: ordered access through storage (model-based)', () => {
  let handle: SpaceHandle;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 20);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('walks the sorted model with every stored value resolved when the tree is read back from storage', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        entries,
        fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
        fc.array(fc.tuple(keyRange, fc.boolean()), { minLength: 1, maxLength: 4 }),
        async (list, mode, ranges) => {
          // Values are nested dictionaries, stored as atoms of their own: a cursor must hand
          // out the dictionary, never a reference to it.
          const nested = list.map(([k, v]) => [k, Dictionary.from([[v, v]])] as const);
          const stored = Dictionary.from<Key, Dictionary<number, number>>(nested);
          const back = await roundTrip(handle, `d${round++}`, stored, mode);
          const model = sortedModel(list);
          for (const [range, reverse] of ranges) {
            const cursor = cursorOf(back, range, reverse);
            const seen: Entry[] = [];
            while (cursor.next()) {
              expect(cursor.value).toBeInstanceOf(Dictionary);
              seen.push([cursor.key, cursor.value.first()?.[0] as number]);
            }
            expect(seen).toEqual(expected(model, range, reverse));
          }
          const keys = leafKeysOf(back);
          if (back.depth <= 1) expect(keys).toEqual(model.map(([k]) => k));
          else expect(keys).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });
});
