/**
 * Transaction tracking of an `IndexedCollection` (the kernel's protocol, see `@proto/atom`'s
 * track.ts): a bound view records reads as checks against the newer version, and updates as
 * high-level operations (set / delete a record, create / drop an index) that are replayed on a
 * newer version, where every index entry is recomputed from that version's records.
 */
import { type ReadScope, sameAtom } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import type { CollectionState } from './collection-state.js';
import { isUniqueViolation, QueryError } from './errors.js';
import type { IndexDeclaration } from './kind-index.js';

export const OP_SET = 0;
export const OP_DELETE = 1;
export const OP_CREATE_INDEX = 2;
export const OP_DROP_INDEX = 3;

/** @internal A recorded update; `prev` links to the one before. */
export interface Op {
  readonly prev: Op | undefined;
  readonly kind: number;
  readonly a: unknown;
  readonly b: unknown;
}

/** What tracking needs from a collection value. */
export interface TrackedHost {
  _state(): CollectionState;
}

export function applyOp(state: CollectionState, op: Op): CollectionState {
  switch (op.kind) {
    case OP_SET:
      return state.set(op.a as Key, op.b);
    case OP_DELETE:
      return state.delete(op.a as Key);
    case OP_CREATE_INDEX:
      return state.createIndex(op.a as IndexDeclaration);
    default:
      return state.dropIndex(op.a as string);
  }
}

/** @internal Tracking of one bound view and the values derived from it. */
export class Track {
  /** The bound view (the base of derivations). */
  view: unknown;
  #memoNewer: CollectionState | undefined;
  readonly #memo = new Map<Op, CollectionState>();

  constructor(
    readonly scope: ReadScope,
    /** The committed collection the view was bound from. */
    readonly origin: TrackedHost,
    /** The newer version as a collection, or undefined when it is not one. */
    private readonly accept: (newer: unknown) => TrackedHost | undefined,
    /** A new (unbound) collection value holding a state. */
    private readonly wrap: (state: CollectionState) => unknown,
  ) {}

  /** Records that `check(state)` must still hold of the newer version (after the same ops). */
  record(ops: Op | undefined, check: (state: CollectionState) => boolean): void {
    const origin = this.origin;
    this.scope.recordRead((value) => {
      const newer = this.accept(value);
      if (newer === undefined) return false;
      if (newer === origin || sameAtom(newer as never, origin as never)) return true;
      const target = newer._state();
      if (target.sameAs(origin._state())) return true;
      return check(this.resolve(ops, target));
    });
  }

  /** The state after `ops`, replayed on `newer`; memoized per newer version. */
  resolve(ops: Op | undefined, newer: CollectionState): CollectionState {
    if (this.#memoNewer !== newer) {
      this.#memo.clear();
      this.#memoNewer = newer;
    }
    if (ops === undefined) return newer;
    const hit = this.#memo.get(ops);
    if (hit !== undefined) return hit;
    const chain: Op[] = [];
    let state = newer;
    for (let n: Op | undefined = ops; n !== undefined; n = n.prev) {
      const m = this.#memo.get(n);
      if (m !== undefined) {
        state = m;
        break;
      }
      chain.push(n);
    }
    for (let i = chain.length - 1; i >= 0; i--) state = applyOp(state, chain[i] as Op);
    this.#memo.set(ops, state);
    return state;
  }

  replay(ops: Op | undefined, value: unknown): unknown {
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
