/**
 * The kernel's hook for fine-grained concurrency: how values record what a transaction read
 * and how their changes can be replayed onto a newer version.
 *
 * A transaction that commits after another commit changed the same root is not rejected
 * outright. The kernel re-checks every read the transaction recorded against the newer
 * version and, if all still hold, replays the transaction's changes on that newer version
 * (rebase). Plain values record "I read the whole root"; collections record reads per key or
 * range and describe their changes as replayable operations, so two transactions that touch
 * different keys of one collection both commit. Nothing is ever merged by heuristics.
 *
 * The protocol for a value type (collections implement it):
 * - `[bindScope](scope)` returns a view of the value whose reads call `scope.recordRead(holds)`,
 *   where `holds(newer)` receives the newer version of that same value (the root, or the value
 *   at the same path inside it; `undefined` if it no longer exists) and says whether what was
 *   read is still true of it. Values derived from a bound view carry the same scope.
 * - `[derivation]` on a value derived from a bound view (by updates) describes how to get from
 *   the view's base to this value: `replay(newer)` applies the same changes to a newer version.
 *
 * A value type with many kinds of reads and updates keeps them in the typed logs of
 * `extension/logs.ts` (`ReadLog`, `OpNode`, `OpReplay`): its `holds` checks the read log and its
 * `replay` replays the op log, as every collection of `@proto/collections` does.
 */

/** Records the facts a transaction relied on. */
export interface ReadScope {
  /**
   * Records a read. If another commit changed the root before this transaction commits,
   * `holds` is called with the newer version of the value this scope is bound to; returning
   * false makes the commit fail with a conflict. Must be pure and synchronous.
   */
  recordRead(holds: (newer: unknown) => boolean): void;
}

/** How a value was produced from the value a scope was bound to. */
export interface Derivation {
  /** The bound view (or the value it wraps) that the changes start from. */
  readonly base: unknown;
  /** Applies the same changes to `newer`, a newer version of `base`, and returns the result. */
  replay(newer: unknown): unknown;
}

/** Method key: `value[bindScope](scope)` returns a view that records its reads in `scope`. */
export const bindScope: unique symbol = Symbol.for('@proto/bind-scope') as never;
/** Property key: `value[derivation]` describes how `value` was derived from a bound view. */
export const derivation: unique symbol = Symbol.for('@proto/derivation') as never;

/** A value type that takes part in fine-grained concurrency. */
export interface Trackable {
  [bindScope](scope: ReadScope): this;
  readonly [derivation]?: Derivation | undefined;
}

/** True when `value` implements the tracking protocol. */
export function isTrackable(value: unknown): value is Trackable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Record<typeof bindScope, unknown>>)[bindScope] === 'function'
  );
}

/** The derivation a value carries, if any. */
export function derivationOf(value: unknown): Derivation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Partial<Record<typeof derivation, Derivation | undefined>>)[derivation];
}
