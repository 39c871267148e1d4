/**
 * The change feed of an object space: the subscriptions of its databases, told of every
 * commit the head moves through (`History.observer`), each with its own bounded queue of
 * changes, delivered in order by a listener loop (`subscribe`) or pulled by an async iterator
 * (`changes`). A subscriber that falls behind by more than its buffer, or misses commits the
 * head skipped, reads them back from the kept history; see `changes.ts` for the guarantees.
 */
import {
  type Change,
  ChangeFeedError,
  type ChangeStream,
  type ChangesOptions,
  type FeedOptions,
  type SubscribeOptions,
  type Subscription,
} from '../changes.js';
import { diffDatabases } from '../diff.js';
import { TransactionError } from '../errors.js';
import type { DatabaseState } from '../state.js';
import type { Step } from './history.js';
import { type Misses, newMisses } from './store.js';

/** What the feed needs from its space. */
export interface FeedHost {
  /** The newest commit: where a new subscription starts. */
  head(): Step;
  /** Commit `sequence` while it is kept (the head included), else undefined. */
  kept(sequence: number): Step | undefined;
  /** The oldest commit kept. */
  oldest(): number;
  /** Starts noticing other processes' commits (the first subscription); returns how to stop. */
  watch(): () => void;
  /** False for a backend without synchronous reads: changes are then worked out when taken. */
  readonly syncReads: boolean;
  /** After a `not-loaded` read: loads the atom it names, held in `misses`; false for any other error. */
  loadMissing(error: unknown, misses: Misses): Promise<boolean>;
  /** Ends what `loadMissing` held. */
  release(misses: Misses): void;
  /** Runs `fn` so that its misses throw `not-loaded` (to be loaded and run again) rather than block. */
  rerunnable<T>(fn: () => T): T;
  /** Runs `fn` so that its misses block where the backend can, even when called from a `rerunnable` call. */
  blocking<T>(fn: () => T): T;
}

/**
 * A commit queued on a backend without synchronous reads: its change is worked out when it is
 * taken, where what it reads can be loaded.
 */
interface Deferred {
  readonly older: Step;
  readonly newer: Step;
}

const DEFAULT_BUFFER = 1000;

/** One subscription: its position in the history and its queue of undelivered changes. */
abstract class Subscriber implements Subscription {
  readonly #feed: ChangeFeed;
  readonly #database: string;
  readonly #roots: ReadonlySet<string> | undefined;
  readonly #buffer: number;
  /** The last commit offered (queued, skipped as unchanged, or left to resume). */
  #seen: number;
  /** The database in commit `#seen` (kept up on backends with synchronous reads). */
  #base: DatabaseState | undefined;
  /** Commit `#seen` itself. */
  #baseStep: Step;
  #queue: (Change | Deferred)[] = [];
  /** The first commit to read back from the history once the queue is delivered. */
  #resumeFrom: number | undefined = undefined;
  /** The last commit read back: the older side of the next one (each kept state is read once). */
  #resumed: Step | undefined = undefined;
  #closed = false;
  /** Set when the space closes: deliver what is queued, then close. */
  #ending = false;

  constructor(feed: ChangeFeed, database: string, options: FeedOptions, start: Step) {
    this.#feed = feed;
    this.#database = database;
    this.#roots = options.roots === undefined ? undefined : new Set(options.roots);
    this.#buffer = options.buffer ?? DEFAULT_BUFFER;
    this.#seen = start.sequence;
    this.#baseStep = start;
    this.#base = feed.host.syncReads ? start.state.database(database) : undefined;
  }

  get active(): boolean {
    return !this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#feed.remove(this);
    this.wake();
  }

  /** The space is closing: no more commits; what is queued is still delivered. */
  end(): void {
    this.#ending = true;
    this.wake();
  }

