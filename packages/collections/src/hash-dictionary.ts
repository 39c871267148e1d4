/**
 * `HashDictionary<K, V>`: a persistent map for keys without an order (plain objects, mixed
 * values), compared by value. Entries live in a B+ tree keyed by a structural hash of the key;
 * keys with the same hash share a collision bucket.
 */
import { type Atom, AtomRef, type EntryChange, LazyValue, registerAtomType, valuesEqual } from '@proto/atom';
import { detach, incrementedValue, type KeyedMapOp, type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import { hashValue } from './internal/hash.js';
import { sameEntry } from './internal/keyed-delta.js';
import type { KSlot } from './internal/keyed-node.js';
import { FULL_RANGE, KScan } from './internal/keyed-scan.js';
import { ABSENT, insert, lookup, remove } from './internal/keyed-tree.js';
import { badPayload } from './internal/slots.js';
import type { Tracker } from './internal/tracking.js';

/** Streams the entries of every bucket. */
class BucketScan implements RawScan {
  private bucket: readonly unknown[] = [];
  private i = 0;
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(private readonly scan: KScan) {}
  next(): boolean {
    while (this.i >= this.bucket.length) {
      if (!this.scan.next()) return false;
      this.bucket = this.scan.value as unknown[];
      this.i = 0;
    }
    this.key = this.bucket[this.i];
    this.value = this.bucket[this.i + 1];
    this.i += 2;
    return true;
  }
}

function findInBucket(bucket: readonly unknown[], key: unknown): number {
  for (let i = 0; i < bucket.length; i += 2) if (valuesEqual(bucket[i], key)) return i;
  return -1;
}

function resolve(value: unknown): unknown {
  return value instanceof AtomRef ? value.get() : value;
}

/**
 * A persistent map whose keys are compared by value (`valuesEqual`): plain objects, arrays and
 * any mix of plain values. Iteration order is by key hash (stable, but not meaningful).
 * Tracking works as for `Dictionary`: per-key reads, replayed writes, commutative `increment`.
 *
 * @example
 * const h = HashDictionary.empty<{ x: number; y: number }, string>().set({ x: 1, y: 2 }, 'a');
 * h.get({ x: 1, y: 2 }); // 'a'
 */
export class HashDictionary<K = unknown, V = unknown> extends TrackedCollection {
  static readonly typeName = 'proto.hash-dictionary';

  /** @internal Use `HashDictionary.empty()` or `HashDictionary.from()`. */
  constructor(root: Atom | AtomRef | undefined, size: number) {
    super(root, size);
  }

  static empty<K = unknown, V = unknown>(): HashDictionary<K, V> {
    return new HashDictionary<K, V>(undefined, 0);
  }

  static from<K, V>(entries: Iterable<readonly [K, V]>): HashDictionary<K, V> {
    let h = HashDictionary.empty<K, V>();
    for (const [k, v] of entries) h = h.set(k, v);
    return h;
  }

  get atomType(): string {
    return HashDictionary.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size];
  }

  get size(): number {
    return this._readSize(0);
  }

  get(key: K): V | undefined {
    const raw = this._rawGet(key);
    if (this._track === undefined) return raw === ABSENT ? undefined : (resolve(raw) as V);
    if (raw === ABSENT) {
      this._read('get', key, ABSENT);
      return undefined;
    }
    return this._valueOut(key, raw) as V;
  }

  has(key: K): boolean {
    const present = this._rawGet(key) !== ABSENT;
    this._read('has', key, present);
    return present;
  }

  set(key: K, value: V): HashDictionary<K, V> {
    const child = this._childUpdate(key, value, valuesEqual);
    if (child !== undefined) return child;
    const v = detach(value);
    return this._derive(this._coreSet(key, v), { kind: 'set', key, value: v });
  }

  delete(key: K): HashDictionary<K, V> {
    return this._derive(this._coreDelete(key), { kind: 'delete', key });
  }

  /** Adds `delta` to the number under `key` (absent counts as 0); records no read. */
  increment(key: K, delta = 1): HashDictionary<K, V> {
    if (typeof delta !== 'number') invalidArgument(`increment delta must be a number, got ${typeof delta}`);
    return this._derive(this._coreIncrement(key, delta), { kind: 'increment', key, delta });
  }

  /** `[key, value]` pairs in hash order. */
  entries(): Generator<[K, V], void, undefined> {
    return this._iterate(FULL_RANGE, (k, v) => [k as K, resolve(v) as V]);
  }

  keys(): Generator<K, void, undefined> {
    return this._iterate(FULL_RANGE, (k) => k as K);
  }

  values(): Generator<V, void, undefined> {
    return this._iterate(FULL_RANGE, (_k, v) => resolve(v) as V);
  }

  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /** The hash buckets changed since `older` (a delta commit, see `Atom.deltaSince`). */
  override deltaSince(older: Atom): unknown {
    return older instanceof HashDictionary ? this._treeDelta(older, false) : undefined;
  }

  /**
   * The entries that differ from `older` (`undefined`: empty) to this one, in hash order
   * (this dictionary's iteration order), visiting only the buckets that changed (see `diff`).
   */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<K, V>> | undefined {
    if (older !== undefined && !(older instanceof HashDictionary)) return undefined;
    return bucketChanges<K, V>(this._treeChanges(older, false));
  }

  /** This dictionary with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): HashDictionary<K, V> {
    const before = this._slot() as KSlot | undefined;
    const pairsIn = (bucket: unknown) => {
      const b = bucket instanceof LazyValue ? bucket.get() : bucket;
      if (!Array.isArray(b) || b.length % 2 !== 0) return badPayload('hash dictionary delta');
      return b.length / 2;
    };
    const pairsAt = (hash: unknown) => {
      const raw = lookup(before, hash);
      return raw === ABSENT ? 0 : pairsIn(raw);
    };
    const [root, [hashes, buckets, removed]] = this._treeWithDelta(delta, false, 'hash dictionary');
    let size = this._size;
    for (const hash of removed) size -= pairsAt(hash);
    for (let i = 0; i < hashes.length; i++) size += pairsIn(buckets?.[i]) - pairsAt(hashes[i]);
    return new HashDictionary<K, V>(root, size);
  }

  /** @internal */
  _plain(): this {
    return new HashDictionary<K, V>(this._root, this._size) as this;
  }
  /** @internal */
  _empty(): this {
    return new HashDictionary<K, V>(undefined, 0) as this;
  }
  /** @internal */
  _rawGet(key: unknown): unknown {
    const bucket = lookup(this._slot() as KSlot | undefined, hashValue(key));
    if (bucket === ABSENT) return ABSENT;
    const b = bucket as unknown[];
    const i = findInBucket(b, key);
    return i < 0 ? ABSENT : b[i + 1];
  }
  /** @internal */
  _scan(): RawScan {
    return new BucketScan(new KScan(this._slot() as KSlot | undefined, FULL_RANGE));
  }
  /** @internal */
  _coreSet(key: unknown, value: unknown): HashDictionary<K, V> {
    const h = hashValue(key);
    const root = this._slot() as KSlot | undefined;
    const found = lookup(root, h);
    const bucket = found === ABSENT ? [] : (found as unknown[]);
    const i = findInBucket(bucket, key);
    if (i >= 0 && Object.is(bucket[i + 1], value)) return this;
    const next = bucket.slice();
    if (i >= 0) next[i + 1] = value;
    else next.push(key, value);
    return new HashDictionary<K, V>(
      insert(root, h, next, false, nodeCapacity()),
      this._size + (i >= 0 ? 0 : 1),
    );
  }
  /** @internal */
  _coreDelete(key: unknown): HashDictionary<K, V> {
    const h = hashValue(key);
    const root = this._slot() as KSlot | undefined;
    const found = lookup(root, h);
    if (found === ABSENT) return this;
    const bucket = found as unknown[];
    const i = findInBucket(bucket, key);
    if (i < 0) return this;
    const cap = nodeCapacity();
    if (bucket.length === 2) return new HashDictionary<K, V>(remove(root, h, cap), this._size - 1);
    const next = bucket.slice();
    next.splice(i, 2);
    return new HashDictionary<K, V>(insert(root, h, next, false, cap), this._size - 1);
  }
  /** @internal */
  _coreIncrement(key: unknown, delta: number): HashDictionary<K, V> {
    return this._coreSet(key, incrementedValue(this._rawGet(key), delta));
  }
  /** @internal */
  override _setChild(key: unknown, value: unknown): TrackedCollection {
    return this._coreSet(key, value);
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: KeyedMapOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: KeyedMapOp, tracker: Tracker): TrackedCollection {
    switch (op.kind) {
      case 'set':
        return this._coreSet(op.key, op.value);
      case 'delete':
        return this._coreDelete(op.key);
      case 'increment':
        return this._coreIncrement(op.key, op.delta);
      case 'child':
        return this._replayChild(op, tracker);
      default:
        return invalidArgument(`unknown hash dictionary operation ${(op as { kind: string }).kind}`);
    }
  }
}

