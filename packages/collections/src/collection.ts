/**
 * The base class of every collection: a handle atom (root slot + size) that takes part in the
 * kernel's key-level concurrency protocol (`bindScope` / `derivation` from `@proto/atom`).
 *
 * An unbound collection is a plain persistent value. A bound view (what `tx.get` returns)
 * records its reads in the transaction's scope, and every collection derived from it by
 * updates carries the chain of operations that produced it, which the kernel replays on a
 * newer version when another commit came first.
 */
import {
  Atom,
  AtomRef,
  bindScope,
  type Derivation,
  derivation,
  type ReadScope,
  sameAtom,
  valuesEqual,
} from '@proto/atom';
import { invalidArgument } from './errors.js';
import { ABSENT } from './internal/keyed-tree.js';
import { copyStamp, resolveValue, settleSlot } from './internal/slots.js';
import { ChildScope, type OpNode, type ParentLink, type TrackedValue, Tracker } from './internal/tracking.js';

/** A stream of raw entries: `next()` advances and says whether `key`/`value` hold an entry. */
export interface RawScan {
  next(): boolean;
  readonly key: unknown;
  readonly value: unknown;
}

// Kinds of logged reads.
/** Point read: `a` key, `b` the raw value seen or `ABSENT`. */
export const READ_GET = 0;
/** Presence read: `a` key, `b` whether it was present. */
export const READ_HAS = 1;
/** Size read: `a` which size, `b` the size seen. */
export const READ_SIZE = 2;
/** Range read: `a` the range, `b` an observer `{ count, done }` updated while iterating. */
export const READ_RANGE = 3;
/** Range count: `a` the range, `b` the count seen. */
export const READ_COUNT = 4;
/** Nested collection read: `a` key, `b` its class. */
export const READ_NESTED = 5;
/** Positional read: `a` index, `b` `[key, raw]` seen or `ABSENT`. */
export const READ_AT = 6;

/** Operation kind shared by collections that hold nested collections: apply the child's ops at key `a`. */
export const OP_CHILD = 0;

interface RangeObserver {
  count: number;
  done: boolean;
}

type AnyCtor = abstract new (...args: never[]) => TrackedCollection;

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
  _ops: OpNode | undefined = undefined;
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
  _rawAt(_index: number): unknown {
    return ABSENT;
  }
  /** @internal Applies one recorded operation to this unbound collection. */
  abstract _applyOp(op: OpNode, tracker: Tracker): TrackedCollection;
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
    const ctor = this.constructor as AnyCtor;
    view._track = new Tracker(
      scope,
      view,
      (newer) => (newer instanceof ctor ? newer : undefined),
      () => this._empty(),
      parent,
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

  /** @internal Wraps an unbound update result: on a tracked lineage it records the operation. */
  protected _derive(next: TrackedCollection, kind: number, a: unknown, b: unknown): this {
    const tracker = this._track;
    if (tracker === undefined) return next as this;
    if (next === this) next = this._plain();
    next._track = tracker;
    next._ops = { prev: this._ops, kind, a, b, marked: false };
    tracker.register();
    return next as this;
  }

  /** @internal Logs a read when this is a tracked view. */
  protected _read(kind: number, a: unknown, b: unknown): void {
    const tracker = this._track;
    if (tracker !== undefined) tracker.read(kind, a, b, this);
  }

  /** @internal A value read under `key`: references resolved, nested collections bound. */
  protected _valueOut(key: unknown, raw: unknown): unknown {
    const value = resolveValue(raw);
    const tracker = this._track;
    if (tracker === undefined) return value;
    if (!(value instanceof TrackedCollection)) {
      tracker.read(READ_GET, key, raw, this);
      return value;
    }
    tracker.read(READ_NESTED, key, value.constructor, this);
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
    return this._derive(this._setChild(key, detach(value)), OP_CHILD, key, value);
  }

  /** @internal Replays an `OP_CHILD` operation. */
  protected _replayChild(op: OpNode, tracker: Tracker): TrackedCollection {
    const child = op.b as TrackedCollection;
    const childTracker = child._track as Tracker;
    const link = childTracker.parent as ParentLink;
    const parentState = tracker.resolve(link.view._ops, tracker.replayBase);
    const replayed = childTracker.replay(child._ops, childAt(parentState, link.key));
    return this._setChild(op.a, detach(replayed));
  }

  /** @internal Checks one logged read against the corresponding newer state. */
  _checkRead(kind: number, a: unknown, b: unknown, target: TrackedValue): boolean {
    if (this._sameContent(target)) return true;
    const t = target as TrackedCollection;
    switch (kind) {
      case READ_GET: {
        const raw = t._rawGet(a);
        return raw === ABSENT ? b === ABSENT : b !== ABSENT && valuesEqual(raw, b);
      }
      case READ_HAS:
        return (t._rawGet(a) !== ABSENT) === b;
      case READ_SIZE:
        return t._sizeOf(a as number) === b;
      case READ_COUNT:
        return t._countRange(a) === b;
      case READ_NESTED: {
        const raw = t._rawGet(a);
        return raw !== ABSENT && resolveValue(raw) instanceof (b as AnyCtor);
      }
      case READ_AT: {
        const seen = b as [unknown, unknown] | typeof ABSENT;
        const now = t._rawAt(a as number) as [unknown, unknown] | typeof ABSENT;
        if (seen === ABSENT || now === ABSENT) return seen === now;
        return valuesEqual(seen[0], now[0]) && valuesEqual(seen[1], now[1]);
      }
      default: {
        const observer = b as RangeObserver;
        const mine = this._scan(a);
        const theirs = t._scan(a);
        for (let i = 0; i < observer.count; i++) {
          if (!mine.next() || !theirs.next()) return false;
          if (!valuesEqual(mine.key, theirs.key) || !valuesEqual(mine.value, theirs.value)) return false;
        }
        return !(observer.done && theirs.next());
      }
    }
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
    tracker.read(READ_RANGE, range, observer, this);
    while (scan.next()) {
      observer.count++;
      yield make(scan.key, scan.value);
    }
    observer.done = true;
  }

  /** @internal The size, logged as a read on a tracked view. */
  protected _readSize(which: number): number {
    const size = this._sizeOf(which);
    this._read(READ_SIZE, which, size);
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
 * The value to store when a collection is put inside another: an unbound collection with the
 * same contents (a bound view's original when it is unchanged, so its identity is kept).
 */
export function detach(value: unknown): unknown {
  if (!(value instanceof TrackedCollection) || value._track === undefined) return value;
  if (value._ops === undefined && value._origin !== undefined) return value._origin;
  return value._plain();
}
