/**
 * The head of an object space and its history: the newest durable commit (the pointer the
 * backend's root holds for its record, and its state in memory), the records a group
 * commit produces (a delta record, or a checkpoint when one is due), and the snapshots new
 * transactions read, now or `asOf` a kept earlier commit.
 *
 * Reading a root that names a delta record walks the chain back to a commit known here or to
 * its checkpoint and replays the deltas forward (`applyChanges`), so a chain costs what its
 * commits changed, bounded by the checkpoint policy.
 */
import { ATOM_LOADER, ATOM_POINTER, type Atom, AtomRef, resolveSlot } from '../atom.js';
import { StorageError, TransactionError } from '../errors.js';
import { CommitRecord, DeltaRecord, SpaceState } from '../state.js';
import type { AtomPointer } from '../storage/backend.js';
import type { CommitInfo, Snapshot } from '../transaction.js';
import type { CheckpointTiming } from './ahead.js';
import { applyChanges, changesBetween } from './delta.js';
import { type AtomStore, newMisses } from './store.js';

/**
 * An earlier commit kept for time travel. A checkpoint stores `stored`; `state` is held while
 * the commit's state is in memory (until the next checkpoint), else it is rebuilt on demand.
 */
export interface KeptCommit {
  readonly sequence: number;
  readonly timestamp: number;
  /**
   * Where its state is found in storage: the state itself, or the commit's delta record (the
   * state is then that record's chain replayed). Also what `reclaim` keeps for a snapshot of it.
   */
  readonly stored: AtomRef<SpaceState | DeltaRecord>;
  /** The state, while it is in memory. */
  readonly state: SpaceState | undefined;
}

/** A commit as the space knows it: the root pointer that names its record, and its state. */
export interface Head {
  /** Null before the first commit. */
  readonly pointer: AtomPointer | null;
  readonly sequence: number;
  readonly timestamp: number;
  readonly state: SpaceState;
  /** Earlier commits kept, newest first. */
  readonly kept: readonly KeptCommit[];
  /** Delta records since the last checkpoint (0 when the record is a checkpoint). */
  readonly deltas: number;
  /** Encoded bytes written by those delta records (as far as this space wrote them). */
  readonly deltaBytes: number;
}

/** A commit the head moved through, as the change feed sees it. */
export interface Step {
  readonly sequence: number;
  readonly timestamp: number;
  readonly state: SpaceState;
}

/**
 * Told after the head moved forward: `steps` are the commits it moved through, oldest first,
 * ending with the new head. When some could not be read back (another process's commits past
 * what its checkpoint keeps), `steps` starts later than the commit after the old head.
 */
export type CommitObserver = (steps: readonly Step[]) => void;

/** When a commit is written as a checkpoint rather than a delta record. */
export interface CheckpointPolicy {
  /** A checkpoint after this many delta records (0: every commit is a checkpoint). */
  readonly commits: number;
  /** A checkpoint once the delta records since the last one reach this many bytes. */
  readonly bytes: number;
}

/** A commit record about to be written, and the head it becomes once stored. */
export interface Draft {
  readonly record: CommitRecord | DeltaRecord;
  /** The head once `record` is stored at `pointer` (its encoding and its atoms took `bytes`). */
  stored(pointer: AtomPointer, bytes: number): Head;
}

const EMPTY: Head = {
  pointer: null,
  sequence: 0,
  timestamp: 0,
  state: SpaceState.empty,
  kept: [],
  deltas: 0,
  deltaBytes: 0,
};

/** The newest durable commit of one space, and the earlier ones kept for time travel. */
export class History {
  readonly #store: AtomStore;
  readonly #limit: number;
  readonly #policy: CheckpointPolicy;
  #head: Head = EMPTY;
  /** The snapshot of the head, made by the first `snapshot()` on it. */
  #current: readonly [Head, Snapshot] | undefined = undefined;
  /** Told of every commit the head moves through (set while the space has subscribers). */
  observer: CommitObserver | undefined = undefined;

  readonly #clock: () => number;

  readonly #timing: CheckpointTiming | undefined;

  /**
   * `limit`: earlier commits kept (a non-negative integer); both checked by the caller.
   * `timing`: when a checkpoint that falls due is written (default: at once).
   */
  constructor(
    store: AtomStore,
    limit: number,
    policy: CheckpointPolicy,
    clock: () => number = Date.now,
    timing?: CheckpointTiming,
  ) {
    this.#store = store;
    this.#limit = limit;
    this.#policy = policy;
    this.#clock = clock;
    this.#timing = timing;
  }

