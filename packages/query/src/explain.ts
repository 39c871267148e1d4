/**
 * `explain()`: the chosen plan as data and as text, the indexes it reads and its row
 * estimates; with `analyze`, the plan is executed and each node reports the rows it produced.
 */
import type { PlanInfo } from './plan/node.js';

/** What `explain()` returns. */
export interface Explanation {
  /** The plan tree as data. */
  readonly plan: PlanInfo;
  /** Names of the indexes the plan reads. */
  readonly indexes: readonly string[];
  /** Estimated rows of the whole query. */
  readonly estimatedRows: number;
  /** With `analyze`: rows the query produced. */
  readonly actualRows?: number;
  /** The plan as an indented tree, one node per line. */
  readonly text: string;
}

/** Options of `explain()`. */
export interface ExplainOptions {
  /** Execute the query and report actual rows per node. */
  readonly analyze?: boolean;
  /** Explain the plan of `count()` instead of the rows. */
  readonly count?: boolean;
}

function lines(node: PlanInfo, prefix: string, childPrefix: string, out: string[]): void {
  const stats =
    node.actualRows === undefined
      ? `(est ${node.estimatedRows})`
      : `(est ${node.estimatedRows}, actual ${node.actualRows})`;
  out.push(`${prefix}${node.node}${node.detail === '' ? '' : ` ${node.detail}`}  ${stats}`);
  const n = node.children.length;
  node.children.forEach((child, i) => {
    const last = i === n - 1;
    lines(child, `${childPrefix}${last ? '└─ ' : '├─ '}`, `${childPrefix}${last ? '   ' : '│  '}`, out);
  });
}

/** Renders a plan as text. */
export function planText(plan: PlanInfo): string {
  const out: string[] = [];
  lines(plan, '', '', out);
  return out.join('\n');
}

/** The index names a plan reads, in plan order, each once. */
export function indexesOf(plan: PlanInfo): string[] {
  const out: string[] = [];
  const walk = (n: PlanInfo) => {
    if (n.index !== undefined && !out.includes(n.index)) out.push(n.index);
    for (const c of n.children) walk(c);
  };
  walk(plan);
  return out;
}

/** Builds the explanation of a plan. */
export function explanation(plan: PlanInfo): Explanation {
  return {
    plan,
    indexes: indexesOf(plan),
    estimatedRows: plan.estimatedRows,
    ...(plan.actualRows === undefined ? {} : { actualRows: plan.actualRows }),
    text: planText(plan),
  };
}
