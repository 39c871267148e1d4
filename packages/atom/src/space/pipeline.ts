/**
 * The commit pipeline of an object space: transactions queue up, are folded in arrival order
 * onto the newest state (validated and, when another commit came first, rebased), the group's
 * new atoms are written once, and one compare-and-set of the root (the backend's durability
 * barrier) acknowledges the whole group. While one barrier is in flight the next group is
 * prepared on top of it; a lost or failed barrier makes the pipeline re-read the root and fold
 * the affected transactions again. A group's record is a delta record or, when one is due, a
 * checkpoint (`History.next`); `checkpoint()` queues a checkpoint of the head on its own.
 */
import { hasReason } from '../errors.js';
import type { CommitRecord, DeltaRecord } from '../state.js';
import type { AtomPointer } from '../storage/backend.js';
import { type CommitInfo, conflict, type Transaction } from '../transaction.js';
import { foldTransaction } from './fold.js';
import type { Draft, Head, History } from './history.js';

/** The head the pipeline folds onto and advances (see `History`). */
export type PipelineHistory = Pick<History, 'head' | 'advance' | 'refresh' | 'next' | 'checkpointOf'>;

/** Where the pipeline writes. */
export interface PipelineStorage {
  /**
   * Writes the record's atoms not stored yet; resolves with the record's pointer and the
   * encoded bytes written (see `persist`).
   */
  persist(record: CommitRecord | DeltaRecord): Promise<{ pointer: AtomPointer; bytes: number }>;
  /**
   * The backend's barrier: swaps the root from `expected` to `next` once everything written
   * before is durable. Resolves false when the root was not `expected`. Settles in call order.
   */
  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean>;
}

/** Counters of the pipeline (see `SpaceStats`). */
export interface PipelineStats {
  readonly commits: number;
  readonly conflicts: number;
  readonly rebases: number;
  readonly barriers: number;
  /** Checkpoints written (commits written whole rather than as delta records). */
  readonly checkpoints: number;
}

interface Pending {
  readonly tx: Transaction;
  readonly resolve: (info: CommitInfo) => void;
  readonly reject: (error: unknown) => void;
  /** Times this transaction's group lost the root to another writer. */
  attempts: number;
}

interface CheckpointWaiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface InFlight {
  /** The head once this group's compare-and-set succeeds. */
  readonly after: Head;
  /** Callers of `checkpoint()` this group (written whole) serves. */
  readonly waiters: readonly CheckpointWaiter[];
  /** Settles after the group's promises are settled. */
  done: Promise<void>;
}

/** Barriers outstanding at once: the next group is prepared while the previous one syncs. */
const MAX_IN_FLIGHT = 2;

/**
 * Group commit. `enqueue` never throws; its promise resolves once the transaction's group is
 * durable and the head advanced, or rejects with the transaction's conflict, a write error, or
 * a `conflict` after `casRetries` lost compare-and-sets.
 */