  /** The newest commit known to be durable. */
  get head(): Head {
    return this.#head;
  }

  get sequence(): number {
    return this.#head.sequence;
  }

  /**
   * Makes `head` the newest durable commit (after its compare-and-set succeeded, or a re-read)
   * and tells the observer the commits it moved through: `steps` as `read` collected them, or
   * the head alone.
   */
  advance(head: Head, steps?: readonly Step[]): void {
    const before = this.#head;
    this.#head = head;
    this.#timing?.advanced(head);
    const observer = this.observer;
    if (observer !== undefined && head.sequence > before.sequence) {
      const last = steps?.at(-1);
      observer(last !== undefined && last.sequence === head.sequence ? (steps ?? []) : [head]);
    }
  }

  /**
   * Reads the head the backend's root names now, replaying delta records from `known` when
   * the chain passes through it, else from the chain's checkpoint. Throws `corrupt` if the
   * root is not a commit record or a chain is broken.
   */
  async read(known: Head = this.#head, steps?: Step[]): Promise<Head> {
    // Replaying delta records and reading a checkpoint's state read atoms synchronously: on a
    // backend without synchronous reads, each miss is loaded (held until the read ends) and the
    // read starts again.
    const misses = newMisses();
    try {
      for (;;) {
        const collected: Step[] | undefined = steps === undefined ? undefined : [];
        try {
          const head = await this.#store.rerunnable(() => this.#readOnce(known, collected));
          if (steps !== undefined) steps.push(...(collected as Step[]));
          return head;
        } catch (error) {
          if (!(await this.#store.repair(error, misses))) throw error;
        }
      }
    } finally {
      if (misses.held.size > 0) this.#store.release(misses);
    }
  }

  async #readOnce(known: Head, steps: Step[] | undefined): Promise<Head> {
    const backend = this.#store.backend;
    const pointer = await backend.readRoot();
    if (pointer === null) return EMPTY;
    if (pointer === known.pointer) return known;
    const chain: [AtomPointer, DeltaRecord][] = [];
    let at = pointer;
    let record = await this.#load(at);
    let start: Head | undefined;
    while (record instanceof DeltaRecord) {
      chain.push([at, record]);
      at = record.base.pointer;
      if (at === known.pointer && known.sequence === record.sequence - 1) {
        start = known;
        break;
      }
      record = await this.#load(at);
      if (record.sequence !== (chain.at(-1)?.[1].sequence ?? 0) - 1) throw broken(backend.name);
    }
    let head: Head = start ?? (await this.#checkpointHead(at, record as CommitRecord));
    if (steps !== undefined && start === undefined && head.sequence > known.sequence) {
      // The chain did not pass through `known`: the commits between it and the checkpoint are
      // read back from the checkpoint's history and the delta records it reaches.
      const between = await this.#stepsBetween(known, record as CommitRecord);
      if (between !== undefined) steps.push(...between);
      steps.push(head);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const [p, delta] = chain[i] as [AtomPointer, DeltaRecord];
      head = {
        pointer: p,
        sequence: delta.sequence,
        timestamp: delta.timestamp,
        state: applyChanges(head.state, delta.changes),
        kept: this.#keep(head),
        deltas: head.deltas + 1,
        deltaBytes: head.deltaBytes,
      };
      steps?.push(head);
    }
    return head;
  }

  /**
   * The states of the commits after `known` and before `checkpoint`, oldest first, or
   * undefined when they cannot all be read back. Walks back from the checkpoint through its
   * kept history: a kept state is taken as it is, a kept delta record's chain is followed to
   * its base (any length), until commit `known`; then replays forward from `known`'s state.
   */
  async #stepsBetween(known: Head, checkpoint: CommitRecord): Promise<Step[] | undefined> {
    type Back = { sequence: number; timestamp: number; state?: SpaceState; delta?: DeltaRecord };
    const back: Back[] = [];
    let history = checkpoint.history;
    let expected = checkpoint.sequence - 1;
    for (;;) {
      let next: DeltaRecord | undefined;
      for (const entry of history) {
        if (expected === known.sequence) break;
        if (entry.sequence !== expected) return undefined;
        const atom = await this.#store.load(entry.state.pointer);
        if (atom instanceof DeltaRecord) {
          next = atom;
          break;
        }
        if (!(atom instanceof SpaceState)) return undefined;
        back.push({ sequence: entry.sequence, timestamp: entry.timestamp, state: atom });
        expected--;
      }
      if (expected === known.sequence) break;
      if (next === undefined) return undefined;
      // Follow the delta chain down to `known` or to the checkpoint it starts from.
      let record: CommitRecord | DeltaRecord = next;
      while (record instanceof DeltaRecord && record.sequence > known.sequence) {
        if (record.sequence !== expected) return undefined;
        back.push({ sequence: record.sequence, timestamp: record.timestamp, delta: record });
        expected--;
        record = await this.#load(record.base.pointer);
      }
      if (expected === known.sequence) break;
      if (!(record instanceof CommitRecord) || record.sequence !== expected) return undefined;
      const state = record.state instanceof AtomRef ? await record.state.load() : record.state;
      back.push({ sequence: record.sequence, timestamp: record.timestamp, state });
      expected--;
      history = record.history;
    }
    const out: Step[] = [];
    let state = known.state;
    for (let i = back.length - 1; i >= 0; i--) {
      const b = back[i] as Back;
      state = b.state ?? applyChanges(state, (b.delta as DeltaRecord).changes);
      out.push({ sequence: b.sequence, timestamp: b.timestamp, state });
    }
    return out;
  }

  /** The head of a checkpoint read from storage (its kept states load on demand). */
  async #checkpointHead(pointer: AtomPointer, checkpoint: CommitRecord): Promise<Head> {
    const state = checkpoint.state instanceof AtomRef ? await checkpoint.state.load() : checkpoint.state;
    return {
      pointer,
      sequence: checkpoint.sequence,
      timestamp: checkpoint.timestamp,
      state,
      kept: checkpoint.history.map((h) => ({
        sequence: h.sequence,
        timestamp: h.timestamp,
        stored: h.state,
        state: undefined,
      })),
      deltas: 0,
      deltaBytes: 0,
    };
  }

