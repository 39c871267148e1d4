/**
 * Reads that cannot await, on PostgreSQL: `db.read`, `begin()` transactions, diffs and live
 * queries that meet an atom not in memory load it with a blocking read (a worker thread's own
 * connection, the caller waiting), while `db.transact` keeps loading through the pool without
 * blocking. Every space here opens cold on a location another space wrote.
 */
import { hasReason, ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { from, IndexedCollection } from '@proto/query';
import { expect, it } from 'vitest';
import { BlockingReader } from '../src/blocking.js';
import { openPostgresBackend, type PostgresBackendOptions } from '../src/index.js';
import { describeWithServer, dropSchema, freshSchema } from './server.js';

const N = 20_000;

describeWithServer('storage-postgres: blocking reads', (url) => {
  /** A location holding a Dictionary of N entries (`d`) and a small indexed collection (`people`). */
  async function written(): Promise<string> {
    const schema = freshSchema('blocking');
    const space = await ObjectSpace.open(await openPostgresBackend({ connectionString: url }, { schema }));
    await space.database('db').transact((tx) => {
      tx.set('d', Dictionary.from(Array.from({ length: N }, (_, i) => [i, { n: i }] as [number, unknown])));
      tx.set(
        'people',
        IndexedCollection.from(
          Array.from({ length: 300 }, (_, i) => ({ id: i, age: i % 90 })),
          { key: 'id', indexes: { byAge: 'age' } },
        ),
      );
    });
    await space.close();
    return schema;
  }

  async function cold(schema: string, options: PostgresBackendOptions = {}) {
    return ObjectSpace.open(await openPostgresBackend({ connectionString: url }, { schema, ...options }), {
      cache: { maxAtoms: 64 },
    });
  }

  it('db.read, begin() and a scan load what they miss; transact never blocks', async () => {
    const schema = await written();
    try {
      const space = await cold(schema);
      const db = space.database('db');
      expect(db.read((tx) => tx.get<Dictionary<number, { n: number }>>('d')?.get(12_345))).toEqual({
        n: 12_345,
      });
      const afterPoint = space.stats().blockingReads;
      expect(afterPoint).toBeGreaterThan(2);
      // A point read: one round trip per level below what is cached, never one per entry.
      expect(afterPoint).toBeLessThan(10);

      const tx = db.begin({ readOnly: true });
      expect(tx.get<Dictionary<number, { n: number }>>('d')?.get(19_999)).toEqual({ n: 19_999 });

      // A full scan reads ahead: far fewer round trips than leaves.
      const before = space.stats().blockingReads;
      const sum = db.read((t) => {
        let s = 0;
        for (const [, v] of t.get<Dictionary<number, { n: number }>>('d')?.entries() ?? []) s += v.n;
        return s;
      });
      expect(sum).toBe((N * (N - 1)) / 2);
      const leaves = space.stats().atomsLoaded;
      expect(space.stats().blockingReads - before).toBeLessThan(30);
      expect(leaves).toBeGreaterThan(100);

      space.evictCaches();
      const blocking = space.stats().blockingReads;
      const batched = space.stats().batchedReads;
      expect(await db.transact((t) => t.get<Dictionary<number, { n: number }>>('d')?.get(7))).toEqual({
        n: 7,
      });
      expect(space.stats().blockingReads).toBe(blocking);
      expect(space.stats().batchedReads).toBeGreaterThan(batched);
      await space.close();
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('a live query and a diff on a cold space see every row', async () => {
    const schema = await written();
    try {
      const space = await cold(schema);
      const db = space.database('db');
      const first = db.sequence;
      const seen: number[][] = [];
      const live = from<{ id: number; age: number }>(db, 'people')
        .where('age', '=', 42)
        .live((update) => {
          seen.push(update.rows.map((r) => r.id).sort((a, b) => a - b));
        });
      expect(seen.at(-1)).toEqual([42, 132, 222]);
      await db.transact((tx) => {
        const people = tx.get<IndexedCollection<{ id: number; age: number }>>('people');
        tx.set('people', people?.put({ id: 1000, age: 42 }));
      });
      await expect.poll(() => seen.at(-1)).toEqual([42, 132, 222, 1000]);
      live.close();
      space.evictCaches();
      const [root] = db.diff(first);
      expect(root?.root).toBe('people');
      expect([...(root?.entries() ?? [])].map((e) => [e.kind, e.key])).toEqual([['added', 1000]]);
      await space.close();
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('with blockingReads: false, reads outside transact fail with not-loaded', async () => {
    const schema = await written();
    try {
      const space = await cold(schema, { blockingReads: false });
      const db = space.database('db');
      let error: unknown;
      try {
        db.read((tx) => tx.get<Dictionary<number, unknown>>('d')?.get(1));
      } catch (e) {
        error = e;
      }
      expect(hasReason(error, 'not-loaded')).toBe(true);
      expect(await db.transact((tx) => tx.get<Dictionary<number, unknown>>('d')?.get(1))).toEqual({ n: 1 });
      await space.close();
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('refuses blockingReads: true with a pool and no connection string', async () => {
    const pg = await import('pg');
    const pool = new pg.default.Pool({ connectionString: url, max: 1 });
    try {
      const error = await openPostgresBackend({ pool }, { blockingReads: true }).catch((e: unknown) => e);
      expect(hasReason(error, 'invalid-argument')).toBe(true);
    } finally {
      await pool.end();
    }
  });
});

it('a blocking read from a server that does not answer throws a retryable io error in its time limit', async () => {
  const reader = new BlockingReader({
    connectionString: 'postgresql://nobody@127.0.0.1:9/none',
    atomsTable: 'public.proto_atoms',
    where: 'nowhere',
    timeoutMs: 300,
  });
  const started = Date.now();
  let error: unknown;
  try {
    reader.read([1, 2, 3]);
  } catch (e) {
    error = e;
  }
  expect(hasReason(error, 'io')).toBe(true);
  expect((error as { retryable?: boolean }).retryable).toBe(true);
  expect(Date.now() - started).toBeLessThan(5_000);
  await reader.close();
});

it('a worker that cannot load pg fails its reads at once, saying why, not at the time limit', async () => {
  const reader = new BlockingReader({
    connectionString: 'postgresql://nobody@127.0.0.1:9/none',
    atomsTable: 'public.proto_atoms',
    where: 'nowhere',
    timeoutMs: 20_000,
    pg: 'data:text/javascript,throw new Error("no driver here")',
  });
  const started = Date.now();
  for (let i = 0; i < 3; i++) {
    let error: unknown;
    try {
      reader.read([1]);
    } catch (e) {
      error = e;
    }
    expect(hasReason(error, 'io')).toBe(true);
    expect((error as Error).message).toMatch(/failed to start \(no driver here\)/);
  }
  expect(Date.now() - started).toBeLessThan(5_000);
  await reader.close();
});
