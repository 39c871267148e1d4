/**
 * Regression tests for the hardening issue (issue 9): values that used to abort the process, a
 * reclaim that freed what an open snapshot reads, and errors that did not say what happened.
 */
import { forEachElement, hasReason, isProtoError, ObjectSpace, resolveRefs, valuesEqual } from '@proto/atom';
import type { StorageBackend } from '@proto/atom/storage';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';

const open: ObjectSpace[] = [];

async function openSpace(historyLimit?: number): Promise<ObjectSpace> {
  const backend = await openMemoryBackend({ location: createMemoryLocation() });
  const space = await ObjectSpace.open(backend, historyLimit === undefined ? {} : { historyLimit });
  open.push(space);
  return space;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((space) => space.close()));
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** A sparse array of `length` holding `items` at the given indices. */
function sparse(length: number, items: Record<number, unknown>): unknown[] {
  const array: unknown[] = [];
  for (const [index, item] of Object.entries(items)) array[Number(index)] = item;
  if (array.length < length) {
    // Set and delete the last slot: the length grows without allocating every slot.
    array[length - 1] = undefined;
    delete array[length - 1];
  }
  return array;
}

describe('atom: hostile values at commit (issue 9, findings 1 and 2)', () => {
  it('rejects a cyclic value with invalid-argument at commit and keeps working when the cycle is in an object, an array or nested', async () => {
    const space = await openSpace();
    const db = space.database('d');
    const object: Record<string, unknown> = { a: 1 };
    object.self = object;
    const array: unknown[] = [1];
    array.push(array);
    const nested = { list: [{ deeper: {} as Record<string, unknown> }] };
    (nested.list[0] as { deeper: Record<string, unknown> }).deeper.back = nested;
    for (const value of [object, array, nested]) {
      const tx = db.begin();
      tx.set('bad', value);
      tx.set('fine', 1);
      const error = await rejection(tx.commit());
      expect(hasReason(error, 'invalid-argument'), String(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/cycle/);
    }
    // Nothing of the rejected commits is visible, and the space still commits.
    expect(db.begin().get('bad')).toBeUndefined();
    expect(db.begin().get('fine')).toBeUndefined();
    await db.transact((tx) => tx.set('fine', 2));
    expect(db.begin().get('fine')).toBe(2);
  });

  it('commits, compares and reads back sparse arrays in time following their elements when their length is up to 2^32 - 1', async () => {
    const space = await openSpace();
    const db = space.database('d');
    const huge = sparse(2 ** 32 - 1, { 0: 'first', [2 ** 32 - 2]: { last: true } });
    const big = sparse(3e7, { 12: 'x' });
    await db.transact((tx) => {
      tx.set('huge', huge);
      tx.set('big', { inside: big });
    });
    // A transaction that reads them (recording the reads) and commits after another commit:
    // validation compares the sparse values.
    const reader = db.begin();
    const seen = reader.get<unknown[]>('huge');
    reader.set('note', seen?.length);
    await db.transact((tx) => tx.set('other', 1));
    await reader.commit();
    space.evictCaches();
    const back = db.begin().get<unknown[]>('huge') as unknown[];
    expect(back.length).toBe(2 ** 32 - 1);
    expect(Object.keys(back)).toEqual(['0', String(2 ** 32 - 2)]);
    expect(back[2 ** 32 - 2]).toEqual({ last: true });
    expect(valuesEqual(back, huge)).toBe(true);
    expect(valuesEqual(back, sparse(2 ** 32 - 1, { 0: 'first', [2 ** 32 - 3]: { last: true } }))).toBe(false);
    expect(db.begin().get<{ inside: unknown[] }>('big')?.inside.length).toBe(3e7);
    expect(db.begin().get('note')).toBe(2 ** 32 - 1);
  });

  it('walks, resolves and copies sparse arrays by their elements when they hold references', () => {
    const huge = sparse(2 ** 32 - 1, { 3: 'a', [2 ** 32 - 2]: 'b' });
    const visited: [unknown, number][] = [];
    forEachElement(huge, (item, index) => {
      visited.push([item, index]);
    });
    expect(visited).toEqual([
      ['a', 3],
      ['b', 2 ** 32 - 2],
    ]);
    expect(forEachElement(huge, (item) => item === 'a')).toBe(true);
    expect(resolveRefs({ huge })).toEqual({ huge });
  });
});

describe('atom: reclaim and open snapshots (issue 9, finding 6)', () => {
  it('keeps what an active transaction reads when reclaim runs after its snapshot left the kept history', async () => {
    const space = await openSpace(0);
    const db = space.database('d');
    await db.transact((tx) => tx.set('doc', { version: 1, body: 'x'.repeat(1000) }));
    const reader = db.begin({ readOnly: true });
    const writer = db.begin();
    for (let version = 2; version <= 5; version++) {
      await db.transact((tx) => tx.set('doc', { version, body: 'y'.repeat(1000) }));
    }
    const kept = await space.reclaim();
    space.evictCaches();
    expect(reader.get('doc')).toEqual({ version: 1, body: 'x'.repeat(1000) });
    expect(writer.get('doc')).toEqual({ version: 1, body: 'x'.repeat(1000) });
    // Once the transactions end, the next reclaim frees their snapshot.
    reader.abort();
    writer.abort();
    const freed = await space.reclaim();
    expect(freed.liveAtoms).toBeLessThan(kept.liveAtoms);
    expect(db.begin().get('doc')).toEqual({ version: 5, body: 'y'.repeat(1000) });
  });
});

describe('atom: errors that say what happened (issue 9, findings 10 and 11)', () => {
  it('rejects with invalid-argument when ObjectSpace.open is given something that is not a backend', async () => {
    const backend = await openMemoryBackend();
    const cases: unknown[] = [
      null,
      undefined,
      42,
      'memory',
      [],
      {},
      { ...backend, readRoot: undefined },
      { ...backend, capabilities: undefined },
      Promise.resolve(backend),
    ];
    for (const candidate of cases) {
      const error = await rejection(ObjectSpace.open(candidate as StorageBackend));
      expect(isProtoError(error), String(error)).toBe(true);
      expect(hasReason(error, 'invalid-argument'), String(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/expected a storage backend/);
    }
    await backend.close();
  });

  it('says the space was closed while the transaction ran when close() is called during transact()', async () => {
    const space = await openSpace();
    const db = space.database('d');
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const work = db.transact(async (tx) => {
      tx.set('k', 1);
      started();
      await gate;
    });
    await running;
    const closing = space.close();
    release();
    const error = await rejection(work);
    await closing;
    expect(hasReason(error, 'closed'), String(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /closed while this transaction .* was running.*not committed/,
    );
  });
});
