/**
 * Change feeds and database diffs, through the public API: `db.subscribe`, `db.changes` and
 * `db.diff` over collections on the memory backend. Every commit is delivered once, in order,
 * with its diff; a slow consumer resumes from the kept history or gets a `ChangeFeedError`.
 */
import { type Change, ChangeFeedError, type Database, ObjectSpace, type ProtoError } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';

/** What a change says, as plain data: each root with its entries. */
function summary(change: Change): unknown {
  return {
    sequence: change.sequence,
    roots: change.roots.map((r) => ({
      root: r.root,
      kind: r.kind,
      entries: [...r.entries()].map((e) => [e.kind, e.key, e.oldValue, e.newValue]),
    })),
  };
}

async function setCount(db: Database, key: string, n: number): Promise<void> {
  await db.transact((tx) => {
    const d = tx.get<Dictionary<string, number>>('counts') ?? Dictionary.empty<string, number>();
    tx.set('counts', d.set(key, n));
  });
}

/** Resolves once `n` changes arrived. */
function collect(db: Database, n: number, options = {}): { changes: Change[]; done: Promise<void> } {
  const changes: Change[] = [];
  let resolve = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const sub = db.subscribe((c) => {
    changes.push(c);
    if (changes.length === n) {
      sub.close();
      resolve();
    }
  }, options);
  return { changes, done };
}

