/**
 * Live queries: a query over a root of a database (`from(db, root)`) kept current as commits
 * change that root, updated from each commit's diff rather than run again.
 *
 * A live query holds a window: the first rows of the query's order (the sort keys, then the
 * primary key) among the records that match its filter, at least `offset + limit` of them when
 * the query has a limit (all matches when not). For each commit that changes the root, only
 * the records in the root's diff are looked at: each one's old version leaves the window, its
 * new version enters it when it matches and sorts before the window's end (or the window holds
 * every match). When the window has lost rows past the ones it can prove are next, it is
 * filled again by running the query once (`stats().refills`). The rows shown are the window's
 * `offset .. offset + limit`; an update says which of them entered, left or changed.
 *
 * A live query supports the steps the optimizer plans together (`where`, `orderBy`,
 * `offset`, `limit`), then any `select` / `pick`, over a root holding an `IndexedCollection`
 * or a `Dictionary`. Anything else is an `invalid-argument` error naming the step.
 */
import type { Database, RootDiff, Subscription } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import { compile, type Test } from './compile.js';
import { invalidArgument, queryError } from './errors.js';
import type { ExprNode } from './expr.js';
import { IndexedCollection } from './indexed-collection.js';
import { leadingSteps, type Step } from './plan/build.js';
import type { SortKey } from './plan/sort.js';
import { canonical, compareValues } from './values.js';

/** What a live query delivers: first its rows, then after each commit that changed them. */
export interface LiveUpdate<T> {
  /** The commit these rows are as of. */
  readonly sequence: number;
  /** The rows now, in the query's order. */
  readonly rows: readonly T[];
  /** Rows now shown that were not before (every row, in the first update). */
  readonly entered: readonly T[];
  /** Rows no longer shown (their last shown version). */
  readonly left: readonly T[];
  /** Rows shown before and now whose record changed. */
  readonly changed: readonly { readonly before: T; readonly after: T }[];
}

/** Options of `query.live()`. */
export interface LiveOptions {
  /** Called with the error of a callback, or of the change feed (which ends the live query). */
  readonly onError?: (error: unknown) => void;
}

/** Counters of a live query. */
export interface LiveStats {
  /** Commits that changed the root. */
  readonly commits: number;
  /** Records looked at, from the commits' diffs. */
  readonly records: number;
  /** Times the query ran in full: the first rows, a replaced root, a window filled again. */
  readonly refills: number;
  /** Milliseconds spent keeping the rows current (the diffs and the window; not the callback). */
  readonly updateMs: number;
}

/**
 * A running live query. With a callback, it calls it with each update; without, it is an async
 * iterator of updates, and a consumer that falls behind gets one update covering the commits it
 * missed. `close()` (or `break` out of `for await`) stops it.
 */
export interface LiveQuery<T> extends AsyncIterableIterator<LiveUpdate<T>> {
  /** The rows as of the newest commit seen. */
  readonly rows: readonly T[];
  /** That commit's sequence. */
  readonly sequence: number;
  /** False once closed. */
  readonly active: boolean;
  stats(): LiveStats;
  close(): void;
}

/** A query's source that names a root of a database (see `from(db, root)`). */
export class RootSource {
  constructor(
    readonly database: Database,
    readonly root: string,
  ) {}

  /** The root's value in the newest commit, and that commit's sequence. */
  read(): { value: unknown; sequence: number } {
    return this.database.read((tx) => ({ value: tx.get(this.root), sequence: tx.sequence }));
  }

  /** The value as a query source; `not-found` when the root does not exist. */
  static sourceOf(value: unknown, root: string, database: string): unknown {
    if (value === undefined)
      queryError(
        'not-found',
        `root '${root}' does not exist in database '${database}'; create it before querying it`,
      );
    return value;
  }
}

interface Entry {
  readonly key: Key;
  readonly id: string;
  readonly row: unknown;
  readonly sort: readonly unknown[];
}

/** What a live query is made of: the planned prefix of its steps and its projections. */
interface Shape {
  readonly preds: readonly ExprNode[];
  readonly test: Test;
  readonly order: readonly SortKey[];
  /** Rows shown: window positions `start .. end`. */
  readonly start: number;
  readonly end: number;
  readonly project: readonly ((row: unknown) => unknown)[];
}

