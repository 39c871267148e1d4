import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { List, setNodeCapacity } from '../src/index.js';
import { openSpace, roundTrip, type SpaceHandle } from './helpers.js';

type Op =
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'remove'; at: number }
  | { kind: 'append'; value: number }
  | { kind: 'prepend'; value: number }
  | { kind: 'slice'; start: number; end: number }
  | { kind: 'concat'; items: number[] }
  | { kind: 'concatSelf' }
  | { kind: 'persist'; mode: 'commit' | 'evict' | 'reopen' };

const pos = fc.nat({ max: 1000 });
const val = fc.integer({ min: 0, max: 999 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: pos, value: val }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: pos, value: val }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: pos }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), value: val }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('prepend' as const), value: val }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('slice' as const),
      start: fc.integer({ min: -20, max: 200 }),
      end: fc.integer({ min: -20, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('concat' as const), items: fc.array(val, { maxLength: 80 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('concatSelf' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('persist' as const),
      mode: fc.constantFrom('commit' as const, 'evict' as const, 'reopen' as const),
    }),
  },
);

describe('collections: List (model-based)', () => {
  let handle: SpaceHandle;
  beforeAll(async () => {
    setNodeCapacity(8);
    handle = await openSpace(undefined, 50);
  });
  afterAll(async () => {
    await handle.space.close();
    setNodeCapacity(64);
  });

  it('matches an array model when random positional operations run in memory and through storage', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 120 }),
        fc.record({ start: fc.nat({ max: 100 }), end: fc.nat({ max: 200 }), reverse: fc.boolean() }),
        async (ops, window) => {
          let model: number[] = [];
          let list = List.empty<number>();
          for (const o of ops) {
            switch (o.kind) {
              case 'insert': {
                const at = o.at % (model.length + 1);
                model.splice(at, 0, o.value);
                list = list.insert(at, o.value);
                break;
              }
              case 'set':
                if (model.length === 0) break;
                model[o.at % model.length] = o.value;
                list = list.set(o.at % model.length, o.value);
                break;
              case 'remove':
                if (model.length === 0) break;
                model.splice(o.at % model.length, 1);
                list = list.remove(o.at % (model.length + 1));
                break;
              case 'append':
                model.push(o.value);
                list = list.append(o.value);
                break;
              case 'prepend':
                model.unshift(o.value);
                list = list.prepend(o.value);
                break;
              case 'slice':
                model = model.slice(o.start, o.end);
                list = list.slice(o.start, o.end);
                break;
              case 'concat':
                model = model.concat(o.items);
                list = list.concat(List.from(o.items));
                break;
              case 'concatSelf':
                model = model.concat(model);
                list = list.concat(list);
                break;
              case 'persist':
                list = await roundTrip(handle, `l${round++}`, list, o.mode);
                break;
            }
            expect(list.size).toBe(model.length);
          }
          expect(list.toArray()).toEqual(model);
          expect(list.depth).toBeLessThanOrEqual(
            Math.max(1, Math.ceil(Math.log(Math.max(2, model.length)) / Math.log(2)) + 1),
          );
          for (let i = 0; i < model.length; i += 7) expect(list.get(i)).toBe(model[i]);
          expect(list.get(model.length)).toBeUndefined();
          expect(list.get(-1)).toBe(model[model.length - 1]);
          const expected = model.slice(window.start, Math.max(window.start, window.end));
          if (window.reverse) expected.reverse();
          expect([...list.values(window)]).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects out-of-range positions when setting or removing', () => {
    const l = List.from([1, 2, 3]);
    expect(() => l.set(3, 0)).toThrowError(/out of range/);
    expect(() => l.remove(-4)).toThrowError(/out of range/);
    expect(() => l.insert(5, 0)).toThrowError(/out of range/);
    expect(l.insert(3, 4).toArray()).toEqual([1, 2, 3, 4]);
  });
});