describe('change feeds', () => {
  it('a listener gets every commit once, in order, with the diff of each', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('shop');
    const { changes, done } = collect(db, 3);
    await setCount(db, 'a', 1);
    await setCount(db, 'b', 2);
    await db.transact((tx) => {
      tx.set('counts', (tx.get('counts') as Dictionary<string, number>).delete('a').set('b', 3));
      tx.set('title', 'shop');
    });
    await done;
    expect(changes.map(summary)).toEqual([
      { sequence: 1, roots: [{ root: 'counts', kind: 'added', entries: [['added', 'a', undefined, 1]] }] },
      { sequence: 2, roots: [{ root: 'counts', kind: 'changed', entries: [['added', 'b', undefined, 2]] }] },
      {
        sequence: 3,
        roots: [
          {
            root: 'counts',
            kind: 'changed',
            entries: [
              ['removed', 'a', 1, undefined],
              ['changed', 'b', 2, 3],
            ],
          },
          { root: 'title', kind: 'added', entries: [['added', undefined, undefined, 'shop']] },
        ],
      },
    ]);
    await space.close();
  });

  it('with roots, only commits that change those roots, and only their diffs', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('shop');
    const other = space.database('other');
    const { changes, done } = collect(db, 2, { roots: ['title'] });
    await setCount(db, 'a', 1);
    await db.transact((tx) => tx.set('title', 'one'));
    await other.transact((tx) => tx.set('title', 'elsewhere'));
    await db.transact((tx) => {
      tx.set('title', 'two');
      tx.set('counts', Dictionary.empty());
    });
    await done;
    expect(changes.map((c) => [c.sequence, c.roots.map((r) => [r.root, r.oldValue, r.newValue])])).toEqual([
      [2, [['title', undefined, 'one']]],
      [4, [['title', 'one', 'two']]],
    ]);
    await space.close();
  });

  it('concurrent commits grouped into one barrier are each delivered once, in sequence order', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    const seen: number[] = [];
    const sub = db.subscribe((c) => {
      seen.push(c.sequence);
    });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        db.transact((tx) => {
          const d = tx.get<Dictionary<number, number>>('d') ?? Dictionary.empty<number, number>();
          tx.set('d', d.set(i, i));
        }),
      ),
    );
    // Delivery follows the commit, in a later microtask.
    await new Promise((resolve) => setImmediate(resolve));
    sub.close();
    const sequences = space.history().map((h) => h.sequence);
    expect(seen).toEqual(Array.from({ length: space.sequence }, (_, i) => i + 1));
    expect(sequences[0]).toBe(space.sequence);
    await space.close();
  });

  it('an async listener is awaited: a slow one falls back to the history and still sees each commit once', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend(), { historyLimit: 100 });
    const db = space.database('db');
    const seen: number[] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const errors: unknown[] = [];
    const sub = db.subscribe(
      async (c) => {
        seen.push(c.sequence);
        if (c.sequence === 1) await gate;
      },
      { buffer: 3, onError: (e) => errors.push(e) },
    );
    for (let i = 0; i < 30; i++) await setCount(db, `k${i}`, i);
    release();
    while (seen.length < 30) await new Promise((resolve) => setImmediate(resolve));
    sub.close();
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(errors).toEqual([]);
    await space.close();
  });

  it('a consumer further behind than the kept history gets a ChangeFeedError naming the missing commit', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend(), { historyLimit: 4 });
    const db = space.database('db');
    const stream = db.changes({ buffer: 2 });
    for (let i = 0; i < 12; i++) await setCount(db, `k${i}`, i);
    expect((await stream.next()).value?.sequence).toBe(1);
    expect((await stream.next()).value?.sequence).toBe(2);
    const error = (await stream.next().catch((e: unknown) => e)) as ProtoError;
    expect(error).toBeInstanceOf(ChangeFeedError);
    expect(error.reason).toBe('not-found');
    expect(error.details).toMatchObject({ database: 'db', sequence: 3 });
    expect(error.message).toContain('commit 3');
    expect(stream.active).toBe(false);
    await space.close();
  });

  it('changes({ since }) replays the kept commits after it, then follows new ones', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    for (let i = 0; i < 5; i++) await setCount(db, 'n', i);
    const stream = db.changes({ since: 2 });
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const change of stream) {
        got.push(summary(change));
        if (change.sequence === 6) break;
      }
    })();
    await setCount(db, 'n', 5);
    await reading;
    expect(got).toEqual(
      [3, 4, 5, 6].map((sequence) => ({
        sequence,
        roots: [{ root: 'counts', kind: 'changed', entries: [['changed', 'n', sequence - 2, sequence - 1]] }],
      })),
    );
    expect(stream.active).toBe(false);
    expect(() => db.changes({ since: 99 })).toThrow(/after the newest commit/);
    await space.close();
  });

  it('a listener that throws is reported to onError and the next commits still arrive', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    const errors: unknown[] = [];
    const seen: number[] = [];
    const sub = db.subscribe(
      (c) => {
        seen.push(c.sequence);
        if (c.sequence === 1) throw new Error('listener failed');
      },
      { onError: (e) => errors.push(e) },
    );
    await setCount(db, 'a', 1);
    await setCount(db, 'a', 2);
    while (seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
    sub.close();
    expect(seen).toEqual([1, 2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['listener failed']);
    await space.close();
  });

  it('closing the space delivers what is queued and ends the iterators', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    const stream = db.changes();
    await setCount(db, 'a', 1);
    await space.close();
    const first = await stream.next();
    expect(first.value?.sequence).toBe(1);
    expect((await stream.next()).done).toBe(true);
    expect(() => db.subscribe(() => {})).toThrow(/closed/);
  });

  it('rejects bad options with typed errors', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    for (const bad of [
      () => db.subscribe(42 as never),
      () => db.subscribe(() => {}, { buffer: 0 }),
      () => db.subscribe(() => {}, { roots: [''] }),
      () => db.changes({ since: -1 }),
      () => db.diff(1.5),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    }
    expect(() => db.diff(7)).toThrow(expect.objectContaining({ reason: 'not-found' }));
    await space.close();
  });
});

describe('db.diff between two commits', () => {
  it('lists the roots added, removed and changed, each with its entries', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('db');
    await db.transact((tx) => {
      tx.set('counts', Dictionary.from([['a', 1]]));
      tx.set('old', true);
    });
    await setCount(db, 'b', 2);
    await db.transact((tx) => {
      tx.delete('old');
      tx.set('fresh', [1, 2]);
    });
    const roots = db.diff(1, 3);
    expect(roots.map((r) => [r.root, r.kind])).toEqual([
      ['counts', 'changed'],
      ['fresh', 'added'],
      ['old', 'removed'],
    ]);
    expect([...(roots[0]?.entries() ?? [])]).toEqual([
      { kind: 'added', key: 'b', oldValue: undefined, newValue: 2 },
    ]);
    expect(db.diff(0).map((r) => r.root)).toEqual(['counts', 'fresh']);
    expect(db.diff(3, 3)).toEqual([]);
    expect(db.diff(3, 1, { roots: ['old'] }).map((r) => [r.root, r.kind])).toEqual([['old', 'added']]);
    await space.close();
  });
});
