/**
 * Object spaces in several processes on one PostgreSQL location (issue 13, kernel level): each
 * process increments its own counter and a shared one with `db.transact`, on a backend without
 * synchronous reads, so every lost compare-and-set makes it load and replay the others' commits.
 * The final state must be the serial application of every commit: each writer's count exact,
 * the shared total exact.
 */
import { ObjectSpace } from '@proto/atom';
import { expect, it } from 'vitest';
import { openPostgresBackend } from '../src/index.js';
import { runFixture } from './child.js';
import { describeWithServer, dropSchema, freshSchema } from './server.js';

const WRITERS = ['a', 'b', 'c'];
const COMMITS = 60;

describeWithServer('storage-postgres: object spaces in several processes', (url) => {
  it('counts every commit of every process when three commit delta records and checkpoints at once', async () => {
    const schema = freshSchema('spaces');
    await (await openPostgresBackend({ connectionString: url }, { schema })).close();
    try {
      const children = WRITERS.map((writer) =>
        runFixture('space-loop.ts', [url, schema, writer, String(COMMITS), '3']),
      );
      await Promise.all(children.map((child) => child.waitForLine((line) => line === 'loaded')));
      for (const child of children) child.child.stdin?.write('go\n');
      const exits = await Promise.all(children.map((child) => child.exited));
      exits.forEach((exit, i) => {
        expect(exit, children[i]?.stderr()).toEqual({ code: 0, signal: null });
      });
      const done = children.map((child) => (child.lines.at(-1) ?? '').split(' '));
      for (const [word] of done) expect(word).toBe('done');
      const rebases = done.reduce((sum, [, count]) => sum + Number(count), 0);
      expect(rebases, 'the processes raced and replayed each other').toBeGreaterThan(0);

      const space = await ObjectSpace.open(await openPostgresBackend({ connectionString: url }, { schema }));
      try {
        const state = await space
          .database('app')
          .transact((tx) => [...WRITERS.map((writer) => tx.get<number>(writer)), tx.get<number>('total')]);
        expect(state).toEqual([...WRITERS.map(() => COMMITS), (WRITERS.length * COMMITS) / 5]);
        console.info(`storage-postgres spaces: ${WRITERS.length * COMMITS} commits, ${rebases} rebases`);
      } finally {
        await space.close();
      }
    } finally {
      await dropSchema(url, schema);
    }
  }, 120_000);
});
