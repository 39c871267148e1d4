/**
 * The base class of every collection: a handle atom (root slot + size) that takes part in the
 * kernel's key-level concurrency protocol (`bindScope` / `derivation` from `@proto/atom`).
 *
 * An unbound collection is a plain persistent value. A bound view (what `tx.get` returns)
 * records its reads in the transaction's scope, and every collection derived from it by
 * updates carries the chain of operations that produced it, which the kernel replays on a
 * newer version when another commit came first.
 */
import type { EntryChange } from '@proto/atom';
import {
  Atom,
  AtomRef,
  appendOp,
  bindScope,
  type Derivation,
  derivation,
  type Operation,
  type OpNode,
  type ReadScope,
  sameAtom,
  valuesEqual,
} from '@proto/atom/extension';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import {
  applyDelta,
  deltaLimit,
  diffTrees,
  isKeyedDelta,
  type KeyedDelta,
  treeChanges,
} from './internal/keyed-delta.js';
import type { KSlot } from './internal/keyed-node.js';
import { ABSENT } from './internal/keyed-tree.js';
import { badPayload, copyStamp, resolveValue, settleSlot } from './internal/slots.js';
import {
  ChildScope,
  type CollectionClass,
  type CollectionRead,
  type CollectionReads,
  type ParentLink,
  type RangeObserver,
  type TrackedValue,
  Tracker,
} from './internal/tracking.js';

/** A stream of raw entries: `next()` advances and says whether `key`/`value` hold an entry. */
export interface RawScan {
  next(): boolean;
  readonly key: unknown;
  readonly value: unknown;
}

/**
 * The operation shared by collections that hold nested collections: the nested view `child`,
 * read from this lineage at `key`, was updated; replay applies its operations at `key`.
 */
export interface ChildOp {
  readonly kind: 'child';
  readonly key: unknown;
  readonly child: TrackedCollection;
}

/** The updates of a key → value map (`Dictionary`, `HashDictionary`), replayed on a newer version. */
export type KeyedMapOp =
  | { readonly kind: 'set'; readonly key: unknown; readonly value: unknown }
  | { readonly kind: 'delete'; readonly key: unknown }
  | { readonly kind: 'increment'; readonly key: unknown; readonly delta: number }
  | ChildOp;

function childAt(state: TrackedValue, key: unknown): unknown {
  const raw = (state as TrackedCollection)._rawGet(key);
  return raw === ABSENT ? undefined : resolveValue(raw);
}

/** The number an `increment(delta)` stores over the raw value `raw` (absent counts as 0). */
export function incrementedValue(raw: unknown, delta: number): number {
  const current = raw === ABSENT || raw === undefined ? 0 : raw;
  if (typeof current !== 'number')
    invalidArgument(`increment on a key whose value is not a number (${typeof current})`);
  return current + delta;
}

/** True when two slots hold the same stored content. */
export function sameSlot(a: Atom | AtomRef | undefined, b: Atom | AtomRef | undefined): boolean {
  return a === b || sameAtom(a, b);
}

/** Base class of all collections. Not constructed directly. */
export abstract class TrackedCollection extends Atom implements TrackedValue {
  /** @internal The tree root, or `undefined` when empty. */
  _root: Atom | AtomRef | undefined;
  /** @internal Number of entries. */
  _size: number;
  /** @internal The tracker of a bound view and of values derived from it. */
  _track: Tracker | undefined = undefined;
  /** @internal The last operation since the bound view (derived values only). */
  _ops: OpNode<Operation> | undefined = undefined;
  /** @internal For a bound view: the unbound collection it wraps. */
  _origin: TrackedCollection | undefined = undefined;

  protected constructor(root: Atom | AtomRef | undefined, size: number) {
    super();
    this._root = root;
    this._size = size;
  }

  /**
   * @internal The root slot for reading. Once the kernel has stored a root built in memory,
   * the handle switches to a reference to it (the node is still returned this time).
   */
  _slot(): Atom | AtomRef | undefined {
    const root = this._root;
    if (root === undefined || root instanceof AtomRef) return root;
    this._root = settleSlot(root);
    return root;
  }

  /**
   * @internal The keyed-tree delta from `older`'s tree to this one's: what `deltaSince` stores
   * for the collections on keyed trees (`undefined` when more than half the entries changed).
   */
  _treeDelta(older: TrackedCollection, keyOnly: boolean): KeyedDelta | undefined {
    const limit = deltaLimit(this._size);
    return diffTrees(older._slot() as KSlot | undefined, this._slot() as KSlot | undefined, keyOnly, limit);
  }

