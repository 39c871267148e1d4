/**
 * Change feeds: what a database's subscribers are told after each commit.
 *
 * Guarantees, for one subscription:
 * 1. Order and once: every commit after the subscription's start that changed the database
 *    (or, with `roots`, one of those roots) is delivered exactly once, in commit order, with
 *    its sequence and the diff from the commit before it. Commits of this space and, on a
 *    backend other processes write to (`capabilities.multiProcess`), commits of other
 *    processes, noticed through the backend's `watchRoot`.
 * 2. After durability: a commit is delivered once it is durable and readable by new
 *    transactions, never before; delivery never runs inside the committing transaction.
 * 3. Back-pressure: a subscriber holds at most `buffer` undelivered commits. Past that it stops
 *    buffering and, once it has caught up, reads the commits it skipped back from the kept
 *    history (`historyLimit`); a commit no longer kept ends the subscription with a
 *    `ChangeFeedError` (reason `not-found`) saying which commit is missing, never a silent gap.
 * 4. No busy loop: a space with no subscription watches nothing.
 */
import type { RootDiff } from './diff.js';
import { ProtoError } from './errors.js';

/** One commit as a database's subscribers see it. */
export interface Change {
  readonly database: string;
  /** The commit's sequence number (`space.history()`). */
  readonly sequence: number;
  /** When it was committed (ms since the epoch). */
  readonly timestamp: number;
  /** The roots it changed (only the subscribed ones with `roots`), sorted by name, with their diffs. */
  readonly roots: readonly RootDiff[];
}

/** Options of `db.subscribe` and `db.changes`; `Name` is the root names of a database with declared roots. */
export interface FeedOptions<Name extends string = string> {
  /** Only commits that change one of these roots, and only their diffs. */
  readonly roots?: readonly Name[];
  /** Undelivered commits held before the subscriber resumes from the history (default 1,000). */
  readonly buffer?: number;
}

/** Options of `db.subscribe`. */
export interface SubscribeOptions<Name extends string = string> extends FeedOptions<Name> {
  /**
   * Called with an error a listener threw (delivery goes on with the next commit), with the
   * `ChangeFeedError` of a gap, or with the error of reading another process's commits (both
   * end the subscription). Without it such errors are reported with `process.emitWarning`.
   */
  readonly onError?: (error: unknown) => void;
}

/** Options of `db.changes`. */
export interface ChangesOptions<Name extends string = string> extends FeedOptions<Name> {
  /**
   * Start after this commit (it and the ones after it must still be kept, see
   * `space.history()`); default: the newest commit when `changes()` is called.
   */
  readonly since?: number;
}

/** A live subscription; `close()` stops it (idempotent). */
export interface Subscription {
  close(): void;
  /** False once closed (by `close()`, a gap, or the space closing). */
  readonly active: boolean;
}

/** The commits of a database as an async iterator (`for await`); `close()` or `break` ends it. */
export interface ChangeStream extends AsyncIterableIterator<Change>, Subscription {}

/** A subscriber missed commits that the history no longer holds. */
export class ChangeFeedError extends ProtoError {}
