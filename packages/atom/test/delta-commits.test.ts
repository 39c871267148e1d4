/**
 * Delta commits of plain values (no collection deltas): each changed root is stored whole in
 * the delta record, a deleted one as a deletion, a new database as its name. A space reopened
 * after its backend went away without a checkpoint replays them to the exact values (0 and -0
 * apart), and kept commits read as they were.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';

describe('atom: delta commits of plain values', () => {
  it('replays roots set, changed (0 to -0 too), deleted and new databases after a crash', async () => {
    const location = createMemoryLocation();
    const backend = await openMemoryBackend({ location });
    const space = await ObjectSpace.open(backend, { historyLimit: 10 });
    const a = space.database('a');
    await a.transact((tx) => {
      tx.set('zero', 0);
      tx.set('doc', { title: 'first', tags: ['x'] });
      tx.set('gone', 'soon');
    });
    await a.transact((tx) => tx.set('zero', -0));
    await a.transact((tx) => {
      tx.delete('gone');
      tx.set('nan', Number.NaN);
    });
    await space.database('b').transact((tx) => {
      tx.set('only', 1);
      tx.delete('only');
    });
    await a.transact((tx) => tx.set('doc', { title: 'second', tags: [] }));
    expect(space.stats().checkpoints).toBe(1);
    const sequence = space.sequence;
    // The backend goes away under the space: no checkpoint, the next open replays the records.
    await backend.close();

    const reopened = await ObjectSpace.open(await openMemoryBackend({ location }), { historyLimit: 10 });
    expect(reopened.sequence).toBe(sequence);
    expect(reopened.databaseNames()).toEqual(['a', 'b']);
    const now = reopened.database('a').begin({ readOnly: true });
    expect(Object.is(now.get('zero'), -0)).toBe(true);
    expect(now.get('nan')).toBeNaN();
    expect(now.get('gone')).toBeUndefined();
    expect(now.get('doc')).toEqual({ title: 'second', tags: [] });
    expect(now.rootNames()).toEqual(['doc', 'nan', 'zero']);
    expect(reopened.database('b').begin({ readOnly: true }).rootNames()).toEqual([]);
    const first = reopened.database('a').begin({ asOf: 1 });
    expect(Object.is(first.get('zero'), 0)).toBe(true);
    expect(first.get('gone')).toBe('soon');
    expect(first.get('doc')).toEqual({ title: 'first', tags: ['x'] });
    expect(reopened.history().map((c) => c.sequence)).toEqual([5, 4, 3, 2, 1]);
    await reopened.close();
  });
});
