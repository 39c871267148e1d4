/**
 * Index maintenance in batches. A collection state's `set` and `delete` do not update its
 * deferrable ordered indexes one record at a time: they log the record change, and the first
 * read of the state's indexes makes all the logged changes at once, per index in one sorted
 * walk of its tree (`IndexData.updateAll`). A transaction that writes 10,000 records copies
 * each index node once instead of once per record under it.
 *
 * Guarantees:
 * 1. Same result: the indexes read from a state are the ones one-by-one `update` calls give
 *    (the same entries and counts; the tree's node boundaries may differ).
 * 2. Unique keys are checked at the write: a `set` that takes a key of a unique index held by
 *    another record throws `UniqueConstraintError` and changes nothing, as before. The log
 *    keeps, per deferred unique index, who holds each key it touched, so the check costs one
 *    map lookup (and a tree lookup for a key the log has not touched).
 * 3. States stay immutable values: a chain of states shares one log, each seeing its prefix.
 *    A write on a state whose log was extended since (a branch: two writes on one state) copies
 *    its prefix first, so no state ever sees another's changes.
 *
 * Deferred: ordered indexes, except unique ones over several keys per record (`[]` paths),
 * whose check would need every key of a record. Other kinds are updated at once.
 */
import type { Key } from '@proto/collections';
import { UniqueConstraintError } from './errors.js';
import { IndexData, NO_KEY } from './index-data.js';
import type { StoredIndex } from './kind-index.js';
import { keysEqual, ValueMap } from './values.js';

/** True for an index whose updates a state logs and makes in a batch. */
export function deferred(ix: StoredIndex): ix is IndexData {
  return ix instanceof IndexData && !(ix.def.unique && ix.multi);
}

/** Changes in a batch below which they are made one by one (a batch's sorting costs more there). */
const BATCH_FROM = 16;

/** Who holds the keys a log touched, in one deferred unique index (null: nobody now). */
interface Owners {
  readonly position: number;
  readonly index: IndexData;
  readonly holders: ValueMap<Key | null>;
}

/** The record changes of a chain of states since their deferred indexes were last made. */
export class ChangeLog {
  /** The indexes as the log's first change found them. */
  readonly #base: readonly StoredIndex[];
  readonly #pks: Key[] = [];
  readonly #befores: unknown[] = [];
  readonly #afters: unknown[] = [];
  readonly #owners: Owners[] = [];

  constructor(base: readonly StoredIndex[]) {
    this.#base = base;
    base.forEach((ix, position) => {
      if (deferred(ix) && ix.def.unique) this.#owners.push({ position, index: ix, holders: new ValueMap() });
    });
  }

  get length(): number {
    return this.#pks.length;
  }

  /** A new log holding the first `n` changes of this one. */
  prefix(n: number): ChangeLog {
    const copy = new ChangeLog(this.#base);
    for (let i = 0; i < n; i++) copy.push(this.#pks[i] as Key, this.#befores[i], this.#afters[i]);
    return copy;
  }

  /**
   * Throws `UniqueConstraintError` when record `pk` changing from `before` to `after` would
   * take a key of a deferred unique index that another record holds after this log.
   */
  checkUnique(pk: Key, before: unknown, after: unknown): void {
    if (after === NO_KEY) return;
    for (const { index, holders } of this.#owners) {
      const key = index.keyOf(after);
      if (key === NO_KEY) continue;
      if (before !== NO_KEY) {
        const old = index.keyOf(before);
        if (old !== NO_KEY && keysEqual(old, key)) continue;
      }
      let holder = holders.get(key as Key);
      if (holder === undefined) {
        const stored = index.tree.get(key as Key);
        holder = stored === undefined ? null : (stored as Key);
      }
      if (holder !== null && !keysEqual(holder, pk))
        throw new UniqueConstraintError(index.def.name, key, holder, pk);
    }
  }

  /** Appends a change (checked with `checkUnique` first). */
  push(pk: Key, before: unknown, after: unknown): void {
    this.#pks.push(pk);
    this.#befores.push(before);
    this.#afters.push(after);
    for (const { index, holders } of this.#owners) {
      const old = before === NO_KEY ? NO_KEY : index.keyOf(before);
      const key = after === NO_KEY ? NO_KEY : index.keyOf(after);
      if (old !== NO_KEY && key !== NO_KEY && keysEqual(old, key)) continue;
      if (old !== NO_KEY) holders.set(old as Key, null);
      if (key !== NO_KEY) holders.set(key as Key, pk);
    }
  }

  /**
   * `indexes` (a state's: its deferred ones as this log found them) with the first `n`
   * changes made in the deferred ones. Each record's changes are taken together: its first
   * `before` and its last `after`.
   */
  applyTo(indexes: readonly StoredIndex[], n: number): readonly StoredIndex[] {
    const out = indexes.slice();
    if (n < BATCH_FROM) {
      // One by one, in the order they were made (a unique key given up before it is taken).
      for (let i = 0; i < out.length; i++) {
        const ix = out[i] as StoredIndex;
        if (!deferred(ix)) continue;
        let next: IndexData = ix;
        for (let j = 0; j < n; j++)
          next = next.update(this.#pks[j] as Key, this.#befores[j], this.#afters[j]);
        out[i] = next;
      }
      return out;
    }
    const at = new ValueMap<number>();
    const pks: Key[] = [];
    const befores: unknown[] = [];
    const afters: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const pk = this.#pks[i] as Key;
      const seen = at.get(pk);
      if (seen === undefined) {
        at.set(pk, pks.length);
        pks.push(pk);
        befores.push(this.#befores[i]);
        afters.push(this.#afters[i]);
      } else afters[seen] = this.#afters[i];
    }
    // In one batch per index: the entries leaving and joining each key taken as sets, so the
    // order of the changes does not matter.
    for (let i = 0; i < out.length; i++) {
      const ix = out[i] as StoredIndex;
      if (deferred(ix)) out[i] = ix.updateAll(pks, befores, afters);
    }
    return out;
  }
}
