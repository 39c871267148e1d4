/**
 * The parts of an object space tested on their own: the commit pipeline against a backend
 * whose barriers the test settles by hand, and the narrow handle a database gets.
 */
import { ObjectSpace, Transaction } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { History } from '../src/space/history.js';
import { persist } from '../src/space/persist.js';
import { CommitPipeline } from '../src/space/pipeline.js';
import { AtomStore } from '../src/space/store.js';
import type { AtomPointer } from '../src/storage/backend.js';
import { guardBackend } from '../src/storage/guard.js';

interface Barrier {
  readonly expected: AtomPointer | null;
  readonly next: AtomPointer;
  settle(swapped: boolean): void;
}

/**
 * A pipeline over a real store and history whose compare-and-sets wait for `settle`, and whose
 * writes (with `gated`) wait for `releaseWrite`.
 */
async function manualPipeline(options: { casRetries?: number; gated?: boolean } = {}) {
  const store = new AtomStore(guardBackend(await openMemoryBackend()), {});
  const history = new History(store, 32, { commits: 1000, bytes: 4 * 1024 * 1024 });
  const barriers: Barrier[] = [];
  const gates: (() => void)[] = [];
  const pipeline = new CommitPipeline(
    history,
    {
      persist: async (record) => {
        if (options.gated === true) await new Promise<void>((resolve) => gates.push(resolve));
        return persist(record, store);
      },
      compareAndSetRoot: (expected, next) =>
        new Promise<boolean>((resolve) => barriers.push({ expected, next, settle: resolve })),
    },
    options.casRetries ?? 20,
  );
  const host = { commit: (tx: Transaction) => pipeline.enqueue(tx) };
  const write = (root: string, value: unknown): Transaction => {
    const tx = new Transaction(host, 'db', history.snapshot(), false);
    tx.set(root, value);
    return tx;
  };
  /** Lets the pipeline run until it waits on a barrier, a gated write, or is idle. */
  const drain = () => new Promise((resolve) => setImmediate(resolve));
  /** Lets the `index`-th gated write go on. */
  const releaseWrite = (index: number) => gates[index]?.();
  return { history, pipeline, barriers, gates, write, drain, releaseWrite };
}

describe('atom: commit pipeline', () => {
  it('prepares the next group on top of a barrier in flight and holds a third until one settles', async () => {
    const p = await manualPipeline({ gated: true });
    const first = p.write('a', 1).commit();
    await p.drain();
    // Commits that arrive while a group is being written form the next group.
    const second = p.write('b', 2).commit();
    p.releaseWrite(0);
    await p.drain();
    expect(p.barriers).toHaveLength(1);
    expect(p.gates).toHaveLength(2);
    const third = p.write('c', 3).commit();
    p.releaseWrite(1);
    await p.drain();
    expect(p.barriers).toHaveLength(2);
    // The second group is folded on the first group's record, not on the durable head.
    expect(p.barriers[1]?.expected).toBe(p.barriers[0]?.next);
    // Two barriers are in flight: the third group waits, not even written.
    expect(p.gates).toHaveLength(2);

    p.barriers[0]?.settle(true);
    expect(await first).toMatchObject({ sequence: 1 });
    await p.drain();
    expect(p.gates).toHaveLength(3);
    p.releaseWrite(2);
    await p.drain();
    expect(p.barriers).toHaveLength(3);
    expect(p.barriers[2]?.expected).toBe(p.barriers[1]?.next);
    p.barriers[1]?.settle(true);
    p.barriers[2]?.settle(true);
    expect(await second).toMatchObject({ sequence: 2 });
    expect(await third).toMatchObject({ sequence: 3 });
    expect(p.history.sequence).toBe(3);
    expect([...(p.history.snapshot().state.database('db')?.roots.keys() ?? [])].sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
    // The second and third began on the empty state, so each was rebased (blind writes: no conflict).
    expect(p.pipeline.stats()).toEqual({
      commits: 3,
      conflicts: 0,
      rebases: 2,
      barriers: 3,
      // The first commit has no record to build on: it is a checkpoint; the others are deltas.
      checkpoints: 1,
    });
  });

  it('folds a group again on the re-read root when its barrier loses the root', async () => {
    const p = await manualPipeline();
    const commit = p.write('a', 1).commit();
    await p.drain();
    p.barriers[0]?.settle(false);
    await p.drain();
    expect(p.barriers).toHaveLength(2);
    // The memory backend's root was never moved, so the retry expects the empty root again.
    expect(p.barriers[1]?.expected).toBeNull();
    p.barriers[1]?.settle(true);
    expect(await commit).toMatchObject({ sequence: 1 });
    expect(p.pipeline.stats().barriers).toBe(2);
  });

  it('rejects with a conflict when the root is lost more often than casRetries', async () => {
    const p = await manualPipeline({ casRetries: 1 });
    const commit = p.write('a', 1).commit();
    const outcome = commit.then(
      () => 'committed',
      (error: unknown) => error,
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      await p.drain();
      p.barriers[attempt]?.settle(false);
    }
    expect(await outcome).toMatchObject({ reason: 'conflict' });
    expect(p.pipeline.stats()).toMatchObject({ commits: 0, conflicts: 1, barriers: 2 });
    await p.drain();
    expect(p.pipeline.flushing).toBeUndefined();
  });
});

describe('atom: database handle', () => {
  it('exposes no part of its object space when obtained from space.database()', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('app');
    expect(Object.keys(db)).toEqual(['name']);
    expect('space' in db).toBe(false);
    for (const member of ['commit', 'snapshot', 'track']) expect(member in space).toBe(false);
    await db.transact((tx) => tx.set('a', 1));
    expect(db.sequence).toBe(1);
    await space.close();
  });
});
