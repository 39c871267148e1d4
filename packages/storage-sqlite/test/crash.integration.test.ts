/**
 * Guarantees 1 and 2 under SIGKILL: a child process commits from several concurrent chains (and
 * in half the trials runs reclaim between commits) and is killed at random moments; after each
 * kill the file must open, and every commit the child acknowledged (in this trial or an earlier
 * one) must be in the chain from the root, with every atom it reaches holding exactly its bytes.
 */
import { guardBackend } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../src/index.js';
import { acknowledgements, type FixtureProcess, runFixture } from './child.js';
import { random, walkChain } from './fixtures/chain.js';
import { freshPath, scratchDir } from './helpers.js';

const LANES = 2;
const TRIALS_PER_LANE = 100;

const dir = scratchDir('crash');

interface Trial {
  readonly process: FixtureProcess;
  /** The child also runs reclaim() between commits. */
  readonly reclaims: boolean;
}

function startChild(path: string, next: () => number): Trial {
  const chains = String(1 + Math.floor(next() * 4));
  const reclaims = next() < 0.5;
  const args = [path, 'crash', chains, '0', '--wait', ...(reclaims ? ['--reclaim'] : [])];
  return { process: runFixture('commit-loop.ts', args), reclaims };
}

/**
 * Opens the file after a kill and walks the chain from its root down to `previous` (the root
 * verified after the last trial, which must still be on it), or to the start when `full`.
 * Every acknowledged commit newer than `previous` must be on that stretch with its counter.
 */
async function verify(
  path: string,
  previous: { root: string | null; counter: number },
  acks: readonly { pointer: string; counter: number }[],
  full: boolean,
): Promise<{ root: string | null; counter: number }> {
  const backend = guardBackend(await openSqliteBackend({ path }));
  try {
    const root = await backend.readRoot();
    const counters = walkChain(backend, root, full ? null : previous.root);
    for (const { pointer, counter } of acks) {
      if (counters.get(pointer) !== counter) {
        throw new Error(
          `acknowledged commit ${pointer} (counter ${counter}) is not on the chain from root ${root}`,
        );
      }
    }
    const counter =
      root === null ? 0 : root === previous.root && !full ? previous.counter : counters.get(root);
    if (counter === undefined) throw new Error(`no counter for root ${root}`);
    return { root, counter };
  } finally {
    await backend.close();
  }
}

/** Runs one lane: trials on one file, the next child starting while the current one runs. */
async function lane(index: number): Promise<{ trials: number; commits: number; reclaimTrials: number }> {
  const path = freshPath(dir, `lane-${index}`);
  const next = random(0x5eed + index * 977);
  const started: FixtureProcess[] = [];
  const start = () => {
    const trial = startChild(path, next);
    started.push(trial.process);
    return trial;
  };
  try {
    return await runTrials(path, next, start);
  } finally {
    // After a failure, leave no child behind (a no-op for the ones already killed).
    for (const { child } of started)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function runTrials(
  path: string,
  next: () => number,
  start: () => Trial,
): Promise<{ trials: number; commits: number; reclaimTrials: number }> {
  const allAcks: { pointer: string; counter: number }[] = [];
  let verified: { root: string | null; counter: number } = { root: null, counter: 0 };
  let reclaimTrials = 0;
  let child = start();
  for (let trial = 0; trial < TRIALS_PER_LANE; trial += 1) {
    const { process: current, reclaims } = child;
    await current.waitForLine((line) => line === 'loaded');
    if (trial + 1 < TRIALS_PER_LANE) child = start();
    const kill = () => current.child.kill('SIGKILL');
    const mode = next();
    if (reclaims && mode < 0.3) {
      // Kill as the j-th reclaim starts (it runs while other chains keep committing).
      const j = 1 + Math.floor(next() * 3);
      let reclaimsSeen = 0;
      let acksSeen = 0;
      current.onLine((line) => {
        if ((line === 'reclaim' && ++reclaimsSeen === j) || (line.startsWith('ack ') && ++acksSeen === 40))
          kill();
      });
    } else if (mode < 0.7) {
      // Kill right after the k-th acknowledgement, with other chains' commits in flight.
      const k = Math.floor(next() * 12);
      let seen = 0;
      current.onLine((line) => {
        if (line === 'ready' && k === 0) kill();
        if (line.startsWith('ack ') && ++seen === k) kill();
      });
    } else {
      // Kill at a random moment up to 30 ms after the database was opened.
      const delay = next() * 30;
      current.onLine((line) => {
        if (line === 'ready') setTimeout(kill, delay);
      });
    }
    current.child.stdin?.write('go\n');
    const { signal } = await current.exited;
    if (signal !== 'SIGKILL')
      throw new Error(`trial ${trial}: the child ended by itself:\n${current.stderr()}`);
    if (current.lines.includes('reclaim')) reclaimTrials += 1;
    const acks = acknowledgements(current.lines);
    allAcks.push(...acks);
    const now = await verify(path, verified, acks, false);
    const newest = Math.max(verified.counter, ...acks.map((ack) => ack.counter));
    if (now.counter < newest)
      throw new Error(`trial ${trial}: root counter ${now.counter} is before acknowledged ${newest}`);
    verified = now;
  }
  // Everything every trial acknowledged, on one chain from the start, atoms byte for byte.
  await verify(path, verified, allAcks, true);
  return { trials: TRIALS_PER_LANE, commits: allAcks.length, reclaimTrials };
}

describe('storage-sqlite: crash safety', () => {
  it(`keeps every acknowledged commit whole when the committing process is killed (${LANES * TRIALS_PER_LANE} trials)`, async () => {
    const results = await Promise.all(Array.from({ length: LANES }, (_, index) => lane(index)));
    const trials = results.reduce((sum, result) => sum + result.trials, 0);
    const commits = results.reduce((sum, result) => sum + result.commits, 0);
    expect(trials).toBeGreaterThanOrEqual(200);
    // The kills must land while commits are happening, not only before the database opens.
    expect(commits).toBeGreaterThan(trials);
    // ... and some while a reclaim was running.
    const reclaimTrials = results.reduce((sum, result) => sum + result.reclaimTrials, 0);
    expect(reclaimTrials).toBeGreaterThan(trials / 10);
  }, 900_000);
});
