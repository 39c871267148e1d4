import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountedSet, compareKeys, type Key, OrderedSet, setNodeCapacity } from '../src/index.js';
import { anyKey, canon, openSpace, roundTrip, type SpaceHandle } from './helpers.js';

const persist = fc.record({
  kind: fc.constant('persist' as const),
  mode: fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
});

describe('collections: OrderedSet and CountedSet (model-based)', () => {
  let handle: SpaceHandle;
  let round = 0;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 50);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('matches a Map model when elements are added and deleted at random, through storage', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: anyKey }),
      fc.record({ kind: fc.constant('delete' as const), key: anyKey }),
      persist,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 150 }),
        anyKey,
        anyKey,
        fc.boolean(),
        async (ops, a, b, reverse) => {
          const model = new Map<string, Key>();
          let s = OrderedSet.empty<Key>();
          for (const o of ops) {
            if (o.kind === 'add') {
              s = s.add(o.key);
              if (!model.has(canon(o.key))) model.set(canon(o.key), o.key);
            } else if (o.kind === 'delete') {
              s = s.delete(o.key);
              model.delete(canon(o.key));
            } else {
              s = await roundTrip(handle, `s${round++}`, s, o.mode);
            }
          }
          const sorted = [...model.values()].sort(compareKeys);
          expect(s.size).toBe(model.size);
          expect([...s].map(canon)).toEqual(sorted.map(canon));
          for (const k of sorted) expect(s.has(k)).toBe(true);
          const [from, to] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
          const expected = sorted
            .filter((k) => compareKeys(k, from) >= 0 && compareKeys(k, to) <= 0)
            .map(canon);
          if (reverse) expected.reverse();
          expect([...s.range({ from, to, toInclusive: true, reverse })].map(canon)).toEqual(expected);
          if (sorted.length > 0) expect(canon(s.at(-1))).toBe(canon(sorted[sorted.length - 1]));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('matches a count model when elements are added and removed with multiplicity, through storage', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: anyKey, times: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('remove' as const), key: anyKey, times: fc.integer({ min: 0, max: 3 }) }),
      persist,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 150 }), async (ops) => {
        const model = new Map<string, [Key, number]>();
        let s = CountedSet.empty<Key>();
        for (const o of ops) {
          if (o.kind === 'add') {
            s = s.add(o.key, o.times);
            const cur = model.get(canon(o.key));
            if (o.times > 0) model.set(canon(o.key), [cur?.[0] ?? o.key, (cur?.[1] ?? 0) + o.times]);
          } else if (o.kind === 'remove') {
            s = s.remove(o.key, o.times);
            const cur = model.get(canon(o.key));
            if (cur !== undefined) {
              if (cur[1] <= o.times) model.delete(canon(o.key));
              else model.set(canon(o.key), [cur[0], cur[1] - o.times]);
            }
          } else {
            s = await roundTrip(handle, `c${round++}`, s, o.mode);
          }
        }
        const sorted = [...model.values()].sort((x, y) => compareKeys(x[0], y[0]));
        expect(s.distinctSize).toBe(model.size);
        expect(s.size).toBe(sorted.reduce((n, [, c]) => n + c, 0));
        expect([...s].map(([k, c]) => [canon(k), c])).toEqual(sorted.map(([k, c]) => [canon(k), c]));
        for (const [k, c] of sorted) expect(s.count(k)).toBe(c);
        expect([...s.elements()].length).toBe(s.size);
      }),
      { numRuns: 100 },
    );
  });
});
