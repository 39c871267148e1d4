/**
 * Why IDX-AND-RANGE with a composite index grows from 10k to 1M: the same 1,000 queries over a
 * 1M-record collection with one composite index, three passes, in a space with the default
 * decoded-atom cache and in one with a 4 GiB cache (p50, p95 and cache misses per query).
 *
 *   cd apps/bench && node --import tsx --expose-gc src/probe-composite-1m.ts
 */
import { ObjectSpace } from '@proto/atom';
import { and, field, from, IndexedCollection } from '@proto/query';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';

const n = 1_000_000;
let seed = 42;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
const data = Array.from({ length: n }, (_, i) => ({
  id: `id-${i}`,
  name: `Item-${i}`,
  value: 1 + Math.floor(rnd() * 100_000),
  category: `cat-${Math.floor(rnd() * 50)}`,
  status: `st-${Math.floor(rnd() * 20)}`,
  tags: ['tag1', 'tag2'],
}));
const make = () =>
  IndexedCollection.from(data, { key: 'name', indexes: { c: { paths: ['category', 'status', 'value'] } } });
const qs = Array.from({ length: 1000 }, () => {
  const lo = Math.floor(rnd() * 99_900);
  return { c: `cat-${Math.floor(rnd() * 50)}`, s: `st-${Math.floor(rnd() * 20)}`, lo, hi: lo + 100 };
});
for (const cache of [undefined, { maxBytes: 4 * 1024 ** 3, maxAtoms: 10_000_000 }]) {
  const space = await ObjectSpace.open(
    await openMemoryBackend({ location: createMemoryLocation() }),
    cache === undefined ? {} : { cache },
  );
  const db = space.database('bench');
  await db.transact((tx) => tx.set('items', make()));
  const coll = db.begin({ readOnly: true }).get('items') as ReturnType<typeof make>;
  for (let pass = 0; pass < 3; pass++) {
    const before = space.stats();
    const times: number[] = [];
    for (const q of qs) {
      const t0 = performance.now();
      from(coll)
        .where(
          and(field('category').eq(q.c), field('status').eq(q.s), field('value').between(q.lo, q.hi, '()')),
        )
        .toArray();
      times.push((performance.now() - t0) * 1000);
    }
    times.sort((a, b) => a - b);
    const after = space.stats();
    console.log(
      cache === undefined ? 'default cache' : '4 GiB cache',
      'pass',
      pass,
      'p50',
      times[500]?.toFixed(1),
      'p95',
      times[950]?.toFixed(1),
      'misses/query',
      ((after.cacheMisses - before.cacheMisses) / qs.length).toFixed(2),
      'cached MB',
      (after.cachedBytes / 2 ** 20).toFixed(0),
    );
  }
  await space.close();
}
