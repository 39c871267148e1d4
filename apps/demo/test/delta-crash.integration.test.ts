/**
 * Delta commits and checkpoints under SIGKILL, on the WAL backend. Each trial starts
 * `fixtures/delta-crash-child.ts` on the same directory (so every open recovers what earlier
 * kills and recoveries left), with 1 or 8 concurrent writers and a checkpoint every 1, 3 or
 * 50 commits, and kills it at a random moment 50 to 400 ms after it opened. The recovered
 * `counters` dictionary, read by the next child when it opens and now and then by this process,
 * must hold for each writer a count between its last acknowledged and its last attempted
 * commit as the child's journal file records them (exactly the verified count for writers
 * that did not run), with the other keys of every one of those commits and nothing else
 * (`fixtures/delta-crash-model.ts`), in key order, and with a size that matches its entries.
 * At the end the space opens, closes (writing a checkpoint) and opens again with the same
 * contents.
 *
 * PROTO_DELTA_CRASH_TRIALS (default 18) and PROTO_DELTA_CRASH_SEED (default: drawn, printed
 * on failure) choose how many trials run and their plans; the kills' timing still varies.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { compareKeys } from '@proto/collections';
import { openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import {
  type Counters,
  type CountersDump,
  dump,
  MAX_WRITERS,
  writerEntries,
  writerKey,
} from './fixtures/delta-crash-model.js';
import { FIXTURES, spawnTs, watchLines } from './fixtures/spawn.js';

const TRIALS = Number(process.env.PROTO_DELTA_CRASH_TRIALS ?? 18);
const SEED = Number(process.env.PROTO_DELTA_CRASH_SEED ?? Date.now() % 1_000_000);
const CHILD = join(FIXTURES, 'delta-crash-child.ts');
/** Writer counts and checkpoint intervals; each block of six trials runs every pair once. */
const SHAPES: readonly { readonly writers: number; readonly checkpointCommits: number }[] = [1, 8].flatMap(
  (writers) => [1, 3, 50].map((checkpointCommits) => ({ writers, checkpointCommits })),
);
const KILL_AFTER_MS = { min: 50, max: 400 };
/** The share of trials after which this process opens the space itself (and closes it, checkpointing). */
const PARENT_CHECK_SHARE = 0.3;

/** mulberry32: a small seeded generator, so a failing run can be repeated with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The counts writer `w` may have been recovered with: `low..high`. */
interface Range {
  readonly low: number;
  readonly high: number;
}

const exactly = (counts: readonly number[]): Range[] => counts.map((n) => ({ low: n, high: n }));

/** A value for an error message: its type, and its start for a string or an object. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value !== 'object' || value === null) return `${typeof value} ${String(value)}`;
  return `an object ${value.constructor?.name ?? ''} ${JSON.stringify(value)?.slice(0, 200)}`;
}

/**
 * Checks a recovered dictionary against the ranges of the writers' counts and returns the
 * counts it holds. Throws, saying `where` and what is wrong, when it is not consistent.
 */
