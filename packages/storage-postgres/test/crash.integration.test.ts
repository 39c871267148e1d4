/**
 * Guarantees 1 and 2 under SIGKILL (issue 13): a child process commits from several concurrent
 * chains (in half the trials also reclaiming between commits) and is killed at a random moment,
 * often with compare-and-sets in flight. After each kill the location must hold every commit
 * any trial acknowledged, on one chain from the root, and every atom the root reaches must hold
 * exactly its bytes (no partial commit). The next child is started while the current one runs,
 * so its start-up does not count.
 *
 * PROTO_POSTGRES_CRASH_TRIALS (default 40) and PROTO_POSTGRES_CRASH_SEED (default: drawn,
 * printed on failure) choose how many trials run and the kill plan.
 */
import { guardBackend } from '@proto/atom/storage';
import { expect, it } from 'vitest';
import { random, walkChain } from '../../../tooling/test-support/chain.js';
import { openPostgresBackend } from '../src/index.js';
import { acknowledgements, type FixtureProcess, runFixture } from './child.js';
import { describeWithServer, dropSchema, freshSchema } from './server.js';

const TRIALS = Number(process.env.PROTO_POSTGRES_CRASH_TRIALS ?? 40);
const SEED = Number(process.env.PROTO_POSTGRES_CRASH_SEED ?? Date.now() % 1_000_000);

describeWithServer('storage-postgres: crash safety', (url) => {
  it(`keeps every acknowledged commit whole when the committing process is killed (${TRIALS} trials)`, async () => {
    const schema = freshSchema('crash');
    await (await openPostgresBackend({ connectionString: url }, { schema })).close();
    const next = random(SEED);
    const started: FixtureProcess[] = [];
    const start = () => {
      const reclaims = next() < 0.5;
      const chains = String(1 + Math.floor(next() * 4));
      const child = runFixture('commit-loop.ts', [
        url,
        schema,
        'crash',
        chains,
        '0',
        '--wait',
        ...(reclaims ? ['--reclaim'] : []),
      ]);
      started.push(child);
      return child;
    };
    const reader = guardBackend(await openPostgresBackend({ connectionString: url }, { schema }));
    const acks: { pointer: string; counter: number }[] = [];
    let verified: { root: string | null; counter: number } = { root: null, counter: 0 };
    let killedWithRaceInFlight = 0;
    const began = Date.now();
    try {
      let child = start();
      for (let trial = 0; trial < TRIALS; trial += 1) {
        const current = child;
        await current.waitForLine((line) => line === 'loaded');
        if (trial + 1 < TRIALS) child = start();
        const kill = () => current.child.kill('SIGKILL');
        if (next() < 0.5) {
          // Right after the k-th acknowledgement, with the other chains' commits in flight.
          const k = 1 + Math.floor(next() * 15);
          let seen = 0;
          current.onLine((line) => {
            if (line.startsWith('ack ') && ++seen === k) kill();
          });
        } else {
          const delay = next() * 150;
          current.onLine((line) => {
            if (line === 'ready') setTimeout(kill, delay);
          });
        }
        current.child.stdin?.write('go\n');
        const { signal } = await current.exited;
        if (signal !== 'SIGKILL')
          throw new Error(`trial ${trial}: the child ended by itself:\n${current.stderr()}`);
        const attempts = current.lines.filter((line) => line.startsWith('race ')).length;
        const trialAcks = acknowledgements(current.lines);
        if (attempts > 0) killedWithRaceInFlight += 1;
        acks.push(...trialAcks);
        // Everything newer than the last verified root, node by node and atom by atom.
        const root = await reader.readRoot();
        const counters = await walkChain(reader, root, verified.root);
        for (const ack of trialAcks) {
          expect(
            counters.get(ack.pointer),
            `trial ${trial} (seed ${SEED}): acknowledged ${ack.pointer}`,
          ).toBe(ack.counter);
        }
        const counter = root === verified.root ? verified.counter : (counters.get(root as string) as number);
        expect(counter, `trial ${trial} (seed ${SEED}): root counter`).toBeGreaterThanOrEqual(
          Math.max(verified.counter, ...trialAcks.map((ack) => ack.counter)),
        );
        verified = { root, counter };
      }
      // Every commit of every trial, on one chain from the start, atoms byte for byte.
      const chain = await walkChain(reader, await reader.readRoot());
      for (const ack of acks)
        expect(chain.get(ack.pointer), `seed ${SEED}: ${ack.pointer}`).toBe(ack.counter);
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      console.info(
        `storage-postgres crash: seed ${SEED}, ${TRIALS} trials in ${seconds} s, ${acks.length} acknowledged commits, ${chain.size} on the chain`,
      );
      expect(acks.length).toBeGreaterThan(TRIALS);
      expect(killedWithRaceInFlight).toBeGreaterThan(TRIALS / 2);
    } finally {
      for (const { child } of started)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await reader.close();
      await dropSchema(url, schema);
    }
  }, 300_000);
});