  /** Starts after commit `after` instead: the commits since are read back from the history. */
  rewind(after: number): void {
    if (after < this.#seen) this.#resumeFrom = after + 1;
  }

  /** A commit the head moved through. */
  offer(step: Step): void {
    if (this.#closed || this.#ending || step.sequence <= this.#seen) return;
    if (this.#resumeFrom === undefined && step.sequence !== this.#seen + 1) this.#resumeFrom = this.#seen + 1;
    if (this.#resumeFrom !== undefined) {
      this.#seen = step.sequence;
      this.#baseStep = step;
      return;
    }
    if (!this.#feed.host.syncReads) {
      const older = this.#baseStep;
      this.#seen = step.sequence;
      this.#baseStep = step;
      if (this.#queue.length >= this.#buffer) {
        this.#resumeFrom = step.sequence;
        return;
      }
      this.#queue.push({ older, newer: step });
      this.wake();
      return;
    }
    const newer = step.state.database(this.#database);
    const change = this.#change(step, this.#base, newer);
    this.#seen = step.sequence;
    this.#base = newer;
    this.#baseStep = step;
    if (change === undefined) return;
    if (this.#queue.length >= this.#buffer) {
      this.#resumeFrom = step.sequence;
      return;
    }
    this.#queue.push(change);
    this.wake();
  }

  #change(
    step: Step,
    older: DatabaseState | undefined,
    newer: DatabaseState | undefined,
  ): Change | undefined {
    if (older === newer) return undefined;
    const roots = diffDatabases(older, newer, this.#roots);
    if (roots.length === 0) return undefined;
    return { database: this.#database, sequence: step.sequence, timestamp: step.timestamp, roots };
  }

  /**
   * The next change to deliver, or undefined when there is none yet. Throws a
   * `ChangeFeedError` when a commit to read back is no longer kept.
   */
  async take(): Promise<Change | undefined> {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued !== undefined) {
        if (!('older' in queued)) return queued;
        const change = await this.#worked(() =>
          this.#change(
            queued.newer,
            queued.older.state.database(this.#database),
            queued.newer.state.database(this.#database),
          ),
        );
        if (change !== undefined) return change;
        continue;
      }
      const from = this.#resumeFrom;
      if (this.#ending) this.close();
      if (from === undefined || this.#closed) return undefined;
      const previous = this.#resumed;
      const older = previous?.sequence === from - 1 ? previous : this.#feed.host.kept(from - 1);
      const newer = this.#feed.host.kept(from);
      this.#resumed = newer;
      if (older === undefined || newer === undefined) throw gap(this.#database, from, this.#feed.host);
      let state: DatabaseState | undefined;
      const change = await this.#worked(() => {
        state = newer.state.database(this.#database);
        return this.#change(newer, older.state.database(this.#database), state);
      });
      if (from >= this.#seen) {
        this.#resumeFrom = undefined;
        this.#resumed = undefined;
        this.#base = state;
        this.#baseStep = newer;
      } else {
        this.#resumeFrom = from + 1;
      }
      if (change !== undefined) return change;
    }
  }

  /**
   * `compute()`'s change. On a backend without synchronous reads, what it reads is loaded as it
   * misses (and `compute` runs again), and the change's entries are read out while loaded, so
   * the listener's `entries()` needs no storage.
   */
  async #worked(compute: () => Change | undefined): Promise<Change | undefined> {
    const host = this.#feed.host;
    if (host.syncReads) return compute();
    const misses = newMisses();
    try {
      for (;;) {
        try {
          const change = host.rerunnable(() => {
            const computed = compute();
            if (computed === undefined) return undefined;
            const roots = computed.roots.map((r) => {
              const entries = [...r.entries()];
              return { ...r, entries: () => entries };
            });
            return { ...computed, roots };
          });
          return change;
        } catch (error) {
          if (!(await host.loadMissing(error, misses))) throw error;
        }
      }
    } finally {
      if (misses.held.size > 0) host.release(misses);
    }
  }

  /** Something may be ready to take (or the subscription closed). */
  abstract wake(): void;
  /** The feed failed (another process's commits could not be read): end with `error`. */
  abstract fail(error: unknown): void;
}

/** A `subscribe` listener, called once per change in order, each awaited before the next. */
class ListenerSubscriber extends Subscriber {
  readonly #listener: (change: Change) => unknown;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #host: FeedHost;
  #running = false;

  constructor(
    feed: ChangeFeed,
    database: string,
    listener: (change: Change) => unknown,
    options: SubscribeOptions,
    start: Step,
  ) {
    super(feed, database, options, start);
    this.#listener = listener;
    this.#onError = options.onError;
    this.#host = feed.host;
  }

  wake(): void {
    if (this.#running || !this.active) return;
    this.#running = true;
    // The listener is the subscriber's code, not part of the commit that woke it (which may run
    // inside a `transact` function): what it reads blocks where the backend can, as anywhere
    // outside `transact`.
    queueMicrotask(() => void this.#host.blocking(() => this.#deliver()));
  }

  fail(error: unknown): void {
    if (!this.active) return;
    this.close();
    this.#report(error);
  }

  async #deliver(): Promise<void> {
    try {
      while (this.active) {
        let change: Change | undefined;
        try {
          change = await this.take();
        } catch (error) {
          this.fail(error);
          return;
        }
        if (change === undefined) return;
        try {
          await this.#listener(change);
        } catch (error) {
          this.#report(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #report(error: unknown): void {
    if (this.#onError !== undefined) {
      try {
        this.#onError(error);
        return;
      } catch (thrown) {
        error = thrown;
      }
    }
    process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'ProtoBaseChangeFeed');
  }
}

/** A `changes()` iterator: changes wait in the queue until pulled. */
class StreamSubscriber extends Subscriber implements ChangeStream {
  #waiter: (() => void) | undefined = undefined;
  #error: unknown = undefined;

  wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  fail(error: unknown): void {
    if (!this.active) return;
    this.#error = error;
    this.close();
  }

  async next(): Promise<IteratorResult<Change>> {
    for (;;) {
      if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined;
        throw error;
      }
      if (!this.active) return { done: true, value: undefined };
      let change: Change | undefined;
      try {
        change = await this.take();
      } catch (error) {
        this.close();
        throw error;
      }
      if (change !== undefined) return { done: false, value: change };
      if (!this.active) continue;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<Change>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** The subscriptions of one space. */
export class ChangeFeed {
  readonly host: FeedHost;
  readonly #subscribers = new Set<Subscriber>();
  #stopWatching: (() => void) | undefined = undefined;

  constructor(host: FeedHost) {
    this.host = host;
  }

  /** True while some subscription is active: the history must then tell the feed of every commit. */
  get observed(): boolean {
    return this.#subscribers.size > 0;
  }

  subscribe(
    database: string,
    listener: (change: Change) => unknown,
    options: SubscribeOptions,
  ): Subscription {
    if (typeof listener !== 'function') throw invalid('subscribe() takes a listener function');
    checkFeedOptions(options);
    if (options.onError !== undefined && typeof options.onError !== 'function')
      throw invalid('subscribe(): onError must be a function');
    return this.#add(new ListenerSubscriber(this, database, listener, options, this.host.head()));
  }

  changes(database: string, options: ChangesOptions): ChangeStream {
    checkFeedOptions(options);
    const head = this.host.head();
    const since = options.since;
    if (since !== undefined) {
      if (!Number.isSafeInteger(since) || since < 0)
        throw invalid(`changes(): since must be a commit sequence number, got ${String(since)}`);
      if (since > head.sequence)
        throw invalid(`changes(): since ${since} is after the newest commit ${head.sequence}`);
    }
    const start = since === undefined ? head : this.host.kept(since);
    if (start === undefined) throw gap(database, (since as number) + 1, this.host);
    const stream = new StreamSubscriber(this, database, options, head);
    if (since !== undefined) stream.rewind(since);
    return this.#add(stream);
  }

  #add<S extends Subscriber>(subscriber: S): S {
    this.#subscribers.add(subscriber);
    if (this.#subscribers.size === 1) this.#stopWatching = this.host.watch();
    return subscriber;
  }

  /** @internal Called by a subscription that closed. */
  remove(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
    const stop = this.#stopWatching;
    this.#stopWatching = undefined;
    stop?.();
  }

  /** The commits the head moved through, oldest first (see `History.observer`). */
  publish(steps: readonly Step[]): void {
    for (const subscriber of this.#subscribers) for (const step of steps) subscriber.offer(step);
  }

  /** Ends every subscription with `error` (another process's commits could not be read). */
  fail(error: unknown): void {
    for (const subscriber of [...this.#subscribers]) subscriber.fail(error);
  }

  /**
   * The space is closing: every subscription delivers what it holds, then ends (iterators
   * finish); watching other processes stops now, whatever the subscriptions still hold.
   */
  close(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.end();
    const stop = this.#stopWatching;
    this.#stopWatching = undefined;
    stop?.();
  }
}

function checkFeedOptions(options: FeedOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('feed options must be an object');
  const { roots, buffer } = options;
  if (
    roots !== undefined &&
    (!Array.isArray(roots) || roots.some((r) => typeof r !== 'string' || r.length === 0))
  )
    throw invalid('roots must be an array of root names');
  if (buffer !== undefined && (!Number.isSafeInteger(buffer) || buffer < 1))
    throw invalid(`buffer must be a positive integer, got ${String(buffer)}`);
}

function gap(database: string, sequence: number, host: FeedHost): ChangeFeedError {
  const newest = host.head().sequence;
  const oldest = host.oldest();
  return new ChangeFeedError({
    layer: 'atom',
    reason: 'not-found',
    message: `a change feed of database '${database}' needs commit ${sequence}, which is no longer kept (kept: ${oldest} to ${newest}); the subscriber fell too far behind: raise historyLimit or the feed's buffer, or start again from the current state`,
    details: { database, sequence, oldest, newest },
  });
}

function invalid(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
}
