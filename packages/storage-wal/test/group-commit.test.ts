import { join } from 'node:path';
import type { AtomPointer } from '@proto/atom/storage';
import { nodeFileSystem, openWalBackend, type WalFileSystem } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { instrumentedFs, patternBytes, tempDir } from './helpers.js';

describe('storage-wal: group commit', () => {
  it('shares fsyncs between concurrent commits when many arrive together', async () => {
    const dir = tempDir();
    const { fs, count } = instrumentedFs();
    const backend = await openWalBackend({ path: dir, fs });
    const n = 64;
    // Each commit writes its own atoms, then chains on the previous one's root.
    const writes = Array.from({ length: n }, (_, i) =>
      backend.writeAtoms([patternBytes(50, i), patternBytes(9, -i)]),
    );
    const roots = (await Promise.all(writes)).map((pointers) => pointers[0] as AtomPointer);
    const syncsBefore = count('sync');
    const results = await Promise.all(
      roots.map((root, i) => backend.compareAndSetRoot(i === 0 ? null : (roots[i - 1] as AtomPointer), root)),
    );
    const syncs = count('sync') - syncsBefore;
    expect(results.every(Boolean)).toBe(true);
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(n / 4);
    expect(await backend.readRoot()).toBe(roots.at(-1));
    await backend.close();

    const reopened = await openWalBackend({ path: dir });
    expect(await reopened.readRoot()).toBe(roots.at(-1));
    await reopened.close();
  });

  it('puts every commit that arrives during an fsync into the next flush, sharing one fsync', async () => {
    const dir = tempDir();
    const syncs: string[] = [];
    let duringFirstSync: (() => void) | undefined;
    const fs: WalFileSystem = {
      ...nodeFileSystem,
      async sync(fd) {
        syncs.push(`sync ${fd}`);
        const hook = duringFirstSync;
        duringFirstSync = undefined;
        hook?.();
        await nodeFileSystem.sync(fd);
      },
    };
    const backend = await openWalBackend({ path: dir, fs });
    const pointers = (await backend.writeAtoms(
      Array.from({ length: 21 }, (_, i) => patternBytes(30, i)),
    )) as AtomPointer[];
    const later: Promise<boolean>[] = [];
    duringFirstSync = () => {
      // The first commit's record is written and its fsync is running: these must wait for it.
      for (let i = 1; i < pointers.length; i++) {
        later.push(backend.compareAndSetRoot(pointers[i - 1] as AtomPointer, pointers[i] as AtomPointer));
      }
    };
    syncs.length = 0;
    expect(await backend.compareAndSetRoot(null, pointers[0] as AtomPointer)).toBe(true);
    expect(later).toHaveLength(20);
    expect(await Promise.all(later)).toEqual(Array.from({ length: 20 }, () => true));
    expect(syncs).toHaveLength(2);
    expect(await backend.readRoot()).toBe(pointers.at(-1));
    await backend.close();
  });

  it('syncs a lone commit on the calling thread and commits that overlap others in the thread pool', async () => {
    const hints: boolean[] = [];
    const fs: WalFileSystem = {
      ...nodeFileSystem,
      sync(fd, inline) {
        hints.push(inline === true);
        return nodeFileSystem.sync(fd, inline);
      },
    };
    const open = (syncOn?: 'auto' | 'thread-pool') =>
      openWalBackend({ path: tempDir(), fs, ...(syncOn === undefined ? {} : { syncOn }) });
    const backend = await open();
    const pointers = (await backend.writeAtoms(
      Array.from({ length: 40 }, (_, i) => patternBytes(20, i)),
    )) as AtomPointer[];
    // One at a time, each awaited: nothing overlaps, so each syncs inline.
    hints.length = 0;
    for (let i = 0; i < 3; i++)
      expect(await backend.compareAndSetRoot(pointers[i - 1] ?? null, pointers[i] as AtomPointer)).toBe(true);
    expect(hints).toEqual([true, true, true]);
    // Two queued together: one flush of both, in the thread pool.
    hints.length = 0;
    const together = [3, 4].map((i) =>
      backend.compareAndSetRoot(pointers[i - 1] as AtomPointer, pointers[i] as AtomPointer),
    );
    expect(await Promise.all(together)).toEqual([true, true]);
    expect(hints).toEqual([false]);
    // One that arrives while a flush syncs in the thread pool: in the thread pool too. (The
    // flush starts in the check phase before this test's `setImmediate`; its sync cannot
    // complete before the poll phase after it.)
    hints.length = 0;
    const pair = [5, 6].map((i) =>
      backend.compareAndSetRoot(pointers[i - 1] as AtomPointer, pointers[i] as AtomPointer),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const third = backend.compareAndSetRoot(pointers[6] as AtomPointer, pointers[7] as AtomPointer);
    expect(await Promise.all([...pair, third])).toEqual([true, true, true]);
    expect(hints).toEqual([false, false]);
    expect(await backend.readRoot()).toBe(pointers[7]);
    await backend.close();

    // 'thread-pool': never inline.
    hints.length = 0;
    const pooled = await open('thread-pool');
    const [a, b] = (await pooled.writeAtoms([patternBytes(9, 1), patternBytes(9, 2)])) as AtomPointer[];
    hints.length = 0;
    expect(await pooled.compareAndSetRoot(null, a as AtomPointer)).toBe(true);
    expect(await pooled.compareAndSetRoot(a as AtomPointer, b as AtomPointer)).toBe(true);
    expect(hints).toEqual([false, false]);
    await pooled.close();
    await expect(open('inline' as never)).rejects.toThrow(/syncOn must be 'auto' or 'thread-pool'/);
  });

  it('rejects (never throws) when a sync fails, on the calling thread or in the thread pool', async () => {
    for (const inline of [true, false]) {
      // A descriptor that was just closed: fdatasync fails with EBADF.
      const fd = nodeFileSystem.open(join(tempDir(), 'closed'), 'wx+');
      nodeFileSystem.close(fd);
      const sync = nodeFileSystem.sync(fd, inline);
      expect(sync).toBeInstanceOf(Promise);
      await expect(sync).rejects.toMatchObject({ code: 'EBADF' });
    }
  });

  it('settles losers of a batch with false after the winners are durable', async () => {
    const dir = tempDir();
    const { fs, count } = instrumentedFs();
    const backend = await openWalBackend({ path: dir, fs });
    const [a, b, c] = (await backend.writeAtoms([
      patternBytes(5, 1),
      patternBytes(5, 2),
      patternBytes(5, 3),
    ])) as AtomPointer[];
    const syncsBefore = count('sync');
    const results = await Promise.all([
      backend.compareAndSetRoot(null, a as AtomPointer),
      backend.compareAndSetRoot(null, b as AtomPointer),
      backend.compareAndSetRoot(null, c as AtomPointer),
    ]);
    expect(results).toEqual([true, false, false]);
    expect(count('sync') - syncsBefore).toBe(1);
    expect(await backend.readRoot()).toBe(a);
    await backend.close();
  });
});
