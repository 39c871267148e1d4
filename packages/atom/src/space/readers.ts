/**
 * The transactions begun on an object space, held weakly, so that `reclaim` can keep what the
 * snapshots of the active ones reach.
 */
import type { AtomPointer } from '../storage/backend.js';
import type { Transaction } from '../transaction.js';

/**
 * A weak set of transactions. A transaction counts while it is `active`; it leaves when it is
 * found inactive by `snapshotsToKeep` or when it is garbage-collected.
 */
export class ActiveReaders {
  readonly #readers = new Set<WeakRef<Transaction>>();
  readonly #collected = new FinalizationRegistry<WeakRef<Transaction>>((ref) => this.#readers.delete(ref));

  /** Registers `tx`; it does not keep `tx` alive. */
  track(tx: Transaction): void {
    const ref = new WeakRef(tx);
    this.#readers.add(ref);
    this.#collected.register(tx, ref);
  }

  /** The stored roots of the snapshots of the transactions still active, each once. */
  snapshotsToKeep(): AtomPointer[] {
    const keep = new Set<AtomPointer>();
    for (const ref of this.#readers) {
      const tx = ref.deref();
      if (tx === undefined || !tx.active) {
        this.#readers.delete(ref);
        continue;
      }
      const pointer = tx.snapshot.anchor;
      if (pointer !== undefined) keep.add(pointer);
    }
    return [...keep];
  }
}
