/**
 * Two processes with object spaces on one SQLite file, committing delta records and
 * checkpoints at the same time: each replays the other's chains when its compare-and-set loses
 * and folds its transaction again, so both writers' counts and the shared total come out exact.
 */
import { ObjectSpace } from '@proto/atom';
import { describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../src/index.js';
import { runFixture } from './child.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('spaces');
const COMMITS = 120;

describe('storage-sqlite: object spaces in two processes', () => {
  it('counts every commit of both when both commit delta records and checkpoints at once', async () => {
    const path = freshPath(dir);
    await (await openSqliteBackend({ path })).close();
    const children = ['a', 'b'].map((writer) =>
      runFixture('space-loop.ts', [path, writer, String(COMMITS), '3']),
    );
    await Promise.all(children.map((child) => child.waitForLine((line) => line === 'loaded')));
    for (const child of children) child.child.stdin?.write('go\n');
    const exits = await Promise.all(children.map((child) => child.exited));
    exits.forEach((exit, i) => {
      expect(exit, children[i]?.stderr()).toEqual({ code: 0, signal: null });
    });
    const done = children.map((child) => (child.lines.at(-1) ?? '').split(' '));
    for (const [word, , checkpoints] of done) {
      expect(word).toBe('done');
      expect(Number(checkpoints)).toBeGreaterThan(0);
    }

    const space = await ObjectSpace.open(await openSqliteBackend({ path }));
    const tx = space.database('app').begin({ readOnly: true });
    expect([tx.get('a'), tx.get('b'), tx.get('total')]).toEqual([COMMITS, COMMITS, (2 * COMMITS) / 5]);
    await space.close();
  }, 120_000);
});
