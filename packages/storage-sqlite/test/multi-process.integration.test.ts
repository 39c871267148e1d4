/**
 * Several processes on one file: two child processes commit to the same database with
 * read-root / write / compare-and-set retry loops from several chains each, one of them also
 * reclaiming space. SQLite's locks and the compare-and-set decide; no acknowledged commit may be
 * lost and nothing else may appear.
 */
import { guardBackend } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import { walkChain } from '../../../tooling/test-support/chain.js';
import { openSqliteBackend } from '../src/index.js';
import { acknowledgements, runFixture } from './child.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('multi');
const COMMITS_PER_PROCESS = 150;

describe('storage-sqlite: several processes on one file', () => {
  it('loses no acknowledged commit when two processes race compare-and-set on one file', async () => {
    const path = freshPath(dir);
    // Create the file first so both children open an existing database.
    await (await openSqliteBackend({ path })).close();
    // Process b also reclaims between its commits, deleting what a's failed attempts left.
    const children = ['a', 'b'].map((writer) =>
      runFixture('commit-loop.ts', [
        path,
        writer,
        '3',
        String(COMMITS_PER_PROCESS),
        ...(writer === 'b' ? ['--reclaim'] : []),
      ]),
    );
    const exits = await Promise.all(children.map((child) => child.exited));
    exits.forEach((exit, i) => {
      expect(exit, children[i]?.stderr()).toEqual({ code: 0, signal: null });
    });
    const acks = children.flatMap((child) => acknowledgements(child.lines));
    expect(children[1]?.lines.filter((line) => line === 'reclaim').length).toBeGreaterThan(10);
    expect(acks.length).toBeGreaterThanOrEqual(2 * COMMITS_PER_PROCESS);

    const backend = guardBackend(await openSqliteBackend({ path }));
    try {
      expect(backend.capabilities.multiProcess).toBe(true);
      const chain = await walkChain(backend, await backend.readRoot());
      // Exactly the acknowledged commits, each under the counter its writer saw.
      expect(chain.size).toBe(acks.length);
      for (const { pointer, counter } of acks) expect(chain.get(pointer)).toBe(counter);
    } finally {
      await backend.close();
    }
    for (const child of children) {
      // Each process got its own commits in (it stops only after that many acknowledgements).
      expect(acknowledgements(child.lines).length).toBeGreaterThanOrEqual(COMMITS_PER_PROCESS);
      expect(child.lines.at(-1)).toMatch(/^done \d+ \d+$/);
    }
  }, 120_000);
});