  /**
   * Re-reads the backend's root and adopts it when it is not older than the head known here,
   * telling the observer each commit it moved through.
   */
  async refresh(): Promise<void> {
    const steps: Step[] | undefined = this.observer === undefined ? undefined : [];
    const head = await this.read(this.#head, steps);
    if (head.sequence >= this.#head.sequence) this.advance(head, steps);
  }

  /**
   * The record of the commit after `base` with `state`: the next sequence, a timestamp that
   * never goes back, written as a delta record on top of `base` unless a checkpoint is due or
   * asked for (`checkpoint`), or `base` is the empty space, which has no record to build on.
   */
  next(base: Head, state: SpaceState, checkpoint = false): Draft {
    const sequence = base.sequence + 1;
    const timestamp = Math.max(this.#clock(), base.timestamp);
    const kept = this.#keep(base);
    const policy = this.#policy;
    const due = base.deltas + 1 > policy.commits || base.deltaBytes >= policy.bytes;
    // A due checkpoint may wait for its background writer (`timing`), but not past twice the interval.
    const overdue = base.deltas + 1 > 2 * policy.commits || base.deltaBytes >= 2 * policy.bytes;
    const now =
      checkpoint || base.pointer === null || (due && (overdue || (this.#timing?.ready(base) ?? true)));
    if (now) return this.#checkpoint(sequence, timestamp, state, kept);
    const baseRef = new AtomRef<CommitRecord | DeltaRecord>(base.pointer, this.#store.loader);
    const record = new DeltaRecord(sequence, timestamp, baseRef, changesBetween(base.state, state));
    return {
      record,
      stored: (pointer, bytes) => ({
        pointer,
        sequence,
        timestamp,
        state,
        kept,
        deltas: base.deltas + 1,
        deltaBytes: base.deltaBytes + bytes,
      }),
    };
  }

  /**
   * A checkpoint of `base` itself (same sequence, same state): what `ObjectSpace.checkpoint()`
   * writes; undefined when `base` is a checkpoint already.
   */
  checkpointOf(base: Head): Draft | undefined {
    if (base.deltas === 0) return undefined;
    return this.#checkpoint(base.sequence, base.timestamp, base.state, base.kept);
  }

  /**
   * A checkpoint: `state` written whole, and each kept commit by what `stored` names (a kept
   * delta commit's state is not written again: its delta record is). Once stored, the kept
   * states that only a delta record stores are let go from memory; reading one `asOf` replays.
   */
  #checkpoint(sequence: number, timestamp: number, state: SpaceState, kept: readonly KeptCommit[]): Draft {
    const record = new CommitRecord(
      sequence,
      timestamp,
      state,
      kept.map((h) => ({
        sequence: h.sequence,
        timestamp: h.timestamp,
        state: h.stored as AtomRef<SpaceState>,
      })),
    );
    return {
      record,
      stored: (pointer) => ({
        pointer,
        sequence,
        timestamp,
        state,
        kept: kept.map((h) =>
          h.state === undefined || h.state[ATOM_POINTER] !== undefined ? h : { ...h, state: undefined },
        ),
        deltas: 0,
        deltaBytes: 0,
      }),
    };
  }

  /** `base` prepended to its kept history, bounded by the limit. */
  #keep(base: Head): KeptCommit[] {
    if (this.#limit === 0 || base.pointer === null) return [];
    const loader = this.#store.loader;
    const statePointer = base.state[ATOM_POINTER];
    const own: KeptCommit = {
      sequence: base.sequence,
      timestamp: base.timestamp,
      stored:
        statePointer !== undefined && base.state[ATOM_LOADER] === loader
          ? new AtomRef<SpaceState>(statePointer, loader)
          : new AtomRef<DeltaRecord>(base.pointer, loader),
      state: base.state,
    };
    return [own, ...base.kept].slice(0, this.#limit);
  }

  /** The commits still readable with `begin({ asOf })`, newest first. */
  list(): CommitInfo[] {
    const head = this.#head;
    const out: CommitInfo[] = [];
    if (head.sequence > 0) out.push({ sequence: head.sequence, timestamp: head.timestamp });
    for (const h of head.kept) out.push({ sequence: h.sequence, timestamp: h.timestamp });
    return out;
  }

  /** The newest state, or the kept state of commit `asOf`; throws `not-found` if it is not kept. */
  snapshot(asOf?: number): Snapshot {
    const head = this.#head;
    if (asOf === undefined || asOf === head.sequence) {
      // One snapshot object per head, shared by the transactions that begin on it.
      const current = this.#current;
      if (current !== undefined && current[0] === head) return current[1];
      const snapshot: Snapshot = {
        sequence: head.sequence,
        timestamp: head.timestamp,
        state: head.state,
        anchor: head.state[ATOM_POINTER] ?? head.pointer ?? undefined,
      };
      this.#current = [head, snapshot];
      return snapshot;
    }
    const entry = head.kept.find((h) => h.sequence === asOf);
    if (entry === undefined) {
      const kept = this.list().map((h) => h.sequence);
      throw new TransactionError({
        layer: 'atom',
        reason: 'not-found',
        message: `commit ${asOf} is not kept (kept: ${kept.length > 0 ? kept.join(', ') : 'none'}); raise historyLimit to keep more`,
      });
    }
    return {
      sequence: entry.sequence,
      timestamp: entry.timestamp,
      state: entry.state ?? this.#rebuild(entry.stored),
      anchor: entry.stored.pointer,
    };
  }

  /** The state `stored` names: a stored state, or a delta record's chain replayed on its checkpoint. */
  #rebuild(stored: AtomRef<SpaceState | DeltaRecord>): SpaceState {
    const atom = stored.get();
    if (atom instanceof SpaceState) return atom;
    const chain: DeltaRecord[] = [];
    let record: Atom = atom;
    while (record instanceof DeltaRecord) {
      chain.push(record);
      record = record.base.get();
    }
    if (!(record instanceof CommitRecord)) throw broken(this.#store.backend.name);
    let state = resolveSlot(record.state);
    for (let i = chain.length - 1; i >= 0; i--)
      state = applyChanges(state, (chain[i] as DeltaRecord).changes);
    return state;
  }

  async #load(pointer: AtomPointer): Promise<CommitRecord | DeltaRecord> {
    const record = await this.#store.load(pointer);
    if (!(record instanceof CommitRecord) && !(record instanceof DeltaRecord)) {
      throw new StorageError({
        layer: 'atom',
        reason: 'corrupt',
        message: `the root of ${this.#store.backend.name} is a '${record.atomType}' atom, not a ProtoBase commit; this location was not written by ProtoBase`,
      });
    }
    return record;
  }
}

function broken(name: string): StorageError {
  return new StorageError({
    layer: 'atom',
    reason: 'corrupt',
    message: `the chain of delta commits in ${name} is broken (a sequence number skipped, or no checkpoint at its end); the location is damaged or was not written by ProtoBase`,
  });
}
