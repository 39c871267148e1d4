/**
 * Key-level concurrency (see `@proto/atom`'s track.ts): what a transaction read from a
 * collection, and the operations it applied, recorded so the kernel can check the reads
 * against a newer version and replay the operations on it.
 *
 * One `Tracker` per bound view (`tx.get(...)` or a nested collection obtained from a bound
 * one). All views derived from it share the tracker; each derived view points at the last
 * operation of its chain (an `OpNode` of `@proto/atom/extension`'s op log). Reads go to a flat
 * `ReadLog` (no closure or object per read); the tracker registers a single `holds` with its
 * scope, on the first read or write.
 */
import {
  type LoggedRead,
  type Operation,
  type OpNode,
  OpReplay,
  ReadLog,
  type ReadScope,
  valuesEqual,
} from '@proto/atom/extension';
import { ABSENT } from './keyed-tree.js';

/** Observes a range iteration: how many entries were yielded, and whether it ran to the end. */
export interface RangeObserver {
  count: number;
  done: boolean;
}

/** The class of a nested collection (what a `nested` read saw). */
export type CollectionClass = abstract new (...args: never[]) => TrackedValue;

/**
 * The reads a collection records, by kind: `[first, second]` fields of each. `ABSENT` stands
 * for "no entry" wherever a raw value was seen.
 */
export interface CollectionReads {
  /** Point read: the key and the raw value seen, or `ABSENT`. */
  get: readonly [key: unknown, seen: unknown];
  /** Presence read: the key and whether it was present. */
  has: readonly [key: unknown, present: boolean];
  /** Size read: which size (collection-specific) and the size seen. */
  size: readonly [which: number, size: number];
  /** Range read: the range (collection-specific) and what the iteration observed. */
  range: readonly [range: unknown, observer: RangeObserver];
  /** Range count: the range and the count seen. */
  count: readonly [range: unknown, count: number];
  /** Nested collection read: the key and the class of the collection found there. */
  nested: readonly [key: unknown, type: CollectionClass];
  /** Positional read: the position and the `[key, raw]` entry seen there, or `ABSENT`. */
  at: readonly [index: number, seen: readonly [unknown, unknown] | typeof ABSENT];
}

/** A logged read as a check sees it: kind, its two fields, and the view that read. */
export type CollectionRead = LoggedRead<CollectionReads, TrackedValue>;

/** What a collection must provide for tracking. Implemented by `TrackedCollection`. */
export interface TrackedValue {
  /** @internal Applies one operation to this (unbound) value and returns the (unbound) result. */
  _applyOp(op: Operation, tracker: Tracker): TrackedValue;
  /** @internal True when `other` has the same contents (same stored root). */
  _sameContent(other: TrackedValue): boolean;
  /** @internal The raw stored value under `key`, or `ABSENT`. */
  _rawGet(key: unknown): unknown;
  /** @internal */
  _ops: OpNode | undefined;
}

/** Where a nested view came from: the parent view it was read from, and the key. */
export interface ParentLink {
  readonly tracker: Tracker;
  readonly view: TrackedValue;
  readonly key: unknown;
}

export class Tracker {
  registered = false;
  /** Reads of views of this tracker (other than `baseKeys`), with the view that read. */
  readonly log = new ReadLog<CollectionReads, TrackedValue>();
  /**
   * Keys read with `get` on the bound view itself (no operations before the read) whose value
   * was plain: what was seen is recomputed from the base at check time, so a read costs one push.
   */
  readonly baseKeys: unknown[] = [];
  /** Replays this tracker's op chains on a newer version (memoized per version). */
  readonly #replay = new OpReplay<Operation, TrackedValue>((state, op) => state._applyOp(op, this));

  constructor(
    readonly scope: ReadScope,
    /** The bound view that derived values start from. */
    readonly base: TrackedValue,
    /** The newer version as this tracker's value type, or `undefined` when it is not one. */
    readonly accept: (newer: unknown) => TrackedValue | undefined,
    /** An empty value of this type, for a replay onto a value that no longer exists. */
    readonly empty: () => TrackedValue,
    readonly parent: ParentLink | undefined,
    /** Checks one logged read against `stateOf(view)` of the version being checked. */
    readonly check: (...read: CollectionRead) => boolean,
  ) {}

  /** Registers this tracker's `holds` with its scope, once. */
  register(): void {
    if (this.registered) return;
    this.registered = true;
    this.scope.recordRead((newer) => this.holds(newer));
  }

  /** Logs a read of `kind` made by `view`. */
  read<Kind extends keyof CollectionReads>(
    kind: Kind,
    first: CollectionReads[Kind][0],
    second: CollectionReads[Kind][1],
    view: TrackedValue,
  ): void {
    const ops = view._ops;
    if (ops !== undefined) ops.marked = true;
    this.log.record(kind, first, second, view);
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
    if (this.log.length === 0) return true;
    this.#replay.resolve(undefined, target);
    return this.log.every(this.check);
  }

  /**
   * During `holds` or a replay: the state of the version being checked or replayed onto that
   * corresponds to `view` (that version after the operations that led to `view`).
   */
  stateOf(view: TrackedValue): TrackedValue {
    const version = this.#replay.version as TrackedValue;
    return view._ops === undefined ? version : this.#replay.resolve(view._ops, version);
  }

  /** The newer base the current replay starts from. */
  get replayBase(): TrackedValue {
    return this.#replay.version as TrackedValue;
  }

  /** The state after `ops`, replayed on `newer`. Memoized per newer version. */
  resolve(ops: OpNode | undefined, newer: TrackedValue): TrackedValue {
    return this.#replay.resolve(ops, newer);
  }

  /** Replays `ops` on `newer` (coerced: absent becomes empty) for the kernel's rebase. */
  replay(ops: OpNode | undefined, newer: unknown): TrackedValue {
    const target = this.accept(newer) ?? this.empty();
    return this.#replay.resolve(ops, target);
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
