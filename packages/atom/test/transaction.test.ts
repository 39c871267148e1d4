import { hasReason, isConflict, isProtoError, ObjectSpace, type Transaction } from '@proto/atom';
import { createMemoryLocation, type MemoryFaults, openMemoryBackend } from '@proto/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { shared } from '../../../tooling/test-support/shared-backend.js';

const open: ObjectSpace[] = [];

async function openSpace(
  options: {
    location?: ReturnType<typeof createMemoryLocation>;
    faults?: MemoryFaults;
    historyLimit?: number;
  } = {},
) {
  const backend = await openMemoryBackend({
    location: options.location ?? createMemoryLocation(),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const space = await ObjectSpace.open(
    backend,
    options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit },
  );
  open.push(space);
  return space;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('atom: transactions', () => {
  it('reads its own writes and makes them visible to later transactions after commit', async () => {
    const db = (await openSpace()).database('app');
    const tx = db.begin();
    expect(tx.get('greeting')).toBeUndefined();
    tx.set('greeting', { text: 'hello', at: new Date(5) });
    expect(tx.get('greeting')).toEqual({ text: 'hello', at: new Date(5) });
    expect(db.begin().get('greeting')).toBeUndefined();
    const info = await tx.commit();
    expect(info.sequence).toBe(1);
    expect(db.begin().get('greeting')).toEqual({ text: 'hello', at: new Date(5) });
  });

  it('keeps a snapshot fixed when another transaction commits while it awaits', async () => {
    const db = (await openSpace()).database('app');
    await db.transact((tx) => tx.set('n', 1));
    const reader = db.begin();
    expect(reader.get('n')).toBe(1);
    await db.transact((tx) => tx.set('n', 2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(reader.get('n')).toBe(1);
    expect(reader.rootNames()).toEqual(['n']);
    expect(db.begin().get('n')).toBe(2);
  });

  it('rejects the second of two concurrent read-modify-write transactions instead of losing an update', async () => {
    const db = (await openSpace()).database('app');
    await db.transact((tx) => tx.set('counter', 0));
    const a = db.begin();
    const b = db.begin();
    a.set('counter', (a.get<number>('counter') ?? 0) + 1);
    b.set('counter', (b.get<number>('counter') ?? 0) + 1);
    await a.commit();
    const error = await rejection(b.commit());
    expect(isConflict(error)).toBe(true);
    expect(isProtoError(error) && error.retryable).toBe(true);
    expect(db.begin().get('counter')).toBe(1);
  });

  it('counts every increment when transact retries conflicting read-modify-writes', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await Promise.all(
      Array.from({ length: 40 }, () =>
        db.transact(
          async (tx) => {
            const n = tx.get<number>('counter') ?? 0;
            await new Promise((resolve) => setImmediate(resolve));
            tx.set('counter', n + 1);
          },
          { retries: 100 },
        ),
      ),
    );
    expect(db.begin().get('counter')).toBe(40);
    expect(space.stats().conflicts).toBeGreaterThan(0);
  });

  it('commits a blind write ordered after a concurrent commit to the same root', async () => {
    const db = (await openSpace()).database('app');
    const a = db.begin();
    const b = db.begin();
    a.set('mode', 'a');
    b.set('mode', 'b');
    await a.commit();
    await b.commit();
    expect(db.begin().get('mode')).toBe('b');
  });

  it('commits transactions on different roots of one database concurrently without conflict', async () => {
    const db = (await openSpace()).database('app');
    await db.transact((tx) => {
      tx.set('x', 1);
      tx.set('y', 1);
    });
    const a = db.begin();
    const b = db.begin();
    a.set('x', (a.get<number>('x') ?? 0) + 10);
    b.set('y', (b.get<number>('y') ?? 0) + 20);
    await Promise.all([a.commit(), b.commit()]);
    const check = db.begin();
    expect([check.get('x'), check.get('y')]).toEqual([11, 21]);
  });

  it('detects a conflict on an absent root that another transaction created', async () => {
    const db = (await openSpace()).database('app');
    const a = db.begin();
    const b = db.begin();
    if (!a.has('config')) a.set('config', { v: 'a' });
    if (!b.has('config')) b.set('config', { v: 'b' });
    await a.commit();
    expect(isConflict(await rejection(b.commit()))).toBe(true);
  });

  it('conflicts when the set of root names it listed changed', async () => {
    const db = (await openSpace()).database('app');
    const a = db.begin();
    a.set('count', a.rootNames().length);
    await db.transact((tx) => tx.set('other', true));
    expect(isConflict(await rejection(a.commit()))).toBe(true);
  });

  it('deletes roots and isolates databases from each other', async () => {
    const space = await openSpace();
    const one = space.database('one');
    const two = space.database('two');
    await one.transact((tx) => tx.set('k', 1));
    await two.transact((tx) => tx.set('k', 2));
    await one.transact((tx) => tx.delete('k'));
    expect(one.begin().get('k')).toBeUndefined();
    expect(two.begin().get('k')).toBe(2);
    expect(space.databaseNames()).toEqual(['one', 'two']);
  });

  it('writes nothing for a read-only transaction', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('k', 1));
    const before = space.stats();
    const tx = db.begin();
    tx.get('k');
    const info = await tx.commit();
    const after = space.stats();
    expect(info.sequence).toBe(before.sequence);
    expect(after.atomsWritten).toBe(before.atomsWritten);
    expect(after.barriers).toBe(before.barriers);
  });

  it('rejects bad input and use after the end with typed errors', async () => {
    const db = (await openSpace()).database('app');
    const tx = db.begin();
    expect(() => tx.set('', 1)).toThrow(/root names/);
    expect(() => tx.set('k', undefined)).toThrow(/delete/);
    expect(() => tx.set('k', new Map())).not.toThrow();
    expect(hasReason(await rejection(tx.commit()), 'invalid-argument')).toBe(true);
    const done = db.begin();
    done.set('k', 1);
    await done.commit();
    let error: unknown;
    try {
      done.set('k', 2);
    } catch (e) {
      error = e;
    }
    expect(hasReason(error, 'closed')).toBe(true);
    expect(db.begin().get('k')).toBe(1);
  });

  it('leaves no partial state when encoding a commit fails', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('good', 1));
    const bad = db.begin();
    bad.set('good', 2);
    bad.set('bad', { f: () => 1 });
    expect(hasReason(await rejection(bad.commit()), 'invalid-argument')).toBe(true);
    expect(db.begin().get('good')).toBe(1);
    await db.transact((tx) => tx.set('good', 3));
    expect(db.begin().get('good')).toBe(3);
  });
});