registerAtomType(HashDictionary.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[1] !== 'number')
    return badPayload('hash dictionary');
  return new HashDictionary((payload[0] as Atom | AtomRef | null) ?? undefined, payload[1]);
});

function pairsOf(bucket: unknown): readonly unknown[] {
  const b = bucket instanceof LazyValue ? bucket.get() : bucket;
  return Array.isArray(b) ? b : [];
}

/** The entries that differ between the changed buckets (`[key, value, key, value ...]`). */
function* bucketChanges<K, V>(buckets: Iterable<EntryChange>): Generator<EntryChange<K, V>> {
  for (const c of buckets) {
    const before = pairsOf(c.oldValue);
    const after = pairsOf(c.newValue);
    for (let i = 0; i < after.length; i += 2) {
      const key = after[i] as K;
      const newValue = resolve(after[i + 1]) as V;
      const j = findInBucket(before, key);
      if (j < 0) yield { kind: 'added', key, oldValue: undefined, newValue };
      else {
        const oldValue = resolve(before[j + 1]) as V;
        if (!sameEntry(oldValue, newValue)) yield { kind: 'changed', key, oldValue, newValue };
      }
    }
    for (let i = 0; i < before.length; i += 2) {
      if (findInBucket(after, before[i]) < 0)
        yield {
          kind: 'removed',
          key: before[i] as K,
          oldValue: resolve(before[i + 1]) as V,
          newValue: undefined,
        };
    }
  }
}
