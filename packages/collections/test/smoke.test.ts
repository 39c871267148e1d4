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
});
