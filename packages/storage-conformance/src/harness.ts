/**
 * The harness: how the conformance suite reaches a backend. It creates locations, opens
 * backends on them (again and again, to test reopen), and cleans up.
 */
import type { StorageBackend } from '@proto/atom/storage';

/**
 * Connects the suite to one backend implementation.
 *
 * @example
 * const harness: ConformanceHarness = {
 *   name: 'memory',
 *   createLocation: () => createMemoryLocation(),
 *   open: (location) => openMemoryBackend({ location: location as MemoryLocation }),
 * };
 */
export interface ConformanceHarness {
  /** Display name used in describe titles. */
  readonly name: string;
  /** A fresh, empty location (a directory, a file path, a MemoryLocation ...), opaque to the suite. */
  createLocation(): unknown | Promise<unknown>;
  /**
   * Opens a backend on a location; called again on the same location to test reopen (after the
   * previous backend was closed, except in scenarios about opening twice). Return the raw
   * backend; the suite wraps it with `guardBackend`.
   */
  open(location: unknown): Promise<StorageBackend>;
  /** Removes a location after its test, once every backend opened on it is closed. Optional. */
  destroyLocation?(location: unknown): void | Promise<void>;
  /**
   * Scenario keys (see `scenarioKeys`) known to fail on this backend: they run with `it.fails`,
   * so the run stays green while they fail and turns red once they pass (remove the key then).
   * An unknown key throws when the suite is declared.
   */
  readonly knownGaps?: readonly string[];
}
