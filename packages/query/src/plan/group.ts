/**
 * Hash aggregation (`groupBy` with count, sum, avg, min, max).
 */
import { type Accumulator, type Aggregate, finish, updater } from '../aggregate.js';
import { ValueMap } from '../values.js';
import { ArrayCursor, type Cursor, type ExecContext, PlanNode } from './node.js';

/** One named aggregate of a group-by. */
export interface NamedAggregate {
  readonly name: string;
  readonly agg: Aggregate<unknown, unknown>;
}

/**
 * Hash aggregation: rows are grouped by `by(row)` (value equality; `undefined` is a group of its
 * own) and each group becomes `{ key, ...aggregates }` (or `{ key, rows }` without aggregates),
 * in order of first appearance.
 */
export class GroupBy extends PlanNode {
  readonly name = 'GroupBy';
  constructor(
    readonly child: PlanNode,
    readonly by: (row: unknown) => unknown,
    readonly byText: string,
    readonly aggs: readonly NamedAggregate[] | undefined,
  ) {
    super();
  }
  estimate(): number {
    return Math.max(1, Math.sqrt(this.child.estimate()));
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    const aggs =
      this.aggs === undefined ? 'rows' : this.aggs.map((a) => `${a.name}=${a.agg.label}`).join(', ');
    return `${this.byText}: ${aggs}`;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const groups = new ValueMap<number>();
    const keys: unknown[] = [];
    const aggs = this.aggs;
    const by = this.by;
    if (aggs === undefined) {
      const rows: unknown[][] = [];
      while (inner.next()) {
        const k = by(inner.value);
        let g = groups.get(k);
        if (g === undefined) {
          g = keys.length;
          groups.set(k, g);
          keys.push(k);
          rows.push([]);
        }
        (rows[g] as unknown[]).push(inner.value);
      }
      return new ArrayCursor(keys.map((key, i) => ({ key, rows: rows[i] })));
    }
    const na = aggs.length;
    const update = aggs.map((a) => updater(a.agg));
    const groupAccs: Accumulator[][] = [];
    let lastKey: unknown;
    let last: Accumulator[] | undefined;
    while (inner.next()) {
      const row = inner.value;
      const k = by(row);
      let accs: Accumulator[];
      if (last !== undefined && k === lastKey && (typeof k !== 'object' || k === null)) accs = last;
      else {
        let g = groups.get(k);
        if (g === undefined) {
          g = keys.length;
          groups.set(k, g);
          keys.push(k);
          const fresh: Accumulator[] = [];
          for (let a = 0; a < na; a++) fresh.push({ n: 0, sum: 0, best: undefined });
          groupAccs.push(fresh);
        }
        accs = groupAccs[g] as Accumulator[];
        lastKey = k;
        last = accs;
      }
      for (let a = 0; a < na; a++)
        (update[a] as (acc: Accumulator, row: unknown) => void)(accs[a] as Accumulator, row);
    }
    const out = keys.map((key, g) => {
      const row: Record<string, unknown> = { key };
      const accs = groupAccs[g] as Accumulator[];
      for (let a = 0; a < na; a++) {
        const named = aggs[a] as NamedAggregate;
        row[named.name] = finish(named.agg, accs[a] as Accumulator);
      }
      return row;
    });
    return new ArrayCursor(out);
  }
}
