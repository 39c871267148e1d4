/**
 * Turns scenario groups into vitest suites: one `describe` per group, one `it` per scenario,
 * titled `<key>: <title>`. A scenario the backend's capabilities rule out is reported as skipped
 * with the reason; a known gap runs with `it.fails`.
 */
import { describe, it } from 'vitest';
import type { ConformanceHarness } from './harness.js';
import { runScenario, type ScenarioGroup } from './scenario.js';
import { scenarioKeys } from './scenarios.js';

/** Checks the harness when the suite is declared, so a typo fails loudly rather than never matching. */
function checkHarness(harness: ConformanceHarness): ReadonlySet<string> {
  if (typeof harness.name !== 'string' || harness.name.length === 0) {
    throw new TypeError('[proto:storage-conformance] the harness needs a non-empty name');
  }
  if (typeof harness.createLocation !== 'function' || typeof harness.open !== 'function') {
    throw new TypeError(
      `[proto:storage-conformance] harness ${harness.name} needs createLocation() and open(location)`,
    );
  }
  const gaps = new Set(harness.knownGaps ?? []);
  const known = new Set(scenarioKeys);
  const unknown = [...gaps].filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `[proto:storage-conformance] harness ${harness.name} lists unknown knownGaps ${unknown.map((key) => `'${key}'`).join(', ')}; see scenarioKeys for the valid keys`,
    );
  }
  return gaps;
}

function registerGroup(harness: ConformanceHarness, group: ScenarioGroup, gaps: ReadonlySet<string>): void {
  describe(group.title, () => {
    for (const scenario of group.scenarios) {
      const knownGap = gaps.has(scenario.key);
      const title = `${scenario.key}: ${scenario.title}${knownGap ? ' [known gap]' : ''}`;
      const test = knownGap ? it.fails : it;
      test(
        title,
        (context) => runScenario(harness, scenario, (reason) => context.skip(reason)),
        scenario.timeout,
      );
    }
  });
}

/** Declares `groups` for `harness` under one `storage-conformance: <name>` describe block. */
export function describeGroups(harness: ConformanceHarness, groups: readonly ScenarioGroup[]): void {
  const gaps = checkHarness(harness);
  describe(`storage-conformance: ${harness.name}`, () => {
    for (const group of groups) registerGroup(harness, group, gaps);
  });
}
