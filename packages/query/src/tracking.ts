/**
 * Transaction tracking of an `IndexedCollection` (the kernel's protocol, see `@proto/atom`'s
 * track.ts): a bound view records reads as checks against the newer version, and updates as
 * high-level operations (set / delete a record, create / drop an index) that are replayed on a
 * newer version, where every index entry is recomputed from that version's records. Both go
 * to the shared logs of `@proto/atom/extension` (`OpNode` / `OpReplay`, `ReadLog`), as in
 * `@proto/collections`: one `holds` per bound view is registered with the scope.
 */
import { type ReadScope, sameAtom } from '@proto/atom';
import { type OpNode, OpReplay, ReadLog } from '@proto/atom/extension';
import { Dictionary, type Key } from '@proto/collections';
import type { CollectionState } from './collection-state.js';
import { invalidArgument, isUniqueViolation, QueryError } from './errors.js';
import type { IndexDeclaration } from './kind-index.js';

/** @internal A recorded update of an `IndexedCollection`, one member per kind. */
export type CollectionOp =
  | { readonly kind: 'set'; readonly key: Key; readonly record: unknown }
  | { readonly kind: 'delete'; readonly key: Key }
  | { readonly kind: 'create-index'; readonly declaration: IndexDeclaration }
  | { readonly kind: 'drop-index'; readonly name: string }
  | { readonly kind: 'trim'; readonly max: number; readonly by: string };

/** @internal The op log of a tracked collection: its last operation, or none. */
export type CollectionOps = OpNode<CollectionOp> | undefined;

/**
 * @internal The reads a tracked collection records: each is a check of the state that
 * corresponds to the reading view, closed over what was seen.
 */
export interface CollectionReads {
  check: readonly [holds: (state: CollectionState) => boolean, unused: undefined];
}

/** What tracking needs from a collection value. */
export interface TrackedHost {
  _state(): CollectionState;
}

export function applyOp(state: CollectionState, op: CollectionOp): CollectionState {
  switch (op.kind) {
    case 'set':
      return state.set(op.key, op.record);
    case 'delete':
      return state.delete(op.key);
    case 'create-index':
      return state.createIndex(op.declaration);
    case 'drop-index':
      return state.dropIndex(op.name);
    case 'trim':
      return state.trim(op.max, op.by);
    default: {
      const unknown: never = op;
      return unknownOp(unknown);
    }
  }
}

/** A replayed operation of a kind `applyOp` does not know: a bug of this package, never skipped. */
function unknownOp(op: { readonly kind: string }): never {
  return invalidArgument(
    `unknown indexed collection operation '${op.kind}' in a replay; this is a bug of @proto/query, please report it`,
  );
}

/** @internal Tracking of one bound view and the values derived from it. */
export class Track {
  /** The bound view (the base of derivations). */
  view: unknown;
  /** Reads of the views of this track: a check and the op log of the view that read. */
  readonly #log = new ReadLog<CollectionReads, CollectionOps>();
  #registered = false;
  readonly #replay = new OpReplay<CollectionOp, CollectionState>(applyOp);

  constructor(
    readonly scope: ReadScope,
    /** The committed collection the view was bound from. */
    readonly origin: TrackedHost,
    /** The newer version as a collection, or undefined when it is not one. */
    private readonly accept: (newer: unknown) => TrackedHost | undefined,
    /** A new (unbound) collection value holding a state. */
    private readonly wrap: (state: CollectionState) => unknown,
  ) {}

  /**
   * Records that `check(state)` must still hold of the newer version (after the same ops).
   * The first read registers this track's `holds` with the scope, once for all of its reads.
   */
  record(ops: CollectionOps, check: (state: CollectionState) => boolean): void {
    if (ops !== undefined) ops.marked = true;
    this.#log.record('check', check, undefined, ops);
    if (!this.#registered) {
      this.#registered = true;
      this.scope.recordRead((newer) => this.holds(newer));
    }
  }

  /** Whether every recorded read still holds of `newer` (a newer version of the origin). */
  holds(value: unknown): boolean {
    const newer = this.accept(value);
    if (newer === undefined) return false;
    const origin = this.origin;
    if (newer === origin || sameAtom(newer as never, origin as never)) return true;
    const target = newer._state();
    if (target.sameAs(origin._state())) return true;
    return this.#log.every((_kind, check, _unused, ops) => check(this.#replay.resolve(ops, target)));
  }

  /** The state after `ops`, replayed on `newer`; memoized per newer version. */
  resolve(ops: CollectionOps, newer: CollectionState): CollectionState {
    return this.#replay.resolve(ops, newer);
  }

  replay(ops: CollectionOps, value: unknown): unknown {
    const newer = this.accept(value);
    const base = newer !== undefined ? newer._state() : this.origin._state().emptied(Dictionary.empty());
    try {
      return this.wrap(this.resolve(ops, base));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new QueryError({
          layer: 'query',
          reason: 'conflict',
          message: `a concurrent commit took a unique key this transaction also wrote (${error.message}); run the transaction again`,
          cause: error,
        });
      }
      throw error;
    }
  }
}
