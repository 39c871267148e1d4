import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys, RepeatedKeysDictionary, setNodeCapacity } from '../src/index.js';
import { openSpace, roundTrip, type SpaceHandle } from './helpers.js';

describe('collections: RepeatedKeysDictionary (model-based)', () => {
  let handle: SpaceHandle;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 50);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('matches a Map-of-Sets model when add, remove and removeKey run at random, through storage', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const value = fc.integer({ min: 0, max: 30 });
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key, value }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), key, value }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeKey' as const), key }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('persist' as const),
          mode: fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
        }),
      },
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 150 }),
        key,
        key,
        fc.boolean(),
        async (ops, a, b, reverse) => {
          const model = new Map<string, Set<number>>();
          let d = RepeatedKeysDictionary.empty<string, number>();
          for (const o of ops) {
            if (o.kind === 'add') {
              d = d.add(o.key, o.value);
              model.set(o.key, (model.get(o.key) ?? new Set()).add(o.value));
            } else if (o.kind === 'remove') {
              d = d.remove(o.key, o.value);
              model.get(o.key)?.delete(o.value);
              if (model.get(o.key)?.size === 0) model.delete(o.key);
            } else if (o.kind === 'removeKey') {
              d = d.removeKey(o.key);
              model.delete(o.key);
            } else {
              d = await roundTrip(handle, `r${round++}`, d, o.mode);
            }
          }
          const keys = [...model.keys()].sort();
          expect([...d.keys()]).toEqual(keys);
          expect(d.size).toBe([...model.values()].reduce((n, s) => n + s.size, 0));
          for (const k of ['a', 'b', 'c', 'd', 'e']) {
            const vals = [...(model.get(k) ?? [])].sort((x, y) => x - y);
            expect(d.count(k)).toBe(vals.length);
            expect([...d.values(k, { reverse })]).toEqual(reverse ? vals.reverse() : vals);
            for (const v of vals) expect(d.has(k, v)).toBe(true);
          }
          const [from, to] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
          expect([...d.keys({ from, to })]).toEqual(keys.filter((k) => k >= from && k < to));
        },
      ),
      { numRuns: 100 },
    );
  });
});
