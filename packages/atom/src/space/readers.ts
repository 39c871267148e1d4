/**
 * The transactions begun on an object space, held weakly, so that `reclaim` can keep what the
 * snapshots of the active ones reach.
 */
import type { AtomPointer } from '../storage/backend.js';
import type { Transaction } from '../transaction.js';

/** Tracked transactions before the first sweep of the ones that ended or were collected. */
const SWEEP_EVERY = 4096;

/**
 * A weak set of transactions. A transaction counts while it is `active`; it leaves when a
 * sweep finds it inactive or garbage-collected. `snapshotsToKeep` sweeps, and so does `track`
 * once the set has grown by `SWEEP_EVERY` plus what the last sweep left: the set stays within
 * about twice the transactions a sweep cannot drop, and sweeping costs O(1) per `track`
 * amortized. (That matters: a `WeakRef` keeps its target alive until the current synchronous
 * job ends, so a loop beginning many read-only transactions in one job holds all of them, and
 * a sweep every fixed number of tracks would rescan them all each time.) No finalizer is
 * registered per transaction: a commit costs one `WeakRef`, not a finalization-registry cell
 * that every garbage collection has to process.
 */
export class ActiveReaders {
  readonly #readers = new Set<WeakRef<Transaction>>();
  /** The set's size at which `track` sweeps next. */
  #sweepAt = SWEEP_EVERY;

  /** Registers `tx`; it does not keep `tx` alive. */
  track(tx: Transaction): void {
    this.#readers.add(new WeakRef(tx));
    if (this.#readers.size >= this.#sweepAt) {
      this.#sweep();
      this.#sweepAt = 2 * this.#readers.size + SWEEP_EVERY;
    }
  }

  /** The stored roots of the snapshots of the transactions still active, each once. */
  snapshotsToKeep(): AtomPointer[] {
    const keep = new Set<AtomPointer>();
    for (const tx of this.#sweep()) {
      const pointer = tx.snapshot.anchor;
      if (pointer !== undefined) keep.add(pointer);
    }
    return [...keep];
  }

  /** Drops the transactions that ended or were collected; returns the active ones. */
  #sweep(): Transaction[] {
    const active: Transaction[] = [];
    for (const ref of this.#readers) {
      const tx = ref.deref();
      if (tx === undefined || !tx.active) this.#readers.delete(ref);
      else active.push(tx);
    }
    return active;
  }
}
