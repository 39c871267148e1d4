/**
 * Setup file of every vitest project: `PROTO_SEED=<n>` fixes the seed of every fast-check
 * property, so a property can be run with many seeds (`for s in $(seq 1 20); do PROTO_SEED=$s
 * pnpm vitest run; done`) and a failure from CI repeated. Without it fast-check draws a seed per
 * run and prints it with any counterexample.
 */
import fc from 'fast-check';

const seed = process.env.PROTO_SEED;
if (seed !== undefined && seed !== '') {
  const value = Number(seed);
  if (!Number.isSafeInteger(value))
    throw new Error(`PROTO_SEED must be an integer, got ${JSON.stringify(seed)}`);
  fc.configureGlobal({ seed: value });
}