function verify(where: string, recovered: CountersDump, ranges: readonly Range[]): number[] {
  try {
    return verifyCounters(recovered, ranges);
  } catch (error) {
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function verifyCounters(recovered: CountersDump, ranges: readonly Range[]): number[] {
  if (recovered.size !== recovered.entries.length)
    throw new Error(`size ${recovered.size} but ${recovered.entries.length} entries iterated`);
  for (let i = 1; i < recovered.entries.length; i++) {
    const [before] = recovered.entries[i - 1] as readonly [string, unknown];
    const [after] = recovered.entries[i] as readonly [string, unknown];
    if (compareKeys(before, after) >= 0) throw new Error(`entries out of order: ${before} before ${after}`);
  }
  const stored = new Map(recovered.entries);
  const counts = ranges.map((range, w) => {
    const value = stored.get(writerKey(w)) ?? 0;
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new Error(`${writerKey(w)} holds ${JSON.stringify(value)}, not an integer`);
    if (value < range.low || value > range.high) {
      throw new Error(
        `${writerKey(w)} is ${value}, outside ${range.low}..${range.high} (last acknowledged..last attempted)`,
      );
    }
    return value;
  });
  const expected = new Map<string, number | string>();
  for (const [w, count] of counts.entries())
    for (const [key, value] of writerEntries(w, count)) expected.set(key, value);
  for (const [key, value] of stored) {
    if (!expected.has(key)) throw new Error(`unexpected key ${key} (counts ${counts.join(',')})`);
    if (typeof value === 'number' && !Number.isInteger(value)) throw new Error(`${key} holds ${value}`);
    if (expected.get(key) !== value)
      throw new Error(`${key} holds ${describeValue(value)}, not what commits ${counts.join(',')} wrote`);
  }
  for (const key of expected.keys())
    if (!stored.has(key)) throw new Error(`key ${key} is missing (counts ${counts.join(',')})`);
  return counts;
}

/** Opens the space in this process and reads `counters` with the public API. */
async function readSpace(dir: string): Promise<{ space: ObjectSpace; recovered: CountersDump }> {
  const space = await ObjectSpace.open(await openWalBackend({ path: dir }));
  const reader = space.database('app').begin({ readOnly: true });
  const recovered = dump(reader.get<Counters>('counters'));
  reader.abort();
  return { space, recovered };
}

interface Plan {
  readonly writers: number;
  readonly checkpointCommits: number;
  readonly killAfterMs: number;
  readonly parentCheck: boolean;
}

interface TrialOutcome {
  /** Writer w's last acknowledged and last attempted counts. */
  readonly ranges: Range[];
  readonly acknowledged: number;
  /** The highest `stats().checkpoints` the child reported. */
  readonly checkpoints: number;
  readonly explicitCheckpoints: number;
}

/**
 * What a killed child's journal says: from the counts it started with, each writer's last
 * acknowledged and last attempted count. A last line without its newline was cut by the kill
 * before its `write` returned, so the step after it never started: it is left out.
 */
function readJournal(path: string, start: readonly number[]): TrialOutcome {
  const ranges = exactly(start);
  const outcome = { ranges, acknowledged: 0, checkpoints: 0, explicitCheckpoints: 0 };
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  for (const line of lines) {
    const [word, key, count, checkpoints] = line.split(' ');
    if (word === 'checkpoint') {
      outcome.explicitCheckpoints += 1;
      continue;
    }
    const w = Number(key?.slice(1));
    const range = ranges[w];
    if (range === undefined) throw new Error(`journal line for an unknown writer: ${line}`);
    if (word === 'try') ranges[w] = { low: range.low, high: Number(count) };
    else if (word === 'ack') {
      ranges[w] = { low: Number(count), high: range.high };
      outcome.acknowledged += 1;
      outcome.checkpoints = Math.max(outcome.checkpoints, Number(checkpoints));
    } else throw new Error(`unexpected journal line: ${line}`);
  }
  return outcome;
}

/**
 * Runs the child once: checks what it recovered against `ranges` when it prints `ready`, kills
 * it `plan.killAfterMs` later, and returns what its journal says it acknowledged and attempted.
 */
async function runTrial(
  dir: string,
  journal: string,
  plan: Plan,
  ranges: readonly Range[],
): Promise<TrialOutcome> {
  const child = spawnTs(CHILD, [dir, journal, String(plan.writers), String(plan.checkpointCommits)]);
  let failure: unknown;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    child.kill('SIGKILL');
  };
  let start: number[] | undefined;
  const exit = watchLines(child, (line) => {
    if (failure !== undefined) return;
    try {
      if (!line.startsWith('ready ')) throw new Error(`unexpected line: ${line.slice(0, 200)}`);
      start = verify(
        'the state the child recovered',
        JSON.parse(line.slice('ready '.length)) as CountersDump,
        ranges,
      );
      setTimeout(kill, plan.killAfterMs);
    } catch (error) {
      failure = error;
      kill();
    }
  });
  const ended = await exit;
  if (failure !== undefined) throw failure;
  if (!killed || ended.signal !== 'SIGKILL' || start === undefined)
    throw new Error(`child ended by itself (code ${ended.code}): ${ended.stderr}`);
  return readJournal(journal, start);
}

describe('demo: delta commits under SIGKILL (WAL backend)', () => {
  it(`recovers every acknowledged commit whole when the writer is killed during delta commits and checkpoints (${TRIALS} trials)`, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proto-delta-crash-'));
    const dir = join(scratch, 'space');
    // What the last kill left, kept for a failing open in this process (opening completes the recovery).
    const keepBeforeOpen = () => {
      const before = join(scratch, 'space-before-open');
      rmSync(before, { recursive: true, force: true });
      cpSync(dir, before, { recursive: true });
    };
    const draw = random(SEED);
    let order: { writers: number; checkpointCommits: number }[] = [];
    let ranges = exactly(new Array<number>(MAX_WRITERS).fill(0));
    const totals = { acknowledged: 0, checkpoints: 0, explicitCheckpoints: 0, parentChecks: 0, highest: 0 };
    let trial = 0;
    const context = () =>
      `seed ${SEED} (PROTO_DELTA_CRASH_SEED=${SEED} PROTO_DELTA_CRASH_TRIALS=${TRIALS}), ${trial < TRIALS ? `trial ${trial}` : 'the final open'}, directory and journals kept at ${scratch}`;
    try {
      for (; trial < TRIALS; trial++) {
        if (order.length === 0) {
          order = [...SHAPES];
          for (let i = order.length - 1; i > 0; i--) {
            const j = Math.floor(draw() * (i + 1));
            [order[i], order[j]] = [order[j] as (typeof order)[number], order[i] as (typeof order)[number]];
          }
        }
        const shape = order.pop() as (typeof order)[number];
        const plan: Plan = {
          ...shape,
          killAfterMs: KILL_AFTER_MS.min + draw() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min),
          parentCheck: draw() < PARENT_CHECK_SHARE,
        };
        const outcome = await runTrial(dir, join(scratch, `journal-${trial}.txt`), plan, ranges);
        ranges = outcome.ranges;
        totals.acknowledged += outcome.acknowledged;
        totals.checkpoints += outcome.checkpoints;
        totals.explicitCheckpoints += outcome.explicitCheckpoints;
        if (plan.parentCheck) {
          keepBeforeOpen();
          const { space, recovered } = await readSpace(dir);
          ranges = exactly(verify('the state this process recovered', recovered, ranges));
          await space.close();
          totals.parentChecks += 1;
        }
      }
      // The last kill is recovered here; closing writes a checkpoint, which must read the same.
      keepBeforeOpen();
      const first = await readSpace(dir);
      const counts = verify('the state the final open recovered', first.recovered, ranges);
      totals.highest = Math.max(...counts);
      await first.space.close();
      const second = await readSpace(dir);
      await second.space.close();
      expect(second.recovered, context()).toEqual(first.recovered);
    } catch (error) {
      throw new Error(`delta crash trial failed: ${context()}`, { cause: error });
    }
    const summary = `seed ${SEED}: ${JSON.stringify({ trials: TRIALS, ...totals })}`;
    console.info(`delta crash: ${summary}`);
    // The trials did what they are about: commits acknowledged, automatic and explicit
    // checkpoints written while the writers ran.
    expect(totals.acknowledged, summary).toBeGreaterThanOrEqual(TRIALS);
    expect(totals.checkpoints, summary).toBeGreaterThan(TRIALS);
    expect(totals.explicitCheckpoints, summary).toBeGreaterThan(0);
    rmSync(scratch, { recursive: true, force: true });
  }, 300_000);
});
