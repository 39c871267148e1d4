/**
 * Checkpoints written in the background: when a checkpoint falls due after at least 5,000 delta
 * records (the default policy's 10,000), the state of that moment is written in
 * slices between commits and the checkpoint follows once it is, writing only what changed
 * since. Checked as a user meets it: every commit stays readable and durable, a reopen replays
 * to the same data, a checkpoint asked for is written at once, and one is always written by
 * twice the interval.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { shared } from '../../../tooling/test-support/shared-backend.js';
import { Dictionary } from '../src/index.js';

type Records = Dictionary<string, string>;

const open: ObjectSpace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const COMMITS = 5_000;
const policy = { checkpoint: { commits: COMMITS, bytes: 64 * 1024 * 1024 } };
const N = 20_000;
const key = (i: number) => `key-${String(i).padStart(6, '0')}`;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function build(location = createMemoryLocation()) {
  const space = await ObjectSpace.open(await openMemoryBackend({ location }), policy);
  open.push(space);
  const db = space.database('app');
  await db.transact((tx) => {
    tx.set('records', Dictionary.from(Array.from({ length: N }, (_, i) => [key(i), `v0-${i}`] as const)));
  });
  return { space, db, location };
}

/** Commits one update of a pseudo-random key; the model follows. */
function updater(db: ReturnType<ObjectSpace['database']>, model: Map<string, string>) {
  let seed = 12_345;
  let n = 0;
  return async () => {
    seed = (seed * 48_271) % 2_147_483_647;
    const k = key(seed % N);
    const v = `v${++n}-${k}`;
    model.set(k, v);
    await db.transact((tx) => {
      tx.set('records', (tx.get<Records>('records') as Records).set(k, v));
    });
  };
}

describe('collections: checkpoints written in the background', () => {
  it('writes a due checkpoint after its state is written, between commits, and loses nothing', async () => {
    const { space, db, location } = await build();
    const model = new Map(Array.from({ length: N }, (_, i) => [key(i), `v0-${i}`] as const));
    const update = updater(db, model);
    const start = space.stats();
    // The first commit is the checkpoint that builds; COMMITS delta records follow before one is due.
    for (let i = 0; i < COMMITS; i++) await update();
    expect(space.stats().checkpoints).toBe(start.checkpoints);
    expect(space.stats().atomsWrittenAhead).toBe(0);
    // Due now: the next commits are delta records while the state of this moment is written.
    let commits = 0;
    while (space.stats().checkpoints === start.checkpoints) {
      await update();
      await turn();
      commits++;
      expect(commits, 'a checkpoint by twice the interval').toBeLessThanOrEqual(COMMITS);
    }
    const stats = space.stats();
    expect(stats.atomsWrittenAhead).toBeGreaterThan(N / 64 / 2);
    expect(stats.aheadSlices).toBeGreaterThan(0);
    expect(stats.aheadFailures).toBe(0);
    // Every commit reads back, now and after a reopen (which replays no more than the interval).
    const check = (records: Records | undefined) => {
      expect(records?.size).toBe(N);
      for (const [k, v] of model) if (records?.get(k) !== v) expect(records?.get(k), k).toBe(v);
    };
    check(db.begin({ readOnly: true }).get<Records>('records'));
    await space.close();
    const again = await ObjectSpace.open(await openMemoryBackend({ location }), policy);
    open.push(again);
    check(again.database('app').begin({ readOnly: true }).get<Records>('records'));
  });

  it('writes the checkpoint at once when asked for, and by twice the interval when the pass cannot run', async () => {
    const { space, db } = await build();
    const model = new Map<string, string>();
    const update = updater(db, model);
    for (let i = 0; i < COMMITS + 10; i++) await update();
    // Due and deferred: the pass has not had a turn of the event loop yet.
    const before = space.stats().checkpoints;
    await space.checkpoint();
    expect(space.stats().checkpoints).toBe(before + 1);
    // Never yielding to the event loop, the pass never writes: the checkpoint is the commit after
    // 2 × COMMITS delta records.
    let commits = 0;
    while (space.stats().checkpoints === before + 1) {
      await update();
      commits++;
    }
    expect(commits).toBe(2 * COMMITS + 1);
    for (const [k, v] of model) expect(db.begin({ readOnly: true }).get<Records>('records')?.get(k)).toBe(v);
  });

  it('writes a checkpoint due after fewer delta records as soon as it is due', async () => {
    // By the commit count, and by the byte bound (large values reach it after a few commits).
    for (const [checkpoint, value] of [
      [{ commits: 100 }, 'v'],
      [{ commits: 10_000, bytes: 64 * 1024 }, 'v'.repeat(1024)],
    ] as const) {
      const space = await ObjectSpace.open(await openMemoryBackend(), { checkpoint });
      open.push(space);
      const db = space.database('app');
      let checkpoints = 0;
      for (let i = 0; i < 202; i++) {
        const before = space.stats().checkpoints;
        await db.transact((tx) => {
          const d = tx.get<Records>('records') ?? Dictionary.empty<string, string>();
          tx.set('records', d.set(key(i % 50), `${i}${value}`));
        });
        if (space.stats().checkpoints > before) checkpoints++;
        await turn();
      }
      // Commit 1 builds (a checkpoint); one follows each time the policy says, never deferred:
      // commit 102 by the count, every 64 KiB of about 1 KiB delta records by the bytes.
      if ('bytes' in checkpoint) expect(checkpoints).toBeGreaterThanOrEqual(3);
      else expect(checkpoints).toBe(2);
      expect(space.stats().atomsWrittenAhead).toBe(0);
    }
  });

  it('starts a new pass when another space on the backend wrote the checkpoint it prepared', async () => {
    const backend = await openMemoryBackend();
    const one = await ObjectSpace.open(shared(backend), policy);
    const two = await ObjectSpace.open(shared(backend), policy);
    open.push(one, two);
    const db = one.database('app');
    await db.transact((tx) => {
      tx.set('records', Dictionary.from(Array.from({ length: N }, (_, i) => [key(i), `v0-${i}`] as const)));
    });
    const model = new Map<string, string>();
    const update = updater(db, model);
    // Due, and its pass done; then the other space writes a checkpoint first.
    for (let i = 0; i < COMMITS + 1; i++) await update();
    // The pass writes the state of that moment in a few slices, one per turn of the event loop.
    for (let i = 0; i < 200; i++) await turn();
    expect(one.stats().atomsWrittenAhead).toBeGreaterThan(0);
    await two.refresh();
    await two.checkpoint();
    // ... and commits on top of it, so that `one` reads back a chain that starts there.
    await two.database('app').transact((tx) => tx.set('other', 1));
    const written = one.stats().atomsWrittenAhead;
    const checkpoints = one.stats().checkpoints;
    // `one` follows (its next commit loses the root once and is folded again on the new head),
    // and COMMITS delta records later its own due checkpoint is prepared by a new pass.
    let commits = 0;
    while (one.stats().checkpoints === checkpoints) {
      await update();
      await turn();
      commits++;
      expect(commits).toBeLessThanOrEqual(2 * COMMITS + 1);
    }
    expect(commits).toBeGreaterThan(COMMITS + 1);
    expect(one.stats().atomsWrittenAhead).toBeGreaterThan(written);
    await two.refresh();
    const records = two.database('app').begin({ readOnly: true }).get<Records>('records');
    for (const [k, v] of model) if (records?.get(k) !== v) expect(records?.get(k), k).toBe(v);
  });
});
