/**
 * Checkpoints written in the background. Between checkpoints a commit writes only a delta
 * record, and the tree nodes it changed stay unwritten until the next checkpoint writes them
 * all: on a large tree that is up to a few seconds of one group's work, in the commit path,
 * which every commit queued behind it waits for. When a checkpoint falls due, this writer
 * instead takes the state of that moment (a snapshot: its nodes never change) and writes its
 * unwritten nodes bottom up (`writeAhead`), in slices of about `SLICE_BYTES` with a turn of the
 * event loop between them, while commits go on as delta records. Once the snapshot is written,
 * the next group is written as the checkpoint: its state shares every node the commits since
 * did not change, so it writes only those. When those commits changed much (over a sixteenth
 * of the interval), another pass writes the newer state first, up to `MAX_PASSES`.
 *
 * The nodes it writes are unreachable until that checkpoint refers to them (a crash discards
 * them, like atoms written for a commit that never happened). A checkpoint asked for
 * (`checkpoint()`, `close()`) or overdue (twice the interval) is written at once, with what the
 * writer stored so far. A failed slice ends the pass (counted in `aheadFailures`): the
 * checkpoint is then written in the commit path, which reports a lasting failure through its
 * commit. Only for checkpoints that fall due after at least `MIN_COMMITS` delta records (the
 * default policy's 10,000 do): after fewer, few nodes changed, and the checkpoint is written as it
 * falls due (as it is when large values reach the byte bound first: each changed one is written
 * with its delta record already, and a pass would only write the leaves twice).
 */
import type { AtomPointer } from '../storage/backend.js';
import type { CheckpointPolicy, Head } from './history.js';
import { type AtomSink, writeAhead } from './persist.js';

/** Encoded bytes written per slice (one backend call). */
export const SLICE_BYTES = 128 * 1024;
/** The fewest delta records since the last checkpoint for a due one to be written in the background. */
export const MIN_COMMITS = 5_000;

/** The sequence of the checkpoint a head's chain of delta records starts from. */
function checkpointOf(head: Head): number {
  return head.sequence - head.deltas;
}

/** Passes over a snapshot before the checkpoint is written regardless. */
export const MAX_PASSES = 3;

/** One pass: the head whose state it writes, which pass since the checkpoint, how it ended. */
interface Pass {
  readonly from: Head;
  readonly number: number;
  done: Promise<void>;
  finished: boolean;
  failed: boolean;
}

/** What the writer did (see `SpaceStats`). */
export interface AheadStats {
  readonly atomsWrittenAhead: number;
  readonly aheadSlices: number;
  readonly aheadFailures: number;
}

/** Decides, for the commit pipeline's record builder, when a due checkpoint is written. */
export interface CheckpointTiming {
  /**
   * Called when a checkpoint is due on `base` by the policy (not asked for, not overdue):
   * true to write it now, false to write a delta record while the background pass runs.
   */
  ready(base: Head): boolean;
  /** Called whenever the head moved (a commit here, or another process's read back). */
  advanced(head: Head): void;
}

export class AheadWriter implements CheckpointTiming {
  readonly #sink: AtomSink;
  readonly #policy: CheckpointPolicy;
  /** The pass under way or done since the last checkpoint. */
  #pass: Pass | undefined;
  /** Bumped at each checkpoint and at close: a pass of an older generation stops. */
  #generation = 0;
  #held = 0;
  #closed = false;
  #atoms = 0;
  #slices = 0;
  #failures = 0;
  /** Pointers written since the last checkpoint. */
  #pending: AtomPointer[] = [];

  constructor(sink: AtomSink, policy: CheckpointPolicy) {
    this.#sink = sink;
    this.#policy = policy;
  }

  stats(): AheadStats {
    return { atomsWrittenAhead: this.#atoms, aheadSlices: this.#slices, aheadFailures: this.#failures };
  }

  ready(base: Head): boolean {
    if (base.deltas < MIN_COMMITS || this.#closed || this.#held > 0) return true;
    const pass = this.#pass;
    if (pass === undefined) {
      this.#start(base, 1);
      return false;
    }
    if (!pass.finished) return false;
    // What the commits during the pass changed is left for the checkpoint: another pass first
    // when that is much (a large tree under heavy writes), up to `MAX_PASSES`.
    const since = base.deltas - pass.from.deltas;
    const sinceBytes = base.deltaBytes - pass.from.deltaBytes;
    if (
      pass.number < MAX_PASSES &&
      !pass.failed &&
      (since * 16 > this.#policy.commits || sinceBytes * 16 > this.#policy.bytes)
    ) {
      this.#start(base, pass.number + 1);
      return false;
    }
    return true;
  }

  /**
   * A checkpoint ends the pass that prepared it, and so does one another process wrote on a
   * shared backend (the head's chain then starts from another checkpoint than the pass's).
   */
  advanced(head: Head): void {
    const pass = this.#pass;
    if (head.deltas === 0 || (pass !== undefined && checkpointOf(head) !== checkpointOf(pass.from)))
      this.#reset();
  }

  #reset(): void {
    this.#generation++;
    this.#pass = undefined;
    this.#pending = [];
  }

  #start(base: Head, number: number): void {
    const generation = this.#generation;
    const pass: Pass = { from: base, number, done: Promise.resolve(), finished: false, failed: false };
    this.#pass = pass;
    pass.done = (async () => {
      try {
        for (;;) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (generation !== this.#generation || this.#held > 0) return;
          const written = await writeAhead(base.state, this.#sink, SLICE_BYTES);
          this.#slices++;
          this.#atoms += written.pointers.length;
          if (generation === this.#generation) for (const p of written.pointers) this.#pending.push(p);
          if (written.pointers.length === 0) return;
        }
      } catch {
        this.#failures++;
        pass.failed = true;
      } finally {
        pass.finished = true;
      }
    })();
  }

  /**
   * Stops writing until the returned function is called, after waiting for the slice under
   * way; for `reclaim`, which must not free what a checkpoint is about to refer to.
   */
  async hold(): Promise<() => void> {
    this.#held++;
    await this.#pass?.done;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held--;
    };
  }

  /** Atoms written since the last checkpoint: what a reclaim keeps. */
  pending(): readonly AtomPointer[] {
    return this.#pending;
  }

  /** Stops for good, after the slice under way. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#generation++;
    await this.#pass?.done;
  }
}
