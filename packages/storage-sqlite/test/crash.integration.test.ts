/**
 * Guarantees 1 and 2 under SIGKILL: a child process commits from several concurrent chains (and
 * in half the trials runs reclaim between commits) and is killed at random moments; after each
 * kill the file must open, and every commit the child acknowledged (in this trial or an earlier
 * one) must be in the chain from the root, with every atom it reaches holding exactly its bytes.
 * About a fifth of the trials start a new file and kill the child within milliseconds of its
 * first open, most of them while it creates the file: whatever that leaves must open too.
 *
 * PROTO_SQLITE_CRASH_TRIALS (default 160) and PROTO_SQLITE_CRASH_SEED (default: drawn, printed
 * on failure) choose how many trials run and the kill plan; the kills' timing still varies.
 */
import { existsSync } from 'node:fs';
import { guardBackend } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import { random, walkChain } from '../../../tooling/test-support/chain.js';
import { openSqliteBackend } from '../src/index.js';
import { acknowledgements, type FixtureProcess, runFixture } from './child.js';
import { freshPath, scratchDir } from './helpers.js';

const LANES = 2;
const TRIALS = Number(process.env.PROTO_SQLITE_CRASH_TRIALS ?? 160);
const SEED = Number(process.env.PROTO_SQLITE_CRASH_SEED ?? Date.now() % 1_000_000);
const TRIALS_PER_LANE = Math.ceil(TRIALS / LANES);
/** The share of trials that start a new file and kill the child during its first open. */
const CREATION_SHARE = 0.2;
/** Creation kills land this many milliseconds after "go", at most (the open takes a few). */
const CREATION_KILL_WINDOW_MS = 8;

const dir = scratchDir('crash');

interface Trial {
  readonly process: FixtureProcess;
  readonly path: string;
  /** A new file, the child killed within milliseconds of starting to open it. */
  readonly creates: boolean;
  /** The child also runs reclaim() between commits. */
  readonly reclaims: boolean;
}

interface LaneResult {
  readonly trials: number;
  readonly commits: number;
  readonly reclaimTrials: number;
  /** Creation trials whose child was killed before its open finished but after the file existed. */
  readonly creationKills: number;
  /** ... of which left a rollback journal beside the file. */
  readonly creationJournals: number;
}

/** The seed of lane `index`, mixed so that neighbouring seeds give unrelated plans. */
function laneSeed(index: number): number {
  return Math.imul(SEED ^ 0x5eed, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b);
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
    const counters = await walkChain(backend, root, full ? null : previous.root);
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

/** Runs one lane: trials on one file at a time, the next child starting while the current one runs. */
async function lane(index: number): Promise<LaneResult> {
  const next = random(laneSeed(index));
  const started: FixtureProcess[] = [];
  let path = freshPath(dir, `lane-${index}`);
  const start = (): Trial => {
    const creates = next() < CREATION_SHARE;
    if (creates) path = freshPath(dir, `lane-${index}`);
    const chains = String(1 + Math.floor(next() * 4));
    const reclaims = next() < 0.5;
    const args = [path, 'crash', chains, '0', '--wait', ...(reclaims ? ['--reclaim'] : [])];
    const process = runFixture('commit-loop.ts', args);
    started.push(process);
    return { process, path, creates, reclaims };
  };
  let at = 'before the first trial';
  try {
    return await runTrials(next, start, (where) => {
      at = where;
    });
  } catch (error) {
    throw new Error(
      `crash trial failed in lane ${index} ${at} (seed ${SEED}: replay the plan with PROTO_SQLITE_CRASH_SEED=${SEED})`,
      { cause: error },
    );
  } finally {
    // After a failure, leave no child behind (a no-op for the ones already killed).
    for (const { child } of started)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Everything verified on one file so far. */
interface FileState {
  readonly path: string;
  readonly acks: { pointer: string; counter: number }[];
  verified: { root: string | null; counter: number };
}

/** Arms the kill of a commit-loop child that has been sent "go" (or is about to be). */
function armKill(trial: Trial, next: () => number): void {
  const { process: current, reclaims } = trial;
  const kill = () => current.child.kill('SIGKILL');
  if (trial.creates) {
    // Kill while the child creates the file, or just before or after that.
    setTimeout(kill, next() * CREATION_KILL_WINDOW_MS);
    return;
  }
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
}

async function runTrials(
  next: () => number,
  start: () => Trial,
  report: (where: string) => void,
): Promise<LaneResult> {
  let file: FileState | undefined;
  let commits = 0;
  let reclaimTrials = 0;
  let creationKills = 0;
  let creationJournals = 0;
  let child = start();
  for (let trial = 0; trial < TRIALS_PER_LANE; trial += 1) {
    const current = child;
    report(`at trial ${trial} on ${current.path}`);
    await current.process.waitForLine((line) => line === 'loaded');
    if (trial + 1 < TRIALS_PER_LANE) child = start();
    if (file?.path !== current.path) {
      // The trial starts a new file: check everything the old one acknowledged, from the start.
      if (file !== undefined) await verify(file.path, file.verified, file.acks, true);
      file = { path: current.path, acks: [], verified: { root: null, counter: 0 } };
    }
    armKill(current, next);
    current.process.child.stdin?.write('go\n');
    const { signal } = await current.process.exited;
    const { lines } = current.process;
    if (signal !== 'SIGKILL') throw new Error(`the child ended by itself:\n${current.process.stderr()}`);
    if (current.creates && !lines.includes('ready') && existsSync(current.path)) {
      creationKills += 1;
      if (existsSync(`${current.path}-journal`)) creationJournals += 1;
    }
    if (lines.includes('reclaim')) reclaimTrials += 1;
    const acks = acknowledgements(lines);
    file.acks.push(...acks);
    commits += acks.length;
    const now = await verify(file.path, file.verified, acks, false);
    const newest = Math.max(file.verified.counter, ...acks.map((ack) => ack.counter));
    if (now.counter < newest) throw new Error(`root counter ${now.counter} is before acknowledged ${newest}`);
    file.verified = now;
  }
  // Everything every trial on the last file acknowledged, on one chain from the start, atoms
  // byte for byte.
  if (file !== undefined) await verify(file.path, file.verified, file.acks, true);
  return { trials: TRIALS_PER_LANE, commits, reclaimTrials, creationKills, creationJournals };
}

describe('storage-sqlite: crash safety', () => {
  it(`keeps every acknowledged commit whole when the committing process is killed (${LANES * TRIALS_PER_LANE} trials)`, async () => {
    const results = await Promise.all(Array.from({ length: LANES }, (_, index) => lane(index)));
    const sum = (field: keyof LaneResult) => results.reduce((total, result) => total + result[field], 0);
    const trials = sum('trials');
    const commits = sum('commits');
    const summary = `seed ${SEED}, ${trials} trials: ${commits} commits, ${sum('reclaimTrials')} with reclaim, ${sum('creationKills')} kills during creation (${sum('creationJournals')} left a rollback journal)`;
    console.info(`storage-sqlite crash: ${summary}`);
    expect(trials, summary).toBe(LANES * TRIALS_PER_LANE);
    // The kills must land while commits are happening, not only before the database opens ...
    expect(commits, summary).toBeGreaterThan(trials);
    // ... some while a reclaim was running ...
    expect(sum('reclaimTrials'), summary).toBeGreaterThan(trials / 20);
    // ... and some while a new file was being created (issue 9, finding 4): a fifth of the
    // trials aim there, and most of those kills land after the file exists.
    expect(sum('creationKills'), summary).toBeGreaterThanOrEqual(Math.ceil(trials / 40));
  }, 900_000);
});