function shapeOf(steps: readonly Step[]): Shape {
  const { preds, order, next } = leadingSteps(steps);
  let i = next;
  let start = 0;
  let end = Number.POSITIVE_INFINITY;
  for (; i < steps.length; i++) {
    const s = steps[i] as Step;
    if (s.kind === 'offset') start = Math.min(end, start + s.n);
    else if (s.kind === 'limit') end = Math.min(end, start + s.n);
    else break;
  }
  const project: ((row: unknown) => unknown)[] = [];
  for (; i < steps.length; i++) {
    const s = steps[i] as Step;
    if (s.kind !== 'select')
      invalidArgument(
        `live() keeps where / orderBy / offset / limit and then select or pick up to date; this query has ${s.kind} at step ${i + 1}`,
      );
    project.push(s.fn);
  }
  const tests = preds.map(compile);
  const test: Test = (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
  return { preds, test, order, start, end, project };
}

function checkSource(value: unknown, root: string): void {
  if (value !== undefined && !(value instanceof IndexedCollection) && !(value instanceof Dictionary))
    invalidArgument(
      `live() needs root '${root}' to hold an IndexedCollection or a Dictionary, not ${value === null ? 'null' : typeof value}`,
    );
}

/** Builds a query over `source` with the planned prefix; supplied by `query.ts` (it owns `Query`). */
export type PlanRunner = (
  source: unknown,
  steps: readonly Step[],
) => { next(): boolean; key: unknown; value: unknown };

/** The window and its upkeep. */
class Window {
  readonly #shape: Shape;
  readonly #run: PlanRunner;
  /** Rows kept: `end` plus some slack when the query has a limit. */
  readonly #capacity: number;
  #entries: Entry[] = [];
  #ids = new Map<string, Entry>();
  /** True when the window holds every matching record. */
  #complete = true;
  stats = { commits: 0, records: 0, refills: 0, updateMs: 0 };

  constructor(shape: Shape, run: PlanRunner) {
    this.#shape = shape;
    this.#run = run;
    this.#capacity = Number.isFinite(shape.end) ? shape.end * 2 + 16 : Number.POSITIVE_INFINITY;
  }

  #entry(key: Key, row: unknown): Entry {
    return { key, id: canonical(key), row, sort: this.#shape.order.map((k) => k.get(row)) };
  }

  #compare(a: Entry, b: Entry): number {
    const order = this.#shape.order;
    for (let k = 0; k < order.length; k++) {
      const c = compareValues(a.sort[k], b.sort[k]);
      if (c !== 0) return (order[k] as SortKey).desc ? -c : c;
    }
    return compareValues(a.key, b.key);
  }

  /** The position `e` has (or would have) in the window. */
  #position(e: Entry): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#compare(this.#entries[mid] as Entry, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Runs the query on `source` for the first `capacity` rows. */
  fill(source: unknown): void {
    this.stats.refills++;
    this.#entries = [];
    this.#ids = new Map();
    if (source === undefined) {
      this.#complete = true;
      return;
    }
    const steps: Step[] = [
      ...this.#shape.preds.map((expr) => ({ kind: 'where', expr }) as const),
      ...this.#shape.order.map((key) => ({ kind: 'orderBy', key }) as const),
    ];
    if (Number.isFinite(this.#capacity)) steps.push({ kind: 'limit', n: this.#capacity });
    const c = this.#run(source, steps);
    while (c.next()) {
      const e = this.#entry(c.key as Key, c.value);
      this.#entries.push(e);
      this.#ids.set(e.id, e);
    }
    this.#complete = this.#entries.length < this.#capacity;
  }

  /** Applies one commit's diff of the root; returns the ids of the records it touched. */
  apply(diff: RootDiff): Set<string> {
    this.stats.commits++;
    const touched = new Set<string>();
    const older = diff.oldValue;
    const newer = diff.newValue;
    const sameKind =
      (older instanceof IndexedCollection && newer instanceof IndexedCollection) ||
      (older instanceof Dictionary && newer instanceof Dictionary);
    if (!sameKind) {
      checkSource(newer, '(the root)');
      for (const e of this.#entries) touched.add(e.id);
      this.fill(newer);
      return touched;
    }
    for (const change of diff.entries()) {
      this.stats.records++;
      const key = change.key as Key;
      const id = canonical(key);
      touched.add(id);
      const old = this.#ids.get(id);
      if (old !== undefined) {
        this.#entries.splice(this.#position(old), 1);
        this.#ids.delete(id);
      }
      const row = change.newValue;
      if (row === undefined || !this.#shape.test(row)) continue;
      const e = this.#entry(key, row);
      const last = this.#entries.at(-1);
      if (this.#complete || (last !== undefined && this.#compare(e, last) < 0)) {
        this.#entries.splice(this.#position(e), 0, e);
        this.#ids.set(id, e);
      }
    }
    if (this.#entries.length > this.#capacity) {
      for (const e of this.#entries.splice(this.#capacity)) this.#ids.delete(e.id);
      this.#complete = false;
    }
    // Rows past the window's end may now be among the rows shown: run the query again.
    if (!this.#complete && this.#entries.length < this.#shape.end) this.fill(newer);
    return touched;
  }

  /** The entries shown. */
  shown(): Entry[] {
    const end = Math.min(this.#shape.end, this.#entries.length);
    return this.#entries.slice(this.#shape.start, end);
  }
}

/** Starts a live query (see `Query.live`). */
export function startLive<T>(
  source: RootSource,
  steps: readonly Step[],
  run: PlanRunner,
  callback: ((update: LiveUpdate<T>) => void) | undefined,
  options: LiveOptions,
): LiveQuery<T> {
  if (callback !== undefined && typeof callback !== 'function')
    invalidArgument('live() takes a callback function');
  if (options.onError !== undefined && typeof options.onError !== 'function')
    invalidArgument('live(): onError must be a function');
  const shape = shapeOf(steps);
  const project = (row: unknown) => shape.project.reduce((r, fn) => fn(r), row) as T;
  const { value, sequence: start } = source.read();
  RootSource.sourceOf(value, source.root, source.database.name);
  checkSource(value, source.root);
  const window = new Window(shape, run);
  window.fill(value);

  let sequence = start;
  let shown: Entry[] = [];
  let touched = new Set<string>();
  /** The state as of the last update given to the consumer. */
  let delivered: Entry[] = [];
  let deliveredSequence = -1;
  let closed = false;
  let waiter: (() => void) | undefined;
  let failure: unknown;

  const report = (error: unknown) => {
    if (options.onError !== undefined) options.onError(error);
    else if (callback !== undefined)
      process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'ProtoBaseLiveQuery');
  };

  /** The update from what was delivered last to the window now, or undefined when nothing shown changed. */
  const pending = (): LiveUpdate<T> | undefined => {
    const before = new Map(delivered.map((e) => [e.id, e]));
    const now = shown;
    const entered: T[] = [];
    const changed: { before: T; after: T }[] = [];
    let moved = now.length !== delivered.length;
    for (let i = 0; i < now.length; i++) {
      const e = now[i] as Entry;
      const was = before.get(e.id);
      if (was === undefined) entered.push(project(e.row));
      else {
        before.delete(e.id);
        if (touched.has(e.id)) changed.push({ before: project(was.row), after: project(e.row) });
      }
      if (!moved && (delivered[i] as Entry).id !== e.id) moved = true;
    }
    const left = [...before.values()].map((e) => project(e.row));
    if (deliveredSequence >= 0 && entered.length === 0 && left.length === 0 && changed.length === 0 && !moved)
      return undefined;
    delivered = now;
    deliveredSequence = sequence;
    touched = new Set();
    return { sequence, rows: now.map((e) => project(e.row)), entered, left, changed };
  };

  const deliver = () => {
    if (callback === undefined) {
      const w = waiter;
      waiter = undefined;
      w?.();
      return;
    }
    const update = pending();
    if (update === undefined) return;
    try {
      callback(update);
    } catch (error) {
      report(error);
    }
  };

  let subscription: Subscription | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    subscription?.close();
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const fail = (error: unknown) => {
    failure = error;
    close();
    report(error);
  };

  shown = window.shown();
  subscription = source.database.subscribe(
    (change) => {
      if (closed) return;
      const diff = change.roots[0];
      if (diff === undefined) return;
      const t0 = performance.now();
      try {
        for (const id of window.apply(diff)) touched.add(id);
      } catch (error) {
        fail(error);
        return;
      }
      sequence = change.sequence;
      shown = window.shown();
      window.stats.updateMs += performance.now() - t0;
      deliver();
    },
    { roots: [source.root], onError: (error) => fail(error) },
  );
  if (callback !== undefined) deliver();

  const live: LiveQuery<T> = {
    get rows() {
      return shown.map((e) => project(e.row));
    },
    get sequence() {
      return sequence;
    },
    get active() {
      return !closed;
    },
    stats: () => ({ ...window.stats }),
    close,
    async next(): Promise<IteratorResult<LiveUpdate<T>>> {
      if (callback !== undefined) invalidArgument('a live query with a callback is not also an iterator');
      for (;;) {
        if (failure !== undefined && options.onError === undefined) {
          const error = failure;
          failure = undefined;
          throw error;
        }
        if (closed) return { done: true, value: undefined };
        const update = pending();
        if (update !== undefined) return { done: false, value: update };
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<LiveUpdate<T>>> {
      close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return live;
}