describe('atom: durability and group commit', () => {
  it('does not resolve a commit before the backend barrier returns', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let barrierReached!: () => void;
    const reached = new Promise<void>((resolve) => {
      barrierReached = resolve;
    });
    const faults: MemoryFaults = {
      beforeSetRoot: async () => {
        barrierReached();
        await gate;
      },
    };
    const db = (await openSpace({ faults })).database('app');
    const tx = db.begin();
    tx.set('k', 'v');
    let resolved = false;
    const commit = tx.commit().then((info) => {
      resolved = true;
      return info;
    });
    await reached;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(db.begin().get('k')).toBeUndefined();
    release();
    await commit;
    expect(resolved).toBe(true);
    expect(db.begin().get('k')).toBe('v');
  });

  it('shares one barrier among commits that arrive together', async () => {
    const space = await openSpace();
    const db = space.database('app');
    const before = space.stats().barriers;
    const txs: Transaction[] = [];
    for (let i = 0; i < 50; i++) {
      const tx = db.begin();
      tx.set(`k${i}`, i);
      txs.push(tx);
    }
    const infos = await Promise.all(txs.map((tx) => tx.commit()));
    const barriers = space.stats().barriers - before;
    expect(barriers).toBeLessThanOrEqual(2);
    expect(new Set(infos.map((i) => i.sequence)).size).toBe(barriers);
    const check = db.begin();
    for (let i = 0; i < 50; i++) expect(check.get(`k${i}`)).toBe(i);
  });

  it('rejects the commit and keeps the old state when the barrier fails', async () => {
    let fail = false;
    const faults: MemoryFaults = {
      beforeSetRoot: () => {
        if (fail) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    const location = createMemoryLocation();
    const space = await openSpace({ location, faults });
    const db = space.database('app');
    await db.transact((tx) => tx.set('k', 1));
    fail = true;
    const error = await rejection(db.transact((tx) => tx.set('k', 2)));
    expect(hasReason(error, 'io')).toBe(true);
    expect(db.begin().get('k')).toBe(1);
    fail = false;
    await db.transact((tx) => tx.set('k', 3));
    await space.close();
    const reopened = await openSpace({ location });
    expect(reopened.database('app').begin().get('k')).toBe(3);
  });

  it('keeps every committed root across close and reopen of the same location', async () => {
    const location = createMemoryLocation();
    const space = await openSpace({ location });
    const db = space.database('app');
    const value = { n: -0, big: 2n ** 70n, when: new Date(0), bytes: new Uint8Array([1, 2]), list: [1, , 3] };
    await db.transact((tx) => tx.set('value', value));
    await space.close();
    const again = await openSpace({ location });
    const read = again.database('app').begin().get<typeof value>('value');
    expect(Object.is(read?.n, -0)).toBe(true);
    expect(read?.big).toBe(2n ** 70n);
    expect(read?.list.length).toBe(3);
    expect(1 in (read?.list ?? [])).toBe(false);
    expect(again.sequence).toBe(1);
  });

  it('rejects use of a closed space with a typed error', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await space.close();
    let error: unknown;
    try {
      db.begin();
    } catch (e) {
      error = e;
    }
    expect(hasReason(error, 'closed')).toBe(true);
  });
});

