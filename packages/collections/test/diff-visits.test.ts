/**
 * A diff reads what changed, not the collection: between two stored versions of a dictionary
 * of 1,000,000 entries that differ in one entry, it loads about one node per level of each
 * version (counted as the space's cache misses after its caches were emptied), and the count
 * grows with the changes, not with the size.
 */
import { diff, ObjectSpace } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';

/** Atoms loaded while diffing commit `from` against commit `to` of root `d`, caches emptied first. */
async function loadsOfDiff(
  size: number,
  changes: number,
): Promise<{ loads: number; found: number; depth: number }> {
  const space = await ObjectSpace.open(await openMemoryBackend());
  const db = space.database('db');
  const entries = Array.from({ length: size }, (_, i) => [i, i] as [number, number]);
  const first = await db.transact((tx) => {
    tx.set('d', Dictionary.from(entries));
    return tx.sequence + 1;
  });
  await db.transact((tx) => {
    let d = tx.get<Dictionary<number, number>>('d') as Dictionary<number, number>;
    for (let i = 0; i < changes; i++) d = d.set(Math.floor((i * size) / changes), -1);
    tx.set('d', d);
  });
  await space.checkpoint();
  space.evictCaches();
  const older = db.begin({ asOf: first }).get<Dictionary<number, number>>('d');
  const newer = db.begin().get<Dictionary<number, number>>('d');
  const depth = newer?.depth ?? 0;
  const before = space.stats().cacheMisses;
  const found = [...diff(older, newer)].length;
  const loads = space.stats().cacheMisses - before;
  await space.close();
  return { loads, found, depth };
}

describe('collections: a diff visits only what changed', () => {
  it('one change in 1,000,000 entries loads about one node per level of each version', async () => {
    const big = await loadsOfDiff(1_000_000, 1);
    expect(big.found).toBe(1);
    expect(big.depth).toBeGreaterThanOrEqual(3);
    // Each version's root and one node per level below it (the handle and the root cells are
    // already loaded by the reads that fetched the two versions).
    expect(big.loads).toBeLessThanOrEqual(2 * (big.depth + 1));
    const small = await loadsOfDiff(10_000, 1);
    expect(small.found).toBe(1);
    expect(big.loads - small.loads).toBeLessThanOrEqual(2 * (big.depth - small.depth) + 2);
  }, 60_000);

  it('the nodes read grow with the number of changes, not with the size', async () => {
    const few = await loadsOfDiff(200_000, 4);
    const more = await loadsOfDiff(200_000, 64);
    expect(few.found).toBe(4);
    expect(more.found).toBe(64);
    expect(few.loads).toBeLessThanOrEqual(4 * 2 * (few.depth + 1));
    expect(more.loads).toBeGreaterThan(few.loads);
    expect(more.loads).toBeLessThanOrEqual(64 * 2 * (more.depth + 1));
  }, 60_000);
});
