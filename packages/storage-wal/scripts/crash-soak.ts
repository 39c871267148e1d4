/**
 * Crash soak: the SIGKILL trials of `test/crash.integration.test.ts`, as many as you like.
 *
 *   node --conditions=@proto/source --import tsx packages/storage-wal/scripts/crash-soak.ts \
 *     --trials 5000 --lanes 4 [--seed 1234]
 *
 * Each trial starts a writer process, kills it with SIGKILL at a random moment, reopens the
 * database and checks that every acknowledged commit survived with its exact bytes. On the
 * first failure it stops, prints the seed (to replay the same kill plan) and keeps the
 * database directory for inspection.
 */
import { parseArgs } from 'node:util';
import { runCrashTrials } from '../test/fixtures/crash-harness.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '2000' },
    lanes: { type: 'string', default: '2' },
    seed: { type: 'string' },
  },
});
const trials = Number(values.trials);
const lanes = Number(values.lanes);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (
  !Number.isInteger(trials) ||
  trials < 1 ||
  !Number.isInteger(lanes) ||
  lanes < 1 ||
  !Number.isFinite(seed)
) {
  throw new Error('usage: crash-soak.ts --trials <n> --lanes <n> [--seed <n>]');
}

console.log(`crash soak: ${trials} trials, ${lanes} lanes, seed ${seed}`);
const started = performance.now();
let done = 0;
try {
  const summary = await runCrashTrials({
    trials,
    lanes,
    seed,
    onTrial: () => {
      done += 1;
      if (done % 50 === 0 || done === trials) {
        const seconds = (performance.now() - started) / 1000;
        console.log(`${done}/${trials} trials, ${(done / seconds).toFixed(1)} per second`);
      }
    },
  });
  console.log(JSON.stringify(summary, null, 2));
  console.log(`all ${summary.trials} trials kept every acknowledged commit`);
} catch (error) {
  console.error(error);
  console.error(`FAILED after ${done} trials; replay with --seed ${seed} --lanes ${lanes}`);
  process.exitCode = 1;
}
