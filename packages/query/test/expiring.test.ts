/**
 * Expiring entries with an injected clock: entries expire exactly at their time; a held
 * transaction is stable across the expiry instant; time travel shows what was live then;
 * sweeps remove expired entries and nothing else, in bounded steps; eviction keeps the bound
 * under concurrent writers; `getOrCompute` computes once for 100 concurrent callers.
 */
import { ObjectSpace } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { ExpiringCache, type IndexedCollection } from '../src/index.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function open(clock = manualClock()) {
  const space = await ObjectSpace.open(await openMemoryBackend(), { clock: clock.now });
  return { space, db: space.database('app'), clock };
}

describe('expiring entries', () => {
  it('an entry is live until exactly its expiry time, and gone at it', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<string, string>('sessions', { ttl: 1000 });
    await db.transact((tx) => {
      cache.in(tx).set('default', 'a');
      cache.in(tx).set('short', 'b', { ttl: 10 });
      cache.in(tx).set('fixed', 'c', { expiresAt: clock.now() + 500 });
    });
    const read = () => {
      const view = cache.in(db.begin({ readOnly: true }));
      return [view.get('default'), view.get('short'), view.get('fixed'), view.size];
    };
    expect(read()).toEqual(['a', 'b', 'c', 3]);
    expect([cache.get(db, 'short'), cache.get(db, 'missing')]).toEqual(['b', undefined]);
    clock.advance(9);
    expect(read()).toEqual(['a', 'b', 'c', 3]);
    clock.advance(1);
    expect(read()).toEqual(['a', undefined, 'c', 2]);
    expect(cache.get(db, 'short')).toBeUndefined();
    clock.advance(489);
    expect(read()).toEqual(['a', undefined, 'c', 2]);
    clock.advance(1);
    expect(read()).toEqual(['a', undefined, undefined, 1]);
    clock.advance(500);
    expect(read()).toEqual([undefined, undefined, undefined, 0]);
    expect([...cache.in(db.begin({ readOnly: true })).keys()]).toEqual([]);
    await space.close();
  });

  it('a held transaction keeps seeing what was live when it began; time travel shows what was live then', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<string, number>('c');
    await db.transact((tx) => cache.in(tx).set('k', 1, { ttl: 100 }));
    const committedAt = space.sequence;
    const held = cache.in(db.begin({ readOnly: true }));
    const writer = db.begin();
    expect(cache.in(writer).get('k')).toBe(1);
    clock.advance(100);
    expect(held.get('k')).toBe(1);
    expect([...held.entries()]).toEqual([['k', 1]]);
    expect(cache.in(writer).get('k')).toBe(1);
    expect(cache.in(db.begin({ readOnly: true })).get('k')).toBeUndefined();
    await db.transact((tx) => tx.set('other', true));
    expect(cache.in(db.begin({ asOf: committedAt })).get('k')).toBe(1);
    writer.abort();
    await space.close();
  });

  it('a sweep removes expired entries and nothing else, at most limit per step', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<number, number>('c');
    await db.transact((tx) => {
      const view = cache.in(tx);
      for (let i = 0; i < 50; i++) view.set(i, i, i % 2 === 0 ? { ttl: 100 } : { ttl: 10_000 });
      view.set(100, 100); // never expires
    });
    clock.advance(100);
    const first = await cache.sweep(db, { limit: 10 });
    expect(first).toEqual({ removed: 10, touched: 0, more: true });
    let report = first;
    let steps = 1;
    while (report.more) {
      report = await cache.sweep(db, { limit: 10 });
      steps++;
    }
    expect(steps).toBe(3);
    const stored = db.begin({ readOnly: true }).get<IndexedCollection<{ key: number }, number>>('c');
    expect(stored?.size).toBe(26);
    expect([...(stored?.keys() ?? [])]).toEqual([...Array.from({ length: 25 }, (_, i) => 2 * i + 1), 100]);
    expect((await cache.sweep(db)).removed).toBe(0);
    await space.close();
  });

  it('a sweep does not conflict with a writer of other keys', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<number, number>('c');
    await db.transact((tx) => {
      for (let i = 0; i < 20; i++) cache.in(tx).set(i, i, { ttl: i < 10 ? 5 : 100_000 });
    });
    clock.advance(10);
    const writer = db.begin();
    cache.in(writer).set(15, -1);
    const conflicts = space.stats().conflicts;
    await Promise.all([cache.sweep(db), writer.commit()]);
    expect(space.stats().conflicts).toBe(conflicts);
    expect(space.stats().rebases).toBeGreaterThanOrEqual(0);
    const view = cache.in(db.begin({ readOnly: true }));
    expect(view.size).toBe(10);
    expect(view.get(15)).toBe(-1);
    await space.close();
  });

  it('eviction keeps the bound, under concurrent writers, without conflicts, least recently used first', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<number, number>('c', { maxEntries: 20 });
    for (let i = 0; i < 20; i++) {
      await db.transact((tx) => cache.in(tx).set(i, i));
      clock.advance(1);
    }
    // Key 0 is read: the sweep writes its recency, so it outlives keys 1 ..
    cache.in(db.begin({ readOnly: true })).get(0);
    expect((await cache.sweep(db)).touched).toBe(1);
    clock.advance(1);
    const conflicts = space.stats().conflicts;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => db.transact((tx) => cache.in(tx).set(100 + i, i))),
    );
    expect(space.stats().conflicts).toBe(conflicts);
    const stored = db.begin({ readOnly: true }).get<IndexedCollection<{ key: number }, number>>('c');
    expect(stored?.size).toBe(20);
    const keys = [...(stored?.keys() ?? [])];
    expect(keys).not.toContain(0 + 1);
    // 30 new keys into 20 places: the newest 20 stay, every old key is evicted.
    expect(keys.every((k) => k >= 110)).toBe(true);
    await space.close();
  });

  it('evicts the least recently used: a key read and swept stays, an older untouched one goes', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<string, number>('c', { maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) {
      await db.transact((tx) => cache.in(tx).set(k, 1));
      clock.advance(10);
    }
    cache.in(db.begin({ readOnly: true })).get('a');
    await cache.sweep(db);
    await db.transact((tx) => cache.in(tx).set('d', 1));
    expect([...cache.in(db.begin({ readOnly: true })).keys()]).toEqual(['a', 'c', 'd']);
    await space.close();
  });

  it('getOrCompute computes once for 100 concurrent callers; a failing compute stores nothing', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<string, number>('c');
    let calls = 0;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const compute = async () => {
      calls++;
      await gate;
      return 42;
    };
    const callers = Array.from({ length: 100 }, () => cache.getOrCompute(db, 'answer', compute, { ttl: 50 }));
    release();
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 100 }, () => 42));
    expect(calls).toBe(1);
    const view = cache.in(db.begin({ readOnly: true }));
    expect([view.get('answer'), view.expiresAt('answer')]).toEqual([42, clock.now() + 50]);
    // A live value is returned without computing.
    expect(await cache.getOrCompute(db, 'answer', compute)).toBe(42);
    expect(calls).toBe(1);
    const failing = Array.from({ length: 5 }, () =>
      cache.getOrCompute(db, 'broken', async () => {
        calls++;
        throw new Error('backend down');
      }),
    );
    for (const f of failing) await expect(f).rejects.toThrow('backend down');
    expect(calls).toBe(2);
    expect(cache.in(db.begin({ readOnly: true })).has('broken')).toBe(false);
    clock.advance(50);
    expect(await cache.getOrCompute(db, 'answer', async () => 43)).toBe(43);
    await space.close();
  });

  it('a background sweeper removes expired entries, reports its work, and stops when the space closes', async () => {
    const { space, db, clock } = await open();
    const cache = new ExpiringCache<number, number>('c', { ttl: 10 });
    await db.transact((tx) => {
      for (let i = 0; i < 30; i++) cache.in(tx).set(i, i);
    });
    clock.advance(10);
    const sweeper = cache.startSweeper(db, { intervalMs: 1, limit: 8 });
    while (sweeper.stats().removed < 30) await new Promise((resolve) => setImmediate(resolve));
    const stats = sweeper.stats();
    expect(stats.removed).toBe(30);
    expect(stats.steps).toBeGreaterThanOrEqual(4);
    expect(stats.errors).toBe(0);
    expect(db.begin({ readOnly: true }).get<IndexedCollection<unknown>>('c')?.size).toBe(0);
    await space.close();
    while (sweeper.stats().running) await new Promise((resolve) => setTimeout(resolve, 2));
    await sweeper.stop();
    expect(sweeper.stats().errors).toBe(0);
  });

  it('rejects bad arguments with typed errors', async () => {
    const { space, db } = await open();
    const invalid = expect.objectContaining({ reason: 'invalid-argument' });
    expect(() => new ExpiringCache('', {})).toThrow(invalid);
    expect(() => new ExpiringCache('c', { ttl: -1 })).toThrow(invalid);
    expect(() => new ExpiringCache('c', { maxEntries: 0 })).toThrow(invalid);
    const cache = new ExpiringCache<string, number>('c');
    const tx = db.begin();
    expect(() => cache.in(tx).set('k', 1, { ttl: Number.NaN })).toThrow(invalid);
    expect(() => cache.in(tx).set('k', 1, { ttl: 1, expiresAt: 5 })).toThrow(invalid);
    expect(() => cache.in(tx).set('k', undefined as never)).toThrow(invalid);
    tx.set('plain', 1);
    expect(() => new ExpiringCache('plain').in(tx).get('x')).toThrow(invalid);
    tx.abort();
    await expect(cache.sweep(db, { limit: 0 })).rejects.toThrow(/positive integer/);
    await space.close();
  });
});
