/**
 * Scenarios: the suite's tests as data. Each has a stable key, a title, the capabilities it
 * needs and a body that receives a fresh location with a guarded backend open on it. The
 * `describe*` functions turn scenarios into vitest tests; `runScenario` runs one directly.
 */
import type { StorageBackend, StorageCapabilities } from '@proto/atom/storage';
import { guardBackend } from '@proto/atom/storage';
import type { ConformanceHarness } from './harness.js';

/** The boolean capabilities a scenario can require, each to be true or to be false. */
export type BooleanCapability = 'durable' | 'persistent' | 'syncReads' | 'multiProcess' | 'reclaim';

/** What a backend must declare for a scenario to run; otherwise the scenario is skipped. */
export interface CapabilityRequirement extends Partial<Record<BooleanCapability, boolean>> {
  /** Skip when `maxAtomBytes` is larger (the scenario allocates that many bytes). */
  readonly maxAtomBytesAtMost?: number;
  /** True: skip unless the backend offers `readAtomsBlocking` (it has no `syncReads`). */
  readonly readAtomsBlocking?: true;
}

/** What a scenario body works with. Everything it opens or creates is cleaned up after it. */
export interface ScenarioContext {
  readonly harness: ConformanceHarness;
  /** A fresh location, created for this scenario. */
  readonly location: unknown;
  /** A guarded backend, open on `location`. */
  readonly backend: StorageBackend;
  readonly capabilities: StorageCapabilities;
  /** Opens another guarded backend on `location` (or the given one). */
  open(location?: unknown): Promise<StorageBackend>;
  /** Closes `previous` and opens `location` again. */
  reopen(previous: StorageBackend): Promise<StorageBackend>;
  /** Another fresh location. */
  createLocation(): Promise<unknown>;
}

/** One conformance check. */
export interface Scenario {
  /** Stable identifier, `<group>.<kebab-case>`: test title prefix and `knownGaps` entry. */
  readonly key: string;
  /** What the backend does, as a sentence. */
  readonly title: string;
  readonly requires?: CapabilityRequirement;
  /** A per-test timeout for scenarios that move many bytes. */
  readonly timeout?: number;
  run(context: ScenarioContext): Promise<void>;
}

/** A named list of scenarios, registered together by one `describe*` function. */
export interface ScenarioGroup {
  /** The key prefix, e.g. `cas`. */
  readonly name: string;
  /** The describe title, e.g. `compare-and-set`. */
  readonly title: string;
  readonly scenarios: readonly Scenario[];
}

/** Why `capabilities` do not meet `requirement`, or undefined when they do. */
export function unmetRequirement(
  requirement: CapabilityRequirement | undefined,
  capabilities: StorageCapabilities,
  backend?: StorageBackend,
): string | undefined {
  if (requirement === undefined) return undefined;
  const unmet: string[] = [];
  for (const [name, wanted] of Object.entries(requirement)) {
    if (name === 'maxAtomBytesAtMost' || name === 'readAtomsBlocking') continue;
    const declared = capabilities[name as BooleanCapability];
    if (declared !== wanted)
      unmet.push(`capabilities.${name} = ${String(wanted)} (declared ${String(declared)})`);
  }
  if (requirement.readAtomsBlocking === true && typeof backend?.readAtomsBlocking !== 'function')
    unmet.push('readAtomsBlocking (a backend without syncReads that can block for a read)');
  const limit = requirement.maxAtomBytesAtMost;
  if (limit !== undefined && capabilities.maxAtomBytes > limit) {
    unmet.push(`capabilities.maxAtomBytes <= ${limit} (declared ${capabilities.maxAtomBytes})`);
  }
  return unmet.length === 0 ? undefined : `needs ${unmet.join(' and ')}`;
}

/**
 * Runs one scenario against a harness: creates a location, opens a guarded backend, calls
 * `skip` with a reason if the declared capabilities do not meet the scenario's requirement,
 * runs the body, then closes every backend it opened and destroys every location it created.
 * A cleanup failure fails the scenario unless the body already failed.
 */
export async function runScenario(
  harness: ConformanceHarness,
  scenario: Scenario,
  skip: (reason: string) => void,
): Promise<void> {
  const locations: unknown[] = [];
  const backends: StorageBackend[] = [];
  const createLocation = async () => {
    const location = await harness.createLocation();
    locations.push(location);
    return location;
  };
  let primary: { error: unknown } | undefined;
  try {
    const location = await createLocation();
    const open = async (at: unknown = location) => {
      const backend = guardBackend(await harness.open(at));
      backends.push(backend);
      return backend;
    };
    const backend = await open();
    const reason = unmetRequirement(scenario.requires, backend.capabilities, backend);
    if (reason !== undefined) skip(reason);
    else
      await scenario.run({
        harness,
        location,
        backend,
        capabilities: backend.capabilities,
        open,
        reopen: async (previous) => {
          await previous.close();
          return open();
        },
        createLocation,
      });
  } catch (error) {
    primary = { error };
  }
  const cleanupErrors: unknown[] = [];
  for (const backend of backends.reverse()) {
    await backend.close().catch((error: unknown) => cleanupErrors.push(error));
  }
  if (harness.destroyLocation !== undefined) {
    for (const location of locations) {
      try {
        await harness.destroyLocation(location);
      } catch (error) {
        cleanupErrors.push(error);
      }
    }
  }
  if (primary !== undefined) throw primary.error;
  if (cleanupErrors.length > 0) throw cleanupErrors[0];
}
