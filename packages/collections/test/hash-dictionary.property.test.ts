import { valuesEqual } from '@proto/atom';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashDictionary, setNodeCapacity } from '../src/index.js';
import { openSpace, roundTrip, type SpaceHandle } from './helpers.js';

const plainKey = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 2 }),
  fc.constantFrom(null, undefined, true, -0, Number.NaN),
  fc.record({ x: fc.integer({ min: 0, max: 3 }), y: fc.constantFrom('a', 'b') }),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
);

describe('collections: HashDictionary (model-based)', () => {
  let handle: SpaceHandle;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 50);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('matches an association-list model when keys are compared by value, through storage', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: plainKey, value: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: plainKey }),
      fc.record({ kind: fc.constant('increment' as const), key: plainKey }),
      fc.record({
        kind: fc.constant('persist' as const),
        mode: fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
      }),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
        const model: [unknown, number][] = [];
        const find = (k: unknown) => model.findIndex(([mk]) => valuesEqual(mk, k));
        let h = HashDictionary.empty<unknown, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            h = h.set(o.key, o.value);
            const i = find(o.key);
            if (i >= 0) (model[i] as [unknown, number])[1] = o.value;
            else model.push([o.key, o.value]);
          } else if (o.kind === 'delete') {
            h = h.delete(o.key);
            const i = find(o.key);
            if (i >= 0) model.splice(i, 1);
          } else if (o.kind === 'increment') {
            h = h.increment(o.key);
            const i = find(o.key);
            if (i >= 0) (model[i] as [unknown, number])[1] += 1;
            else model.push([o.key, 1]);
          } else {
            h = await roundTrip(handle, `h${round++}`, h, o.mode);
          }
        }
        expect(h.size).toBe(model.length);
        for (const [k, v] of model) expect(h.get(k)).toBe(v);
        const entries = [...h];
        expect(entries.length).toBe(model.length);
        for (const [k, v] of entries) expect(model[find(k)]?.[1]).toBe(v);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a key when it is an atom or a class instance', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    expect(() => HashDictionary.empty().set(new Point(1), 1)).toThrowError(/plain values/);
    expect(() => HashDictionary.empty().set(HashDictionary.empty(), 1)).toThrowError(/plain values/);
  });
});
