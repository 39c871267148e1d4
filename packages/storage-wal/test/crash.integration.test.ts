import { describe, expect, it } from 'vitest';
import { runCrashTrials } from './fixtures/crash-harness.js';

const TRIALS = Number(process.env.PROTO_WAL_CRASH_TRIALS ?? 200);
const SEED = Number(process.env.PROTO_WAL_CRASH_SEED ?? Date.now() % 1_000_000);
const LANES = Number(process.env.PROTO_WAL_CRASH_LANES ?? 3);

describe('storage-wal: crash (SIGKILL)', () => {
  it(`keeps every acknowledged commit when the writer is SIGKILLed at random moments (${TRIALS} trials)`, async () => {
    const summary = await runCrashTrials({ trials: TRIALS, lanes: LANES, seed: SEED });
    expect(summary.trials).toBe(TRIALS);
    // The trials did exercise what they are about: many acknowledged commits, lock takeovers,
    // and every kill timing.
    expect(summary.acknowledged).toBeGreaterThan(TRIALS * 10);
    expect(summary.lockTakeovers).toBeGreaterThan(TRIALS / 2);
    for (const count of Object.values(summary.byMode)) expect(count).toBeGreaterThan(0);
  }, 600_000);
});
