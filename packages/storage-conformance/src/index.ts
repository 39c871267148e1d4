/**
 * `@proto/storage-conformance`: the test suite every ProtoBase storage backend runs. It checks
 * the four guarantees of the storage contract (atomicity, durability, compare-and-set,
 * integrity), the edge cases and the lifecycle, through a harness that can reopen a location.
 *
 * @example
 * // test/conformance.test.ts of a backend package, e.g. @proto/storage-memory
 * describeStorageConformance({
 *   name: 'memory',
 *   createLocation: () => createMemoryLocation(),
 *   open: (location) => openMemoryBackend({ location: location as MemoryLocation }),
 * });
 */
import { describeGroups } from './describe.js';
import { atomicity } from './groups/atomicity.js';
import { compareAndSet } from './groups/compare-and-set.js';
import { durability } from './groups/durability.js';
import { edgeCases } from './groups/edge-cases.js';
import { integrity } from './groups/integrity.js';
import { lifecycle } from './groups/lifecycle.js';
import { reclaim } from './groups/reclaim.js';
import type { ConformanceHarness } from './harness.js';
import { groups } from './scenarios.js';

export type { ConformanceHarness } from './harness.js';
export { scenarioKeys } from './scenarios.js';

/** Declares every group of the suite for `harness`. Call it at the top level of a test file. */
export function describeStorageConformance(harness: ConformanceHarness): void {
  describeGroups(harness, groups);
}

/** Guarantee 1: a commit is visible with every atom before it, or not at all (keys `atomicity.*`). */
export function describeAtomicity(harness: ConformanceHarness): void {
  describeGroups(harness, [atomicity]);
}

/** Guarantee 2 across close and reopen; needs `persistent` (keys `durability.*`). */
export function describeDurability(harness: ConformanceHarness): void {
  describeGroups(harness, [durability]);
}

/** Guarantee 3: compare-and-set, races and chains (keys `cas.*`). */
export function describeCompareAndSet(harness: ConformanceHarness): void {
  describeGroups(harness, [compareAndSet]);
}

/** Guarantee 4: exact bytes, copies, unknown pointers, synchronous reads (keys `integrity.*`). */
export function describeIntegrity(harness: ConformanceHarness): void {
  describeGroups(harness, [integrity]);
}

/** Empty and large batches and atoms, the size limit, read-your-writes (keys `edge.*`). */
export function describeEdgeCases(harness: ConformanceHarness): void {
  describeGroups(harness, [edgeCases]);
}

/** Capabilities, close, use after close, reopen, exclusive locations (keys `lifecycle.*`). */
export function describeLifecycle(harness: ConformanceHarness): void {
  describeGroups(harness, [lifecycle]);
}

/** `reclaim` keeps the live graph and frees the rest; needs `reclaim` (keys `reclaim.*`). */
export function describeReclaim(harness: ConformanceHarness): void {
  describeGroups(harness, [reclaim]);
}
