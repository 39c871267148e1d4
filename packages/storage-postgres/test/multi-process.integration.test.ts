/**
 * Several processes on one location (issue 13): four child processes race compare-and-set on
 * the same root, each from three concurrent chains (read the root, write atoms, compare-and-set,
 * again on false), one of them also reclaiming between its commits. The final chain must hold
 * every acknowledged commit exactly once, and every root that was raced on must have had
 * exactly one winner.
 */
import { guardBackend } from '@proto/atom/storage';
import { expect, it } from 'vitest';
import { walkChain } from '../../../tooling/test-support/chain.js';
import { openPostgresBackend } from '../src/index.js';
import { acknowledgements, runFixture } from './child.js';
import { describeWithServer, dropSchema, freshSchema } from './server.js';

const PROCESSES = 4;
const COMMITS_PER_PROCESS = 60;

describeWithServer('storage-postgres: several processes on one location', (url) => {
  it('keeps every acknowledged commit exactly once with one winner per race when four processes race', async () => {
    const schema = freshSchema('multi');
    await (await openPostgresBackend({ connectionString: url }, { schema })).close();
    try {
      const writers = Array.from({ length: PROCESSES }, (_, i) => `p${i}`);
      const children = writers.map((writer, i) =>
        runFixture('commit-loop.ts', [
          url,
          schema,
          writer,
          '3',
          String(COMMITS_PER_PROCESS),
          '--wait',
          ...(i === 0 ? ['--reclaim'] : []),
        ]),
      );
      await Promise.all(children.map((child) => child.waitForLine((line) => line === 'loaded')));
      for (const child of children) child.child.stdin?.write('go\n');
      const exits = await Promise.all(children.map((child) => child.exited));
      exits.forEach((exit, i) => {
        expect(exit, children[i]?.stderr()).toEqual({ code: 0, signal: null });
      });
      const acks = children.flatMap((child) => acknowledgements(child.lines));
      expect(acks.length).toBeGreaterThanOrEqual(PROCESSES * COMMITS_PER_PROCESS);

      const backend = guardBackend(await openPostgresBackend({ connectionString: url }, { schema }));
      try {
        const root = await backend.readRoot();
        const chain = await walkChain(backend, root);
        // Exactly the acknowledged commits, each under the counter its writer saw.
        expect(chain.size).toBe(acks.length);
        for (const { pointer, counter } of acks) expect(chain.get(pointer)).toBe(counter);
        // One winner per race: every root that was raced on (but the last) was left exactly once.
        const winners = new Map<string, number>();
        let races = 0;
        let lost = 0;
        for (const line of children.flatMap((child) => child.lines)) {
          const [word, expected = '', won] = line.split(' ');
          if (word !== 'race') continue;
          races += 1;
          if (won === 'true') winners.set(expected, (winners.get(expected) ?? 0) + 1);
          else {
            lost += 1;
            if (!winners.has(expected)) winners.set(expected, 0);
          }
        }
        const wrong = [...winners].filter(([expected, count]) => count !== 1 && expected !== root);
        expect(wrong, 'roots raced on without exactly one winner').toEqual([]);
        expect(winners.get(root ?? '-') ?? 0).toBe(0);
        // The processes did race: many compare-and-sets lost.
        expect(lost, `${races} compare-and-sets`).toBeGreaterThan(PROCESSES * 5);
        console.info(
          `storage-postgres multi-process: ${acks.length} commits, ${races} compare-and-sets, ${lost} lost`,
        );
      } finally {
        await backend.close();
      }
      for (const child of children) {
        expect(acknowledgements(child.lines).length).toBeGreaterThanOrEqual(COMMITS_PER_PROCESS);
        expect(child.lines.at(-1)).toMatch(/^done \d+ \d+$/);
      }
      expect(children[0]?.lines.filter((line) => line === 'reclaim').length).toBeGreaterThan(5);
    } finally {
      await dropSchema(url, schema);
    }
  }, 120_000);
});