  /**
   * @internal The entries that differ from `older`'s tree (`undefined`: empty) to this one's,
   * for `diffEntries` of the collections on keyed trees.
   */
  _treeChanges(older: TrackedCollection | undefined, keyOnly: boolean): Generator<EntryChange> {
    return treeChanges(older?._slot() as KSlot | undefined, this._slot() as KSlot | undefined, keyOnly);
  }

  /**
   * @internal This collection's tree with a stored keyed delta applied (for `withDelta`);
   * throws `corrupt`, naming `what`, for a delta of another shape.
   */
  _treeWithDelta(delta: unknown, keyOnly: boolean, what: string): [KSlot | undefined, KeyedDelta] {
    if (!isKeyedDelta(delta, keyOnly)) return badPayload(`${what} delta`);
    return [applyDelta(this._slot() as KSlot | undefined, delta, keyOnly, nodeCapacity()), delta];
  }

  /** @internal The same contents in a new unbound object. */
  abstract _plain(): this;
  /** @internal An empty collection of this type. */
  abstract _empty(): this;
  /** @internal The raw stored value under `key` (`ABSENT` when missing). */
  abstract _rawGet(key: unknown): unknown;
  /** @internal Streams raw entries of `range` (a collection-specific range description). */
  abstract _scan(range: unknown): RawScan;
  /** @internal Counts the entries of `range`. */
  _countRange(_range: unknown): number {
    return this._size;
  }
  /** @internal One of the sizes a collection reports (`which` is collection-specific). */
  _sizeOf(_which: number): number {
    return this._size;
  }
  /** @internal `[key, raw]` at position `index`, or `ABSENT`. */
  _rawAt(_index: number): readonly [unknown, unknown] | typeof ABSENT {
    return ABSENT;
  }
  /**
   * @internal Applies one recorded operation to this unbound collection. A subclass narrows
   * `op` to its own operation union (it only ever replays operations it recorded).
   */
  abstract _applyOp(op: Operation, tracker: Tracker): TrackedCollection;
  /** @internal Stores `value` (a detached nested collection) under `key`, untracked. */
  _setChild(_key: unknown, _value: unknown): TrackedCollection {
    return this;
  }

  /** @internal */
  _sameContent(other: TrackedValue): boolean {
    return sameSlot(this._root, (other as TrackedCollection)._root);
  }

  /** @internal Binds a view of this collection to `scope` (nested when `parent` is given). */
  _bind(scope: ReadScope, parent: ParentLink | undefined): this {
    if (this._track !== undefined && this._origin === undefined) {
      // A value derived in a transaction that has since committed (the kernel binds only
      // committed values): drop its finished tracking so the committed value is plain.
      this._track = undefined;
      this._ops = undefined;
    }
    const view = this._plain();
    view._origin = this._origin ?? this;
    copyStamp(this, view);
    const ctor = this.constructor as CollectionClass;
    view._track = new Tracker(
      scope,
      view,
      (newer) => (newer instanceof ctor ? newer : undefined),
      () => this._empty(),
      parent,
      checkRead,
    );
    return view;
  }

  /** Returns a view of this collection that records its reads in `scope` (used by the kernel). */
  [bindScope](scope: ReadScope): this {
    return this._bind(scope, undefined);
  }

  /** How this collection was derived from a bound view, for the kernel's rebase; else undefined. */
  get [derivation](): Derivation | undefined {
    const tracker = this._track;
    const ops = this._ops;
    if (tracker === undefined || ops === undefined) return undefined;
    return { base: tracker.base, replay: (newer: unknown) => tracker.replay(ops, newer) };
  }

  /**
   * @internal Wraps an unbound update result: on a tracked lineage it records the operation. A
   * subclass narrows `op` to its own operation union.
   */
  protected _derive(next: TrackedCollection, op: Operation): this {
    const tracker = this._track;
    if (tracker === undefined) return next as this;
    if (next === this) next = this._plain();
    next._track = tracker;
    next._ops = appendOp(this._ops, op);
    tracker.register();
    return next as this;
  }

  /** @internal Logs a read when this is a tracked view. */
  protected _read<Kind extends keyof CollectionReads>(
    kind: Kind,
    first: CollectionReads[Kind][0],
    second: CollectionReads[Kind][1],
  ): void {
    const tracker = this._track;
    if (tracker !== undefined) tracker.read(kind, first, second, this);
  }

