import { describe, expect, it } from 'vitest';
import { Dictionary, leafKeysOf } from '../src/index.js';
import { openSpace, roundTrip } from './helpers.js';

describe('collections: smoke', () => {
  it('round-trips a dictionary when committed and reopened', async () => {
    const h = await openSpace();
    let d = Dictionary.empty<number, string>();
    for (let i = 0; i < 500; i++) d = d.set(i, `v${i}`);
    const back = await roundTrip(h, 'd', d, 'reopen');
    expect(back.size).toBe(500);
    expect(back.get(42)).toBe('v42');
    expect([...back.keys()].length).toBe(500);
    await h.space.close();
  });

  it('gives the keys of a one-leaf dictionary in order through leafKeysOf, and nothing for larger trees', async () => {
    const small = Dictionary.from([
      ['b', 2],
      ['a', 1],
    ]);
    expect(leafKeysOf(small)).toEqual(['a', 'b']);
    expect(leafKeysOf(Dictionary.from<string, number>([]))).toEqual([]);
    const large = Dictionary.from(Array.from({ length: 500 }, (_, i) => [i, i] as const));
    expect(leafKeysOf(large)).toBeUndefined();
    const h = await openSpace();
    const back = await roundTrip(h, 'small', small, 'reopen');
    expect(leafKeysOf(back)).toEqual(['a', 'b']);
    await h.space.close();
  });
});
