import { isProtoError } from '@proto/atom';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CollectionError, compareKeys, Dictionary, type Key } from '../src/index.js';
import { anyKey } from './helpers.js';

describe('collections: key order', () => {
  it('orders keys by type rank, then within the type, when keys of every type are mixed', () => {
    const ascending: Key[] = [
      null,
      false,
      true,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      -1n,
      -0.5,
      0,
      0n,
      0.5,
      1,
      1n,
      2 ** 53,
      2n ** 53n,
      2n ** 53n + 1n,
      Number.POSITIVE_INFINITY,
      '',
      'A',
      'a',
      'ab',
      'b',
      '\uffff',
      new Date(Number.NaN),
      new Date(-1),
      new Date(0),
      new Uint8Array([]),
      new Uint8Array([0]),
      new Uint8Array([0, 0]),
      new Uint8Array([1]),
      [],
      [null],
      [1],
      [1, 'a'],
      ['a'],
      [['nested']],
    ];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        expect(Math.sign(compareKeys(ascending[i], ascending[j])), `${i} vs ${j}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('treats -0 and 0 as one key, and NaN as one key, when used in a dictionary', () => {
    const d = Dictionary.empty<number, string>()
      .set(-0, 'zero')
      .set(Number.NaN, 'nan')
      .set(Number.NaN, 'nan2');
    expect(d.size).toBe(2);
    expect(d.get(0)).toBe('zero');
    expect(Object.is([...d.keys()][1], 0)).toBe(true);
    expect(d.get(Number.NaN)).toBe('nan2');
  });

  it('behaves as a total order (antisymmetric, transitive) when comparing generated keys', () => {
    fc.assert(
      fc.property(anyKey, anyKey, anyKey, (a, b, c) => {
        expect(Math.sign(compareKeys(a, b)) + Math.sign(compareKeys(b, a))).toBe(0);
        if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0)
          expect(compareKeys(a, c)).toBeLessThanOrEqual(0);
        expect(compareKeys(a, a)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('throws a typed invalid-argument error when a key is not orderable', () => {
    const d = Dictionary.empty();
    for (const bad of [undefined, { a: 1 }, Symbol('s'), () => 1, [1, undefined], new Map()]) {
      let caught: unknown;
      try {
        d.set(bad as never, 1);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CollectionError);
      expect(
        isProtoError(caught) && caught.reason === 'invalid-argument' && caught.layer === 'collections',
      ).toBe(true);
    }
    expect(() => d.get({} as never)).toThrowError(/not a key/);
  });

  it('keeps lookups right when the caller mutates an array or Date key after inserting it', () => {
    const key = [1, 2];
    const date = new Date(5);
    const d = Dictionary.empty<Key, number>().set(key, 1).set(date, 2);
    key[0] = 9;
    date.setTime(0);
    expect(d.get([1, 2])).toBe(1);
    expect(d.get(new Date(5))).toBe(2);
    expect(d.get([9, 2])).toBeUndefined();
  });
});
