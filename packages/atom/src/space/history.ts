/**
 * The head of an object space and its history: the newest durable commit record (and the
 * pointer the backend's root holds for it), the commit records a group commit produces, and
 * the snapshots new transactions read, now or `asOf` a kept earlier commit.
 */
import { resolveSlot } from '../atom.js';
import { StorageError, TransactionError } from '../errors.js';
import { CommitRecord, SpaceState } from '../state.js';
import type { AtomPointer } from '../storage/backend.js';
import type { CommitInfo, Snapshot } from '../transaction.js';
import type { AtomStore } from './store.js';

/** A commit record and the root pointer that names it (null before the first commit). */
export interface Head {
  readonly pointer: AtomPointer | null;
  readonly record: CommitRecord;
}

/** The newest durable commit of one space, and the earlier ones kept for time travel. */
export class History {
  readonly #store: AtomStore;
  readonly #limit: number;
  #head: Head = { pointer: null, record: new CommitRecord(0, 0, SpaceState.empty, []) };

  /** `limit`: earlier commits each new record keeps (a non-negative integer, checked by the caller). */
  constructor(store: AtomStore, limit: number) {
    this.#store = store;
    this.#limit = limit;
  }

  /** The newest commit known to be durable. */
  get head(): Head {
    return this.#head;
  }

  get sequence(): number {
    return this.#head.record.sequence;
  }

  /** Makes `head` the newest durable commit (after its compare-and-set succeeded, or a re-read). */
  advance(head: Head): void {
    this.#head = head;
  }

  /** Reads the head the backend's root names now. Throws `corrupt` if it is not a commit record. */
  async read(): Promise<Head> {
    const backend = this.#store.backend;
    const pointer = await backend.readRoot();
    if (pointer === null) return { pointer: null, record: new CommitRecord(0, 0, SpaceState.empty, []) };
    const record = await this.#store.load(pointer);
    if (!(record instanceof CommitRecord)) {
      throw new StorageError({
        layer: 'atom',
        reason: 'corrupt',
        message: `the root of ${backend.name} is a '${record.atomType}' atom, not a ProtoBase commit; this location was not written by ProtoBase`,
      });
    }
    return { pointer, record };
  }

  /** Re-reads the backend's root and adopts it when it is not older than the head known here. */
  async refresh(): Promise<void> {
    const head = await this.read();
    if (head.record.sequence >= this.#head.record.sequence) this.#head = head;
  }

  /**
   * The record of the commit after `base` with `state`: the next sequence, a timestamp that
   * never goes back, and `base` prepended to the kept history (held as references, so that
   * history does not pin old trees in memory).
   */
  next(base: CommitRecord, state: SpaceState): CommitRecord {
    const now = Math.max(Date.now(), base.timestamp);
    const history =
      this.#limit === 0 || base.sequence === 0
        ? []
        : [{ sequence: base.sequence, timestamp: base.timestamp, state: base.state }, ...base.history]
            .slice(0, this.#limit)
            .map((h) => ({ ...h, state: this.#store.unpin(h.state) }));
    return new CommitRecord(base.sequence + 1, now, state, history);
  }

  /** The commits still readable with `begin({ asOf })`, newest first. */
  list(): CommitInfo[] {
    const { record } = this.#head;
    const out: CommitInfo[] = [];
    if (record.sequence > 0) out.push({ sequence: record.sequence, timestamp: record.timestamp });
    for (const h of record.history) out.push({ sequence: h.sequence, timestamp: h.timestamp });
    return out;
  }

  /** The newest state, or the kept state of commit `asOf`; throws `not-found` if it is not kept. */
  snapshot(asOf?: number): Snapshot {
    const { record } = this.#head;
    if (asOf === undefined || asOf === record.sequence) {
      return { sequence: record.sequence, timestamp: record.timestamp, state: resolveSlot(record.state) };
    }
    const entry = record.history.find((h) => h.sequence === asOf);
    if (entry === undefined) {
      const kept = this.list().map((h) => h.sequence);
      throw new TransactionError({
        layer: 'atom',
        reason: 'not-found',
        message: `commit ${asOf} is not kept (kept: ${kept.length > 0 ? kept.join(', ') : 'none'}); raise historyLimit to keep more`,
      });
    }
    return { sequence: entry.sequence, timestamp: entry.timestamp, state: resolveSlot(entry.state) };
  }
}