describe('atom: time travel', () => {
  it('reads a database as of an earlier commit while that history is kept', async () => {
    const space = await openSpace({ historyLimit: 3 });
    const db = space.database('app');
    for (let i = 1; i <= 5; i++) await db.transact((tx) => tx.set('v', i));
    expect(space.history().map((h) => h.sequence)).toEqual([5, 4, 3, 2]);
    expect(db.begin({ asOf: 3 }).get('v')).toBe(3);
    expect(db.begin({ asOf: 5 }).get('v')).toBe(5);
    const old = db.begin({ asOf: 2 });
    expect(old.get('v')).toBe(2);
    expect(() => old.set('v', 0)).toThrow(/read-only/);
    let error: unknown;
    try {
      db.begin({ asOf: 1 });
    } catch (e) {
      error = e;
    }
    expect(hasReason(error, 'not-found')).toBe(true);
  });
});

describe('atom: several writers on one backend', () => {
  it('folds a group again onto a root another writer moved, and conflicts only on stale reads', async () => {
    const backend = await openMemoryBackend();
    const one = await ObjectSpace.open(shared(backend));
    const two = await ObjectSpace.open(shared(backend));
    open.push(one, two);
    await one.database('app').transact((tx) => tx.set('counter', 0));
    await two.refresh();
    const stale = two.database('app').begin();
    const blind = two.database('app').begin();
    await one.database('app').transact((tx) => tx.set('x', 'from one'));
    // `two` has not seen that commit: its compare-and-set fails, and it refolds on the new root.
    blind.set('y', 'from two');
    await blind.commit();
    stale.set('counter', (stale.get<number>('counter') ?? 0) + 1);
    await one.database('app').transact((tx) => tx.set('counter', 10));
    expect(isConflict(await rejection(stale.commit()))).toBe(true);
    await one.refresh();
    const check = one.database('app').begin();
    expect([check.get('x'), check.get('y'), check.get('counter')]).toEqual(['from one', 'from two', 10]);
    await one.close();
    await two.close();
    await backend.close();
  });
});

describe('db.read', () => {
  it('runs a function in a read-only transaction on the newest commit and returns its result', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('n', 1));
    let seen: Transaction | undefined;
    expect(
      db.read((tx) => {
        seen = tx;
        expect(tx.readOnly).toBe(true);
        expect(() => tx.set('n', 2)).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
        return tx.get<number>('n');
      }),
    ).toBe(1);
    // The transaction ended when the function returned.
    expect(seen?.active).toBe(false);
    await db.transact((tx) => tx.set('n', 2));
    expect(db.read((tx) => tx.get('n'))).toBe(2);
  });

  it('rejects a function that returns a promise, and anything that is not a function', async () => {
    const db = (await openSpace()).database('app');
    expect(() => db.read(async (tx) => tx.get('n'))).toThrow(/synchronous/);
    expect(() => db.read(42 as never)).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
  });

  it('records nothing, however many point reads it serves (issue 12)', async () => {
    const space = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => {
      for (let i = 0; i < 100; i++) tx.set(`k${i}`, { value: i });
    });
    const seen: Transaction[] = [];
    let total = 0;
    for (let round = 0; round < 50; round++) {
      total += db.read((tx) => {
        seen.push(tx);
        let sum = 0;
        for (let i = 0; i < 100; i++)
          sum += (tx.get<{ value: number }>(`k${i}`)?.value ?? 0) + (tx.has(`x${i}`) ? 1 : 0);
        return sum + tx.rootNames().length;
      });
    }
    expect(total).toBe(50 * (4950 + 100));
    // 5,000 point reads, 5,000 presence checks and 50 listings left no read record, read root
    // or view behind, in any of the transactions.
    for (const tx of seen) {
      expect(tx.reads.length).toBe(0);
      expect(tx.readRoots.size).toBe(0);
      expect(tx.views.size).toBe(0);
      expect(tx.active).toBe(false);
    }
    // A writable transaction doing the same records each root it read.
    const writable = db.begin();
    for (let i = 0; i < 100; i++) writable.get(`k${i}`);
    expect(writable.reads.length).toBe(100);
    writable.abort();
  });
});