export class CommitPipeline {
  readonly #history: PipelineHistory;
  readonly #storage: PipelineStorage;
  readonly #casRetries: number;
  #queue: Pending[] = [];
  /** Transactions to fold again, in their original order, ahead of the queue. */
  #retry: Pending[] = [];
  /** Groups whose barrier is in flight, oldest first. */
  #inflight: InFlight[] = [];
  /** Set when a barrier failed: the next group is folded on the root re-read from the backend. */
  #resync = false;
  /** Callers of `checkpoint()` waiting for the next group to be one. */
  #checkpointWaiters: CheckpointWaiter[] = [];
  #flushing: Promise<void> | undefined;
  readonly #stats = { commits: 0, conflicts: 0, rebases: 0, barriers: 0, checkpoints: 0 };
  readonly #countRebase = () => {
    this.#stats.rebases++;
  };

  constructor(history: PipelineHistory, storage: PipelineStorage, casRetries: number) {
    this.#history = history;
    this.#storage = storage;
    this.#casRetries = casRetries;
  }

  /** Settles when the work queued so far is done; undefined while the pipeline is idle. */
  get flushing(): Promise<void> | undefined {
    return this.#flushing;
  }

  stats(): PipelineStats {
    return { ...this.#stats };
  }

  /** Queues a transaction for the next group commit. */
  enqueue(tx: Transaction): Promise<CommitInfo> {
    return new Promise<CommitInfo>((resolve, reject) => {
      this.#queue.push({ tx, resolve, reject, attempts: 0 });
      this.#kick();
    });
  }

  /**
   * Writes a checkpoint: the next group is written whole, or, when no commit is queued, the
   * head once every barrier in flight settled (nothing when it is a checkpoint already).
   * Resolves when it is durable, or when another writer moved the root first (that writer's
   * chain is then the one to checkpoint). Rejects with the write error when the checkpoint
   * could not be written; nothing is lost then, the delta records stay the durable state.
   */
  checkpoint(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkpointWaiters.push({ resolve, reject });
      this.#kick();
    });
  }

  #waiting(): number {
    return this.#queue.length + this.#retry.length + this.#checkpointWaiters.length;
  }

  #kick(): void {
    if (this.#flushing !== undefined) return;
    this.#flushing = this.#pump().finally(() => {
      this.#flushing = undefined;
      // A commit queued after the loop's last check but before this callback.
      if (this.#waiting() > 0) this.#kick();
    });
  }

  /**
   * Folds the queued transactions into a group, writes its atoms and issues its
   * compare-and-set, and while that barrier is in flight prepares the next group on top of it
   * (at most `MAX_IN_FLIGHT` barriers outstanding).
   */
  async #pump(): Promise<void> {
    for (;;) {
      const oldest = this.#inflight[0];
      const waiting = this.#waiting();
      if (oldest !== undefined && (waiting === 0 || this.#inflight.length >= MAX_IN_FLIGHT || this.#resync)) {
        await oldest.done;
        continue;
      }
      if (waiting === 0) return;
      if (this.#queue.length + this.#retry.length === 0) {
        // Only checkpoints asked for: wait for every barrier, then write one on the head.
        if (oldest !== undefined) {
          await oldest.done;
          continue;
        }
        await this.#writeCheckpoint();
        continue;
      }
      const group = [...this.#retry, ...this.#queue];
      this.#retry = [];
      this.#queue = [];
      if (this.#resync) {
        this.#resync = false;
        try {
          await this.#history.refresh();
        } catch (error) {
          for (const pending of group) pending.reject(error);
          continue;
        }
      }
      await this.#submit(group);
    }
  }

  /** Folds a group onto the newest state (durable or in flight), writes it and starts its barrier. */
  async #submit(group: Pending[]): Promise<void> {
    const base = this.#inflight.at(-1)?.after ?? this.#history.head;
    let state = base.state;
    const accepted: Pending[] = [];
    for (const pending of group) {
      try {
        state = foldTransaction(pending.tx, state, this.#countRebase);
        accepted.push(pending);
      } catch (error) {
        if (hasReason(error, 'conflict')) this.#stats.conflicts++;
        pending.reject(error);
      }
    }
    if (accepted.length === 0) return;
    // Callers of `checkpoint()` waiting now are served by this group: it is written whole.
    const waiters = this.#checkpointWaiters.splice(0);
    let after: Head;
    try {
      // Building the record reads the base state (its delta against the group's state): on a
      // backend without synchronous reads that read may miss, and the callers load and retry.
      after = await this.#store(this.#history.next(base, state, waiters.length > 0));
    } catch (error) {
      this.#checkpointWaiters.push(...waiters);
      if (accepted.length > 1 && hasReason(error, 'invalid-argument')) {
        // One transaction wrote something unstorable: commit the others without it.
        for (const pending of accepted) await this.#submit([pending]);
      } else {
        for (const pending of accepted) pending.reject(error);
      }
      return;
    }
    this.#stats.barriers++;
    const entry: InFlight = { after, waiters, done: Promise.resolve() };
    entry.done = this.#storage.compareAndSetRoot(base.pointer, after.pointer as AtomPointer).then(
      (swapped) => this.#settle(entry, accepted, swapped, undefined),
      (error: unknown) => this.#settle(entry, accepted, false, error),
    );
    this.#inflight.push(entry);
  }

  async #store(draft: Draft): Promise<Head> {
    const { pointer, bytes } = await this.#storage.persist(draft.record);
    return draft.stored(pointer, bytes);
  }

  /** Writes the head (no barrier in flight) as a checkpoint and settles the waiters. */
  async #writeCheckpoint(): Promise<void> {
    const waiters = this.#checkpointWaiters;
    this.#checkpointWaiters = [];
    try {
      const base = this.#history.head;
      const draft = this.#history.checkpointOf(base);
      if (draft !== undefined) {
        const after = await this.#store(draft);
        this.#stats.barriers++;
        if (await this.#storage.compareAndSetRoot(base.pointer, after.pointer as AtomPointer)) {
          this.#history.advance(after);
          this.#stats.checkpoints++;
        } else {
          this.#resync = true;
        }
      }
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      this.#resync = true;
      for (const waiter of waiters) waiter.reject(error);
    }
  }

  /** Handles a group's barrier result. Backends settle compare-and-sets in call order. */
  #settle(entry: InFlight, accepted: Pending[], swapped: boolean, error: unknown): void {
    const index = this.#inflight.indexOf(entry);
    if (index >= 0) this.#inflight.splice(index, 1);
    if (swapped) {
      this.#history.advance(entry.after);
      if (entry.after.deltas === 0) this.#stats.checkpoints++;
      this.#stats.commits += accepted.length;
      const info: CommitInfo = {
        sequence: entry.after.sequence,
        timestamp: entry.after.timestamp,
      };
      for (const pending of accepted) pending.resolve(info);
      for (const waiter of entry.waiters) waiter.resolve();
      return;
    }
    // Groups prepared on top of this one cannot commit either: fold them again once the
    // pipeline is empty, on the root the backend really holds.
    this.#resync = true;
    if (error !== undefined) {
      for (const pending of accepted) pending.reject(error);
      for (const waiter of entry.waiters) waiter.reject(error);
      return;
    }
    this.#checkpointWaiters.push(...entry.waiters);
    // Another writer moved the root (or an earlier group of ours failed): retry the group.
    for (const pending of accepted) {
      pending.attempts++;
      if (pending.attempts > this.#casRetries) {
        this.#stats.conflicts++;
        pending.reject(conflict(pending.tx.database, '(space root: too many concurrent writers)'));
      } else {
        this.#retry.push(pending);
      }
    }
  }
}
