/**
 * A change feed across processes: two child processes commit to one SQLite file (delta
 * records, with a checkpoint every third commit, so the root often names a checkpoint that
 * the subscriber must walk back through), while a subscriber in this process, noticing their
 * commits through `PRAGMA data_version`, must see every commit once, in order, none missing.
 */
import { type Change, ObjectSpace } from '@proto/atom';
import { describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../src/index.js';
import { runFixture } from './child.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('feeds');
const COMMITS = 120;

describe('storage-sqlite: a change feed sees the commits of other processes', () => {
  it('delivers every commit of two writer processes once, in order', async () => {
    const path = freshPath(dir);
    const space = await ObjectSpace.open(await openSqliteBackend({ path, watchIntervalMs: 5 }));
    const db = space.database('app');
    const changes: Change[] = [];
    const errors: unknown[] = [];
    let finished = () => {};
    const all = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const last = { a: 0, b: 0 };
    const sub = db.subscribe(
      (change) => {
        changes.push(change);
        for (const root of change.roots) {
          if (root.root === 'a' || root.root === 'b') last[root.root] = root.newValue as number;
        }
        if (last.a === COMMITS && last.b === COMMITS) finished();
      },
      {
        onError: (error) => {
          errors.push(error);
          finished();
        },
      },
    );
    const children = ['a', 'b'].map((writer) =>
      runFixture('space-loop.ts', [path, writer, String(COMMITS), '3']),
    );
    await Promise.all(children.map((child) => child.waitForLine((line) => line === 'loaded')));
    for (const child of children) child.child.stdin?.write('go\n');
    const exits = await Promise.all(children.map((child) => child.exited));
    exits.forEach((exit, i) => {
      expect(exit, children[i]?.stderr()).toEqual({ code: 0, signal: null });
    });
    await all;
    sub.close();
    expect(errors).toEqual([]);

    // One change per commit, in sequence order, none twice, none missing.
    const sequences = changes.map((c) => c.sequence);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
    expect(sequences.length).toBe(space.sequence);
    // Each writer's counter moves by exactly one per commit that changed it, so a missing or
    // repeated commit would show as a skipped or repeated value.
    for (const writer of ['a', 'b']) {
      const steps = changes.flatMap((c) => c.roots.filter((r) => r.root === writer));
      expect(steps.map((r) => [r.oldValue ?? 0, r.newValue])).toEqual(
        Array.from({ length: COMMITS }, (_, i) => [i, i + 1]),
      );
    }
    const totals = changes.flatMap((c) => c.roots.filter((r) => r.root === 'total')).map((r) => r.newValue);
    expect(totals).toEqual(Array.from({ length: (2 * COMMITS) / 5 }, (_, i) => i + 1));
    await space.close();
  }, 120_000);
});
