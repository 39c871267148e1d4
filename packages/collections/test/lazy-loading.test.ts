import { LazyValue } from '@proto/atom';
import { describe, expect, it, vi } from 'vitest';
import { Dictionary, List } from '../src/index.js';
import { openSpace, reopen } from './helpers.js';

const key = (i: number) => `k${String(i).padStart(6, '0')}`;

/**
 * Counts `get()` on stored lazy values that hold records (plain objects): the leaf values read
 * or re-encoded. Node keys and sizes (arrays) are segments too and are not counted.
 */
function countStoredRecordReads(): { count: () => number; restore: () => void } {
  const get = LazyValue.prototype.get;
  let reads = 0;
  const spy = vi.spyOn(LazyValue.prototype, 'get').mockImplementation(function (this: LazyValue) {
    const value = get.call(this);
    if (this.isStored && !Array.isArray(value)) reads++;
    return value;
  });
  return { count: () => reads, restore: () => spy.mockRestore() };
}

describe('collections: lazy loading and eviction', () => {
  it('streams a tree larger than the cache when iterating, ranging and reading after reopen', async () => {
    const h = await openSpace(undefined, 40);
    const n = 20_000;
    await h.space.database('app').transact((tx) => {
      tx.set('d', Dictionary.from(Array.from({ length: n }, (_, i) => [key(i), i] as [string, number])));
      tx.set('l', List.from(Array.from({ length: n }, (_, i) => i)));
    });
    await reopen(h, 40);
    const tx = h.space.database('app').begin({ readOnly: true });
    const d = tx.get<Dictionary<string, number>>('d') as Dictionary<string, number>;
    let count = 0;
    let maxCached = 0;
    for (const [k, v] of d) {
      expect(k).toBe(key(v));
      count++;
      if (count % 500 === 0) maxCached = Math.max(maxCached, h.space.stats().cachedAtoms);
    }
    expect(count).toBe(n);
    expect([...d.keys({ from: key(100), to: key(110), reverse: true })]).toEqual(
      Array.from({ length: 10 }, (_, i) => key(109 - i)),
    );
    for (let i = 0; i < n; i += 997) expect(d.get(key(i))).toBe(i);
    const l = tx.get<List<number>>('l') as List<number>;
    let sum = 0;
    for (const x of l.values({ start: 5000, end: 15000 })) sum += x;
    expect(sum).toBe(((5000 + 14999) * 10000) / 2);
    maxCached = Math.max(maxCached, h.space.stats().cachedAtoms);
    expect(maxCached).toBeLessThanOrEqual(40);
    expect(h.space.stats().atomsLoaded).toBeGreaterThan(n / 64);
    await h.space.close();
  });

  it('loads nodes again after evictCaches when the tree was built and committed in this process', async () => {
    const h = await openSpace(undefined, 10_000);
    const db = h.space.database('app');
    await db.transact((tx) =>
      tx.set('d', Dictionary.from(Array.from({ length: 5000 }, (_, i) => [key(i), i] as [string, number]))),
    );
    const d = db.begin({ readOnly: true }).get<Dictionary<string, number>>('d') as Dictionary<string, number>;
    expect([...d.values()].length).toBe(5000); // a first pass switches stored children to references
    h.space.evictCaches();
    const before = h.space.stats().atomsLoaded;
    expect(d.get(key(4321))).toBe(4321);
    expect(h.space.stats().atomsLoaded - before).toBe(d.depth);
    await h.space.close();
  });

  it('keeps a leaf read once out of the decoded-atom cache, and keeps it once it is read again', async () => {
    const h = await openSpace(undefined, 10_000);
    // Records of about 40 bytes: leaves above the size that is kept on first load.
    type Rec = { n: number; label: string };
    const record = (i: number): Rec => ({ n: i, label: `record number ${i}` });
    const n = 5000;
    await h.space
      .database('app')
      .transact((tx) =>
        tx.set('d', Dictionary.from(Array.from({ length: n }, (_, i) => [key(i), record(i)] as const))),
      );
    await reopen(h, 10_000);
    const d = h.space
      .database('app')
      .begin({ readOnly: true })
      .get<Dictionary<string, Rec>>('d') as Dictionary<string, Rec>;
    const loads = () => h.space.stats().atomsLoaded;
    const cached = () => h.space.stats().cachedAtoms;
    // With synchronous reads, a leaf is kept once it is loaded a second time, or read again
    // before another leaf is loaded (branches at once); a backend without them (reads block or
    // round-trip) keeps every atom it loads.
    const doorkeeper = h.space.capabilities.syncReads;
    const leaves = Math.ceil(n / 64);
    expect(leaves).toBeGreaterThan(64);
    // What a transaction function reads is kept at once (its commit reads it again): the leaf
    // of a key read in `transact` for the first time is then served from memory outside it.
    let before = loads();
    await h.space.database('app').transact((tx) => {
      expect((tx.get('d') as Dictionary<string, Rec>).get(key(2000))).toEqual(record(2000));
    });
    expect(loads() - before).toBeGreaterThanOrEqual(1);
    expect(d.get(key(4000))).toEqual(record(4000)); // another leaf, loaded after it
    before = loads();
    expect(d.get(key(2001))).toEqual(record(2001));
    expect(loads() - before).toBe(0);
    // A scan reads every leaf once: with the doorkeeper it keeps none of them.
    const cachedBefore = cached();
    before = loads();
    let sum = 0;
    for (const v of d.values()) sum += v.n;
    expect(sum).toBe((n * (n - 1)) / 2);
    expect(loads() - before).toBeGreaterThan(leaves / 2);
    if (doorkeeper) expect(cached() - cachedBefore).toBeLessThanOrEqual(d.depth);
    else expect(cached() - cachedBefore).toBeGreaterThan(leaves / 2);
    // A leaf near the start (the scan loaded over 64 leaves after it), read again: loaded
    // again, and kept now ...
    before = loads();
    expect(d.get(key(320))).toEqual(record(320));
    expect(loads() - before).toBe(doorkeeper ? 1 : 0);
    before = loads();
    expect(d.get(key(321))).toEqual(record(321));
    expect(loads() - before).toBe(0);
    // ... and the last leaf the scan loaded, read again next: kept without a load.
    const c0 = cached();
    before = loads();
    expect(d.get(key(n - 1))).toEqual(record(n - 1));
    expect(loads() - before).toBe(0);
    if (doorkeeper) expect(cached() - c0).toBe(1);
    before = loads();
    for (let i = n - 10; i < n; i++) expect(d.get(key(i))).toEqual(record(i));
    expect(loads() - before).toBe(0);
    await h.space.close();
  });

  it('decodes only the values it reads and copies the bytes of unchanged values when a leaf is rewritten', async () => {
    const h = await openSpace();
    const record = (i: number) => ({ id: i, name: `item-${i}`, tags: [`t${i % 7}`], at: new Date(i) });
    const n = 1000;
    await h.space
      .database('app')
      .transact((tx) =>
        tx.set('d', Dictionary.from(Array.from({ length: n }, (_, i) => [key(i), record(i)] as const))),
      );
    await reopen(h);
    const { count, restore } = countStoredRecordReads();
    try {
      await h.space.database('app').transact((tx) => {
        const d = tx.get<Dictionary<string, ReturnType<typeof record>>>('d') as Dictionary<
          string,
          ReturnType<typeof record>
        >;
        expect(d.get(key(500))).toEqual(record(500));
        tx.set('d', d.set(key(501), { ...record(501), name: 'changed' }));
      });
      // One value was read; the leaf's 60-odd other values were copied as bytes at commit.
      expect(count()).toBe(1);
    } finally {
      restore();
    }
    await reopen(h);
    const d = h.space.database('app').begin({ readOnly: true }).get<Dictionary<string, unknown>>('d');
    const expected = Array.from({ length: n }, (_, i) =>
      i === 501 ? { ...record(i), name: 'changed' } : record(i),
    );
    expect([...(d as Dictionary<string, unknown>).values()]).toEqual(expected);
    await h.space.close();
  });

  it('copies the stored bytes of unchanged values when a leaf built and committed in this process is rewritten', async () => {
    const h = await openSpace();
    const db = h.space.database('app');
    const record = (i: number) => ({ id: i, name: `item-${i}` });
    await db.transact((tx) =>
      tx.set('d', Dictionary.from(Array.from({ length: 200 }, (_, i) => [key(i), record(i)] as const))),
    );
    const { count, restore } = countStoredRecordReads();
    try {
      const before = h.space.stats().bytesWritten;
      for (let round = 0; round < 3; round++) {
        await db.transact((tx) => {
          const d = tx.get<Dictionary<string, unknown>>('d') as Dictionary<string, unknown>;
          tx.set('d', d.set(key(50 + round), { id: -round, name: 'changed' }));
        });
      }
      // The encoder never asked a stored value for its contents: the bytes were copied.
      expect(count()).toBe(0);
      expect(h.space.stats().bytesWritten).toBeGreaterThan(before);
    } finally {
      restore();
    }
    await reopen(h);
    const d = h.space.database('app').begin({ readOnly: true }).get<Dictionary<string, unknown>>('d');
    const expected = Array.from({ length: 200 }, (_, i) =>
      i >= 50 && i < 53 ? { id: -(i - 50), name: 'changed' } : record(i),
    );
    expect([...(d as Dictionary<string, unknown>).values()]).toEqual(expected);
    await h.space.close();
  });

  it('decodes only the list items it reads and copies unchanged items when a list leaf is rewritten', async () => {
    const h = await openSpace();
    const item = (i: number) => ({ i, label: `item-${i}`, tags: [i % 3] });
    await h.space
      .database('app')
      .transact((tx) => tx.set('l', List.from(Array.from({ length: 1000 }, (_, i) => item(i)))));
    await reopen(h);
    const { count, restore } = countStoredRecordReads();
    try {
      await h.space.database('app').transact((tx) => {
        const l = tx.get<List<ReturnType<typeof item>>>('l') as List<ReturnType<typeof item>>;
        expect(l.get(400)).toEqual(item(400));
        tx.set('l', l.set(401, { i: -1, label: 'changed', tags: [] }));
      });
      expect(count()).toBe(1);
    } finally {
      restore();
    }
    await reopen(h);
    const l = h.space.database('app').begin({ readOnly: true }).get<List<unknown>>('l') as List<unknown>;
    const expected = Array.from({ length: 1000 }, (_, i) =>
      i === 401 ? { i: -1, label: 'changed', tags: [] } : item(i),
    );
    expect([...l]).toEqual(expected);
    await h.space.close();
  });
});
