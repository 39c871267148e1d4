/**
 * The known-gaps mechanism: listed scenarios run as expected failures. The harness below
 * ignores `expected` in compare-and-set, so every listed scenario fails; with `it.fails` the
 * run stays green, and the unlisted scenarios still run as normal tests and pass. (Listing one
 * of those too turns the run red: `it.fails` notices a gap that is fixed.)
 */
import { describe, expect, it } from 'vitest';
import { describeCompareAndSet, scenarioKeys } from '../src/index.js';
import { mutantHarness } from './mutants.js';

const ignoresExpected = mutantHarness(
  'ignores-expected',
  (inner) => ({
    compareAndSetRoot: async (_expected, next) => inner.compareAndSetRoot(await inner.readRoot(), next),
  }),
  [
    'cas.first-commit-expects-null',
    'cas.wrong-expected-returns-false',
    'cas.race-exactly-one-wins',
    'cas.chain',
    'cas.concurrent-writers-lose-no-commit',
  ],
);

describeCompareAndSet(ignoresExpected);

describe('storage-conformance: known gaps', () => {
  it('rejects a knownGaps entry that is not a scenario key when the suite is declared', () => {
    const typo = mutantHarness('typo', () => ({}), ['cas.race-exactly-one-win']);
    expect(() => describeCompareAndSet(typo)).toThrow(
      /unknown knownGaps 'cas.race-exactly-one-win'.*scenarioKeys/,
    );
  });

  it('accepts every scenario key as a known gap', () => {
    expect(scenarioKeys.length).toBeGreaterThan(30);
    expect(() => mutantHarness('all', () => ({}), scenarioKeys)).not.toThrow();
  });
});
