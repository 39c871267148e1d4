/**
 * The plan tree: physical operators with a lazy, allocation-light execution model. A node's
 * `open()` returns a cursor (`next()` moves, `key`/`value` hold the current row); cursors pull
 * from their children only as far as they are pulled, so a limit stops the whole pipeline and
 * an index range walk never reads past the rows it hands out.
 *
 * Rows carry a `key`: the primary key for rows of a collection (array index for arrays,
 * dictionary key for dictionaries), kept through filters and projections; it identifies rows
 * for OR-merges and breaks ties in sorts. Rows made by joins and groups have no key.
 */

/** A position in a stream of rows. */
export interface Cursor {
  /** Moves to the next row; false when there is none. */
  next(): boolean;
  /** The row's identity (see the module comment); `undefined` when it has none. */
  readonly key: unknown;
  readonly value: unknown;
}

/** Per-execution state: with `analyze`, rows are counted per node. */
export class ExecContext {
  /** With `analyze`: rows produced per node. */
  readonly actual: Map<PlanNode, number> | undefined;
  constructor(readonly analyze = false) {
    this.actual = analyze ? new Map() : undefined;
  }
}

/** The plan as data, as `explain()` returns it. */
export interface PlanInfo {
  /** The operator, e.g. `IndexRangeScan`. */
  readonly node: string;
  /** Its arguments in readable form: the index and range, the predicate, the sort keys ... */
  readonly detail: string;
  /** The index it reads, if any. */
  readonly index?: string;
  readonly estimatedRows: number;
  /** With `analyze`: the rows it produced. */
  readonly actualRows?: number;
  readonly children: readonly PlanInfo[];
}

class CountingCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly ctx: ExecContext,
    private readonly node: PlanNode,
  ) {
    const actual = ctx.actual as Map<PlanNode, number>;
    actual.set(node, actual.get(node) ?? 0);
  }
  next(): boolean {
    if (!this.inner.next()) return false;
    this.key = this.inner.key;
    this.value = this.inner.value;
    const actual = this.ctx.actual as Map<PlanNode, number>;
    actual.set(this.node, (actual.get(this.node) ?? 0) + 1);
    return true;
  }
}

/** Base class of plan operators. */
export abstract class PlanNode {
  /** The operator's name, as `explain()` shows it. */
  abstract readonly name: string;
  /** Estimated number of rows this node produces. */
  abstract estimate(): number;
  /** Opens a cursor over this node's rows (children are opened with `run`). */
  abstract open(ctx: ExecContext): Cursor;

  /** The node's inputs. */
  children(): readonly PlanNode[] {
    return [];
  }

  /** Its arguments in readable form. */
  detail(): string {
    return '';
  }

  /** The index it reads, if any. */
  indexName(): string | undefined {
    return undefined;
  }

  /** True when rows come out ordered by the primary key (ties in sorts need no extra work). */
  keyOrdered(): boolean {
    return false;
  }

  /** Opens this node, counting its rows when the context analyzes. */
  run(ctx: ExecContext): Cursor {
    const c = this.open(ctx);
    return ctx.analyze ? new CountingCursor(c, ctx, this) : c;
  }

  /** Executes lazily: rows are produced as the iterator is pulled. */
  *execute(ctx: ExecContext = new ExecContext()): Generator<unknown, void, undefined> {
    const c = this.run(ctx);
    while (c.next()) yield c.value;
  }

  /** The plan below this node as data. */
  info(ctx?: ExecContext): PlanInfo {
    const index = this.indexName();
    const actual = ctx?.actual?.get(this);
    return {
      node: this.name,
      detail: this.detail(),
      ...(index === undefined ? {} : { index }),
      estimatedRows: Math.round(this.estimate()),
      ...(actual === undefined ? {} : { actualRows: actual }),
      children: this.children().map((c) => c.info(ctx)),
    };
  }
}

/** A cursor over nothing. */
export const EMPTY_CURSOR: Cursor = { next: () => false, key: undefined, value: undefined };

/** A cursor over a JS array of values (keys are positions unless given). */
export class ArrayCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  #i = -1;
  constructor(
    private readonly values: readonly unknown[],
    private readonly keys?: readonly unknown[],
  ) {}
  next(): boolean {
    const i = ++this.#i;
    if (i >= this.values.length) return false;
    this.value = this.values[i];
    this.key = this.keys === undefined ? i : this.keys[i];
    return true;
  }
}
