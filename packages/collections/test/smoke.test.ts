import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';
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

  it('gives the keys of a one-leaf dictionary in order through the internal _leafKeys, and nothing for larger trees', async () => {
    const small = Dictionary.from([
      ['b', 2],
      ['a', 1],
    ]);
    expect(small._leafKeys()).toEqual(['a', 'b']);
    expect(Dictionary.from<string, number>([])._leafKeys()).toEqual([]);
    const large = Dictionary.from(Array.from({ length: 500 }, (_, i) => [i, i] as const));
    expect(large._leafKeys()).toBeUndefined();
    const h = await openSpace();
    const back = await roundTrip(h, 'small', small, 'reopen');
    expect(back._leafKeys()).toEqual(['a', 'b']);
    await h.space.close();
  });
});
