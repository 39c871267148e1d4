/**
 * Offline WAL compaction of a space whose newest commits are delta records (no checkpoint
 * since, as after a crash): compaction keeps the chain and the checkpoint it ends at, and the
 * space opens afterwards with the same contents and history, replaying the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { afterEach, describe, expect, it } from 'vitest';

type Scores = Dictionary<string, number>;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('demo: compacting a WAL database that ends in delta records', () => {
  it('opens after compaction with every commit of the chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-delta-compact-'));
    dirs.push(dir);
    const backend = await openWalBackend({ path: dir, segmentBytes: 64 * 1024 });
    const space = await ObjectSpace.open(backend, { historyLimit: 5 });
    const db = space.database('app');
    const entries = Array.from(
      { length: 3000 },
      (_, i) => [`k${String(i).padStart(4, '0')}`, i] as [string, number],
    );
    await db.transact((tx) => tx.set('scores', Dictionary.from(entries)));
    const expected = new Map(entries);
    for (let i = 0; i < 40; i++) {
      const key = `k${String((i * 577) % 3000).padStart(4, '0')}`;
      await db.transact((tx) => tx.set('scores', (tx.get<Scores>('scores') as Scores).set(key, -i)));
      expected.set(key, -i);
    }
    // Overwritten twice over, the first segments hold mostly dead atoms.
    await db.transact((tx) => tx.set('scores', Dictionary.from([...expected])));
    await db.transact((tx) => tx.set('scores', (tx.get<Scores>('scores') as Scores).set('k0001', 99)));
    expected.set('k0001', 99);
    const sequence = space.sequence;
    expect(space.stats().checkpoints).toBeLessThan(space.stats().commits);
    // The backend goes away under the space: no checkpoint is written.
    await backend.close();

    const report = await compactWal(dir, { segmentBytes: 64 * 1024 });
    expect(report).toBeDefined();

    const reopened = await ObjectSpace.open(await openWalBackend({ path: dir }), { historyLimit: 5 });
    expect(reopened.sequence).toBe(sequence);
    const scores = reopened.database('app').begin({ readOnly: true }).get<Scores>('scores') as Scores;
    expect([...scores.entries()]).toEqual([...expected].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    // The kept history is there too, rebuilt from the chain where a commit was a delta record.
    const kept = reopened.history();
    expect(kept.length).toBe(6);
    const previous = reopened
      .database('app')
      .begin({ asOf: sequence - 1 })
      .get<Scores>('scores') as Scores;
    expect(previous.get('k0001')).toBe(1);
    await reopened.close();
  });
});
