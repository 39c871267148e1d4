/**
 * Key-level concurrency (see `@proto/atom`'s track.ts): what a transaction read from a
 * collection, and the operations it applied, recorded so the kernel can check the reads
 * against a newer version and replay the operations on it.
 *
 * One `Tracker` per bound view (`tx.get(...)` or a nested collection obtained from a bound
 * one). All views derived from it share the tracker; each derived view points at the last
 * operation of its chain (`OpNode`). Reads are appended to a flat log (no closure per read);
 * the tracker registers a single `holds` with its scope, on the first read or write.
 */
import { type ReadScope, valuesEqual } from '@proto/atom';
import { ABSENT } from './keyed-tree.js';

/** One recorded operation; `prev` links to the operation before it. */
export interface OpNode {
  readonly prev: OpNode | undefined;
  readonly kind: number;
  readonly a: unknown;
  readonly b: unknown;
  /** A read or a nested binding refers to the state after this operation: memoize it during replay. */
  marked: boolean;
}

/** What a collection must provide for tracking. Implemented by `TrackedCollection`. */
export interface TrackedValue {
  /** Applies one operation to this (unbound) value and returns the (unbound) result. */
  _applyOp(op: OpNode, tracker: Tracker): TrackedValue;
  /** Checks one logged read against `target`, the corresponding state in the newer version. */
  _checkRead(kind: number, a: unknown, b: unknown, target: TrackedValue): boolean;
  /** True when `other` has the same contents (same stored root). */
  _sameContent(other: TrackedValue): boolean;
  /** The raw stored value under `key`, or `ABSENT`. */
  _rawGet(key: unknown): unknown;
  _ops: OpNode | undefined;
}

/** Where a nested view came from: the parent view it was read from, and the key. */
export interface ParentLink {
  readonly tracker: Tracker;
  readonly view: TrackedValue;
  readonly key: unknown;
}

const NOTHING = Symbol('nothing');

export class Tracker {
  registered = false;
  /** Flat read log: kind, a, b, view; four slots per read. */
  readonly log: unknown[] = [];
  /**
   * Keys read with `get` on the bound view itself (no operations before the read) whose value
   * was plain: what was seen is recomputed from the base at check time, so a read costs one push.
   */
  readonly baseKeys: unknown[] = [];
  private memoNewer: unknown = NOTHING;
  private readonly memo = new Map<OpNode, TrackedValue>();

  constructor(
    readonly scope: ReadScope,
    /** The bound view that derived values start from. */
    readonly base: TrackedValue,
    /** The newer version as this tracker's value type, or `undefined` when it is not one. */
    readonly accept: (newer: unknown) => TrackedValue | undefined,
    /** An empty value of this type, for a replay onto a value that no longer exists. */
    readonly empty: () => TrackedValue,
    readonly parent: ParentLink | undefined,
  ) {}

  /** Registers this tracker's `holds` with its scope, once. */
  register(): void {
    if (this.registered) return;
    this.registered = true;
    this.scope.recordRead((newer) => this.holds(newer));
  }

  read(kind: number, a: unknown, b: unknown, view: TrackedValue): void {
    const ops = view._ops;
    if (ops !== undefined) ops.marked = true;
    this.log.push(kind, a, b, view);
    if (!this.registered) this.register();
  }

  /** Whether every logged read still holds of `newer` (a newer version of `base`). */
  holds(newer: unknown): boolean {
    const target = this.accept(newer);
    if (target === undefined) return false;
    const base = this.base;
    if (base._sameContent(target)) return true;
    const keys = this.baseKeys;
    for (let i = 0; i < keys.length; i++) {
      const seen = base._rawGet(keys[i]);
      const now = target._rawGet(keys[i]);
      if (seen === ABSENT ? now !== ABSENT : now === ABSENT || !valuesEqual(seen, now)) return false;
    }
    const log = this.log;
    for (let i = 0; i < log.length; i += 4) {
      const view = log[i + 3] as TrackedValue;
      const state = view._ops === undefined ? target : this.resolve(view._ops, target);
      if (!view._checkRead(log[i] as number, log[i + 1], log[i + 2], state)) return false;
    }
    return true;
  }

  /** The newer base the current replay starts from. */
  get replayBase(): TrackedValue {
    return this.memoNewer as TrackedValue;
  }

  /** The state after `ops`, replayed on `newer`. Memoized per newer version. */
  resolve(ops: OpNode | undefined, newer: TrackedValue): TrackedValue {
    if (this.memoNewer !== newer) {
      this.memo.clear();
      this.memoNewer = newer;
    }
    if (ops === undefined) return newer;
    const hit = this.memo.get(ops);
    if (hit !== undefined) return hit;
    const chain: OpNode[] = [];
    let state = newer;
    for (let n: OpNode | undefined = ops; n !== undefined; n = n.prev) {
      const m = this.memo.get(n);
      if (m !== undefined) {
        state = m;
        break;
      }
      chain.push(n);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const op = chain[i] as OpNode;
      state = state._applyOp(op, this);
      if (op.marked || i === 0) this.memo.set(op, state);
    }
    return state;
  }

  /** Replays `ops` on `newer` (coerced: absent becomes empty) for the kernel's rebase. */
  replay(ops: OpNode | undefined, newer: unknown): TrackedValue {
    const target = this.accept(newer) ?? this.empty();
    return this.resolve(ops, target);
  }
}

/**
 * The scope of a nested view: its reads are checked against the value found at the same key
 * of the parent's state in the newer version (navigating from the newer root).
 */
export class ChildScope implements ReadScope {
  constructor(
    private readonly link: ParentLink,
    private readonly childAt: (parentState: TrackedValue, key: unknown) => unknown,
  ) {}

  recordRead(holds: (newer: unknown) => boolean): void {
    const { tracker, view, key } = this.link;
    const ops = view._ops;
    if (ops !== undefined) ops.marked = true;
    tracker.scope.recordRead((newer) => {
      const parent = tracker.accept(newer);
      if (parent === undefined) return false;
      const state = ops === undefined ? parent : tracker.resolve(ops, parent);
      return holds(this.childAt(state, key));
    });
  }
}
