/**
 * Delta commits and checkpoints as a user meets them: how often a checkpoint is written, a
 * second space on the same backend following a chain of delta records, and `reclaim` keeping
 * what an open snapshot of a delta commit still reads.
 */
import { hasReason, ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { shared } from '../../../tooling/test-support/shared-backend.js';
import { Dictionary } from '../src/index.js';

type Counts = Dictionary<string, number>;

const open: ObjectSpace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function track(space: Promise<ObjectSpace>): Promise<ObjectSpace> {
  const s = await space;
  open.push(s);
  return s;
}

const bump =
  (key: string) => (tx: { get<T>(n: string): T | undefined; set(n: string, v: unknown): void }) => {
    const d = tx.get<Counts>('counts') ?? Dictionary.empty<string, number>();
    tx.set('counts', d.set(key, (d.get(key) ?? 0) + 1));
  };

describe('collections: delta commits and checkpoints', () => {
  it('writes a checkpoint after every `commits` delta records, and every commit whole with 0', async () => {
    for (const [commits, expected] of [
      [3, 3], // commits 1 (nothing to build on), 5 and 9
      [0, 10],
      [1000, 1],
    ] as const) {
      const space = await track(ObjectSpace.open(await openMemoryBackend(), { checkpoint: { commits } }));
      const db = space.database('app');
      for (let i = 0; i < 10; i++) await db.transact(bump(`k${i % 4}`));
      expect(space.stats().checkpoints, `commits: ${commits}`).toBe(expected);
      expect(db.begin({ readOnly: true }).get<Counts>('counts')?.get('k1')).toBe(3);
    }
  });

  it('writes a checkpoint once the delta records since the last one reach `bytes`', async () => {
    const space = await track(ObjectSpace.open(await openMemoryBackend(), { checkpoint: { bytes: 2000 } }));
    const db = space.database('app');
    for (let i = 0; i < 20; i++) {
      await db.transact((tx) => {
        const d = tx.get<Dictionary<number, string>>('big') ?? Dictionary.empty<number, string>();
        tx.set('big', d.set(i, 'x'.repeat(500)));
      });
    }
    // About 500 bytes per delta record: a checkpoint every four or five commits.
    expect(space.stats().checkpoints).toBeGreaterThanOrEqual(4);
    expect(space.stats().checkpoints).toBeLessThanOrEqual(7);
  });

  it('writes an asked-for checkpoint with the next group while commits keep arriving', async () => {
    const space = await track(ObjectSpace.open(await openMemoryBackend()));
    const db = space.database('app');
    await db.transact(bump('k'));
    const LIMIT = 5000;
    let done = 0;
    let servedAt: number | undefined;
    const writer = async (w: number) => {
      // Writers stop once the checkpoint is written, or after LIMIT commits if it never is.
      while (servedAt === undefined && done < LIMIT) {
        await db.transact(bump(`w${w}`));
        done++;
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (done < 50) await db.transact(bump('k'));
    const before = space.stats().checkpoints;
    const checkpoint = space.checkpoint().then(() => {
      servedAt = done;
    });
    await Promise.all(writers);
    await checkpoint;
    // Served while the writers were still committing, not once they stopped.
    expect(servedAt).toBeLessThan(LIMIT);
    expect(space.stats().checkpoints).toBe(before + 1);
    const counts = db.begin({ readOnly: true }).get<Counts>('counts') as Counts;
    let total = 0;
    for (let w = 0; w < 8; w++) total += counts.get(`w${w}`) ?? 0;
    expect(total).toBe(done);
  });

  it('stores one entry for a one-key change even when the cache dropped the leaf in between', async () => {
    const space = await track(ObjectSpace.open(await openMemoryBackend()));
    const db = space.database('app');
    type Records = Dictionary<string, { n: number; text: string }>;
    await db.transact((tx) =>
      tx.set(
        'records',
        Dictionary.from(
          Array.from({ length: 5000 }, (_, i) => [`r${i}`, { n: i, text: 'x'.repeat(40) }] as const),
        ),
      ),
    );
    await space.checkpoint();
    const tx = db.begin();
    const records = tx.get<Records>('records') as Records;
    tx.set('records', records.set('r77', { n: -1, text: 'changed' }));
    // The leaf the transaction copied is decoded again for the commit's diff.
    space.evictCaches();
    const before = space.stats().bytesWritten;
    await tx.commit();
    expect(space.stats().bytesWritten - before).toBeLessThan(300);
    expect(db.begin({ readOnly: true }).get<Records>('records')?.get('r78')).toEqual({
      n: 78,
      text: 'x'.repeat(40),
    });
  });

  it('rejects a checkpoint policy that is not a non-negative integer', async () => {
    for (const checkpoint of [{ commits: -1 }, { bytes: 1.5 }, { commits: Number.NaN }]) {
      const error = await ObjectSpace.open(await openMemoryBackend(), { checkpoint }).catch(
        (e: unknown) => e,
      );
      expect(hasReason(error, 'invalid-argument'), JSON.stringify(checkpoint)).toBe(true);
    }
  });

  it('lets a second space on the same backend follow a chain of delta records and its checkpoints', async () => {
    const backend = await openMemoryBackend();
    const one = await track(ObjectSpace.open(shared(backend), { checkpoint: { commits: 4 } }));
    const two = await track(ObjectSpace.open(shared(backend), { checkpoint: { commits: 4 } }));
    for (let round = 1; round <= 7; round++) {
      await one.database('app').transact(bump('one'));
      await two.refresh();
      await two.database('app').transact(bump('two'));
      await one.refresh();
      for (const space of [one, two]) {
        const counts = space.database('app').begin({ readOnly: true }).get<Counts>('counts');
        expect([counts?.get('one'), counts?.get('two')]).toEqual([round, round]);
      }
    }
    expect(one.stats().checkpoints + two.stats().checkpoints).toBeGreaterThanOrEqual(2);
    await Promise.all(open.splice(0).map((s) => s.close()));
    await backend.close();
  });

  it('keeps what an open snapshot of a delta commit reads when reclaim frees the chain', async () => {
    const space = await track(ObjectSpace.open(await openMemoryBackend(), { historyLimit: 0 }));
    const db = space.database('app');
    const entries = Array.from(
      { length: 5000 },
      (_, i) => [`k${String(i).padStart(5, '0')}`, i] as [string, number],
    );
    await db.transact((tx) => tx.set('counts', Dictionary.from(entries)));
    await db.transact(bump('k00001'));
    // A snapshot of a delta commit: its state lives in memory and refers to the checkpoint's nodes.
    const reader = db.begin({ readOnly: true });
    for (let i = 0; i < 20; i++) {
      await db.transact((tx) => {
        const d = tx.get<Counts>('counts') as Counts;
        tx.set('counts', d.set(`k${String(i * 250).padStart(5, '0')}`, -1));
      });
    }
    const kept = await space.reclaim();
    space.evictCaches();
    const seen = [...(reader.get<Counts>('counts') as Counts).entries()];
    expect(seen.length).toBe(5000);
    expect(seen.find(([k]) => k === 'k00001')?.[1]).toBe(2);
    expect(seen.find(([k]) => k === 'k00250')?.[1]).toBe(250);
    reader.abort();
    const freed = await space.reclaim();
    expect(freed.liveAtoms).toBeLessThan(kept.liveAtoms);
    expect((db.begin({ readOnly: true }).get<Counts>('counts') as Counts).get('k00250')).toBe(-1);
  });

  it('stores large values out of line: a checkpoint rewrites references, not the values beside the one changed', async () => {
    const location = createMemoryLocation();
    let space = await track(ObjectSpace.open(await openMemoryBackend({ location }), { historyLimit: 0 }));
    type Sessions = Dictionary<number, { id: number; body: string } | string>;
    const session = (id: number, version: number) => ({
      id,
      body: `${version}:`.padEnd(20_000, String(id % 10)),
    });
    await space.database('app').transact((tx) => {
      let d: Sessions = Dictionary.empty();
      for (let i = 0; i < 40; i++) d = d.set(i, i % 2 === 0 ? session(i, 0) : 'z'.repeat(5000 + i));
      tx.set('sessions', d);
    });
    // Written once more by a checkpoint, the stored objects go out of line.
    await space
      .database('app')
      .transact((tx) => tx.set('sessions', (tx.get<Sessions>('sessions') as Sessions).set(0, session(0, 1))));
    await space.checkpoint();
    const before = space.stats().bytesWritten;
    await space
      .database('app')
      .transact((tx) => tx.set('sessions', (tx.get<Sessions>('sessions') as Sessions).set(2, session(2, 2))));
    const delta = space.stats().bytesWritten - before;
    await space.checkpoint();
    const checkpoint = space.stats().bytesWritten - before - delta;
    // The delta holds the new 20 kB value; the checkpoint the new value, a leaf of 40 references
    // and the kernel's few small atoms, not the 39 other values (about 480 kB).
    expect(delta).toBeGreaterThan(20_000);
    expect(delta).toBeLessThan(20_000 + 1024);
    expect(checkpoint).toBeLessThan(20_000 + 2048);
    await space.close();
    open.splice(0);
    space = await track(ObjectSpace.open(await openMemoryBackend({ location }), { cache: { maxAtoms: 5 } }));
    const d = space.database('app').begin({ readOnly: true }).get<Sessions>('sessions') as Sessions;
    for (let i = 0; i < 40; i++) {
      const expected = i % 2 === 1 ? 'z'.repeat(5000 + i) : session(i, i === 0 ? 1 : i === 2 ? 2 : 0);
      expect(d.get(i)).toEqual(expected);
    }
    expect([...d.keys()]).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
