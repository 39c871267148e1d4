/**
 * Every scenario group, in the order `describeStorageConformance` registers them, and the
 * stable list of scenario keys.
 */
import { atomicity } from './groups/atomicity.js';
import { compareAndSet } from './groups/compare-and-set.js';
import { durability } from './groups/durability.js';
import { edgeCases } from './groups/edge-cases.js';
import { integrity } from './groups/integrity.js';
import { lifecycle } from './groups/lifecycle.js';
import { reclaim } from './groups/reclaim.js';
import type { ScenarioGroup } from './scenario.js';

export const groups: readonly ScenarioGroup[] = [
  atomicity,
  durability,
  compareAndSet,
  integrity,
  edgeCases,
  lifecycle,
  reclaim,
];

/**
 * The key of every scenario, e.g. `cas.race-exactly-one-wins`. Keys are stable across versions
 * (a renamed scenario keeps its key); use them in `ConformanceHarness.knownGaps`.
 */
export const scenarioKeys: readonly string[] = Object.freeze(
  groups.flatMap((group) => group.scenarios.map((scenario) => scenario.key)),
);
