/**
 * The transactions begun on an object space, held weakly, so that `reclaim` can keep what the
 * snapshots of the active ones reach.
 */
import type { AtomPointer } from '../storage/backend.js';
import type { Transaction } from '../transaction.js';

/** Tracked transactions between two sweeps of the ones that ended or were collected. */
const SWEEP_EVERY = 4096;

/**
 * A weak set of transactions. A transaction counts while it is `active`; it leaves when a
 * sweep finds it inactive or garbage-collected (`snapshotsToKeep` sweeps, and so does every
 * `SWEEP_EVERY`-th `track`, which bounds the set by the active transactions plus that many).
 * No finalizer is registered per transaction: a commit costs one `WeakRef`, not a
 * finalization-registry cell that every garbage collection has to process.
 */
export class ActiveReaders {
  readonly #readers = new Set<WeakRef<Transaction>>();
  #untilSweep = SWEEP_EVERY;

  /** Registers `tx`; it does not keep `tx` alive. */
  track(tx: Transaction): void {
    this.#readers.add(new WeakRef(tx));
    if (--this.#untilSweep === 0) {
      this.#untilSweep = SWEEP_EVERY;
      this.#sweep();
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