  /** @internal A value read under `key`: references resolved, nested collections bound. */
  protected _valueOut(key: unknown, raw: unknown): unknown {
    const value = resolveValue(raw);
    const tracker = this._track;
    if (tracker === undefined) return value;
    if (!(value instanceof TrackedCollection)) {
      tracker.read('get', key, raw, this);
      return value;
    }
    tracker.read('nested', key, value.constructor as CollectionClass, this);
    const link: ParentLink = { tracker, view: this, key };
    return value._bind(new ChildScope(link, childAt), link);
  }

  /**
   * @internal If `value` is a nested view read from this lineage at `key`, the update to record
   * (apply its operations at `key`); `this` when it is unchanged; otherwise `undefined`.
   */
  protected _childUpdate(
    key: unknown,
    value: unknown,
    sameKey: (a: unknown, b: unknown) => boolean,
  ): this | undefined {
    if (!(value instanceof TrackedCollection) || this._track === undefined) return undefined;
    const link = value._track?.parent;
    if (link === undefined || link.tracker !== this._track || !sameKey(link.key, key)) return undefined;
    const current = this._rawGet(key);
    if (value._ops === undefined && current !== ABSENT && value._origin !== undefined) {
      if (current === value._origin || (current instanceof Atom && sameAtom(current, value._origin)))
        return this;
    }
    const op: ChildOp = { kind: 'child', key, child: value };
    return this._derive(this._setChild(key, detach(value)), op);
  }

  /** @internal Replays a `child` operation. */
  protected _replayChild(op: ChildOp, tracker: Tracker): TrackedCollection {
    const child = op.child;
    const childTracker = child._track as Tracker;
    const link = childTracker.parent as ParentLink;
    const parentState = tracker.resolve(link.view._ops, tracker.replayBase);
    const replayed = childTracker.replay(child._ops, childAt(parentState, link.key));
    return this._setChild(op.key, detach(replayed));
  }

  /** @internal Streams `range`, logging what was observed on a tracked view. */
  protected *_iterate<T>(
    range: unknown,
    make: (key: unknown, value: unknown) => T,
  ): Generator<T, void, undefined> {
    const scan = this._scan(range);
    const tracker = this._track;
    if (tracker === undefined) {
      while (scan.next()) yield make(scan.key, scan.value);
      return;
    }
    const observer: RangeObserver = { count: 0, done: false };
    tracker.read('range', range, observer, this);
    while (scan.next()) {
      observer.count++;
      yield make(scan.key, scan.value);
    }
    observer.done = true;
  }

  /** @internal The size, logged as a read on a tracked view. */
  protected _readSize(which: number): number {
    const size = this._sizeOf(which);
    this._read('size', which, size);
    return size;
  }

  /** @internal The root as stored in the payload. */
  protected _settledRoot(): Atom | AtomRef | null {
    return this._root ?? null;
  }

  override childAtoms(): Iterable<Atom | AtomRef> {
    return this._root === undefined ? [] : [this._root];
  }
}

/**
 * Checks one logged read against the state of the newer version that corresponds to the view
 * that read (the newer version after the same operations).
 */
const checkRead: (...read: CollectionRead) => boolean = (kind, first, second, reader) => {
  const view = reader as TrackedCollection;
  const target = (view._track as Tracker).stateOf(view) as TrackedCollection;
  if (view._sameContent(target)) return true;
  switch (kind) {
    case 'get': {
      const raw = target._rawGet(first);
      return raw === ABSENT ? second === ABSENT : second !== ABSENT && valuesEqual(raw, second);
    }
    case 'has':
      return (target._rawGet(first) !== ABSENT) === second;
    case 'size':
      return target._sizeOf(first) === second;
    case 'count':
      return target._countRange(first) === second;
    case 'nested': {
      const raw = target._rawGet(first);
      return raw !== ABSENT && resolveValue(raw) instanceof second;
    }
    case 'at': {
      const now = target._rawAt(first);
      if (second === ABSENT || now === ABSENT) return second === now;
      return valuesEqual(second[0], now[0]) && valuesEqual(second[1], now[1]);
    }
    case 'range': {
      const mine = view._scan(first);
      const theirs = target._scan(first);
      for (let i = 0; i < second.count; i++) {
        if (!mine.next() || !theirs.next()) return false;
        if (!valuesEqual(mine.key, theirs.key) || !valuesEqual(mine.value, theirs.value)) return false;
      }
      return !(second.done && theirs.next());
    }
  }
};

/**
 * The value to store when a collection is put inside another: an unbound collection with the
 * same contents (a bound view's original when it is unchanged, so its identity is kept).
 */
export function detach(value: unknown): unknown {
  if (!(value instanceof TrackedCollection) || value._track === undefined) return value;
  if (value._ops === undefined && value._origin !== undefined) return value._origin;
  return value._plain();
}
