/**
 * Normalizing and compiling expressions: NOT is pushed down (De Morgan), AND/OR are flattened,
 * and the tree is compiled once into a closure `(record) => boolean` with fast paths for the
 * common operand types. This is the evaluator every plan's filters use; the oracle tests check
 * it against an independent naive one.
 */
import { forEachElement, valuesEqual } from '@proto/atom';
import { compareKeys, Dictionary } from '@proto/collections';
import { invalidArgument, show } from './errors.js';
import type { Accessor, ExprNode } from './expr.js';
import { getterOf, visitorOf } from './path.js';
import { isKey, keyRank, keysEqual, NOT_A_KEY, RANK_NUMERIC, RANK_STRING, ValueSet } from './values.js';

/** A compiled predicate. */
export type Test = (record: unknown) => boolean;

const TRUE: ExprNode = { op: 'const', value: true };
const FALSE: ExprNode = { op: 'const', value: false };

/** Flattens AND/OR, pushes NOT down to the leaves, folds constants. */
export function normalize(e: ExprNode): ExprNode {
  switch (e.op) {
    case 'and':
    case 'or': {
      const args: ExprNode[] = [];
      const absorbing = e.op === 'or';
      for (const a of e.args) {
        const n = normalize(a);
        if (n.op === 'const') {
          if (n.value === absorbing) return n;
          continue;
        }
        if (n.op === e.op) args.push(...n.args);
        else args.push(n);
      }
      if (args.length === 0) return absorbing ? FALSE : TRUE;
      if (args.length === 1) return args[0] as ExprNode;
      return { op: e.op, args };
    }
    case 'not':
      return negate(e.arg);
    default:
      return e;
  }
}

function negate(e: ExprNode): ExprNode {
  switch (e.op) {
    case 'not':
      return normalize(e.arg);
    case 'and':
      return normalize({ op: 'or', args: e.args.map((a) => ({ op: 'not', arg: a }) as ExprNode) });
    case 'or':
      return normalize({ op: 'and', args: e.args.map((a) => ({ op: 'not', arg: a }) as ExprNode) });
    case 'const':
      return e.value ? FALSE : TRUE;
    default:
      return { op: 'not', arg: e };
  }
}

type ValueTest = (value: unknown) => boolean;

function checkOperand(e: ExprNode & { on: Accessor }, value: unknown): void {
  if (value === undefined) {
    invalidArgument(
      `${e.op} on '${e.on.id}' with undefined; use exists() or isNull() to test for missing values`,
    );
  }
}

/** The test one value must pass for `eq value`. */
export function equalsTest(x: unknown): ValueTest {
  switch (typeof x) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return (v) => v === x;
    case 'number':
      return Number.isNaN(x) ? (v) => typeof v === 'number' && Number.isNaN(v) : (v) => v === x;
    case 'object':
      if (x === null) return (v) => v === null;
      if (isKey(x)) return (v) => typeof v === 'object' && v !== null && keysEqual(v, x);
      return (v) => valuesEqual(v, x);
    default:
      return (v) => valuesEqual(v, x);
  }
}

function rangeTest(op: 'lt' | 'lte' | 'gt' | 'gte', x: unknown, where: string): ValueTest {
  const rank = keyRank(x);
  if (rank === NOT_A_KEY)
    invalidArgument(
      `${where}: ${show(x)} cannot be compared; comparison operands are keys (numbers, strings, Dates, ...)`,
    );
  if (typeof x === 'number' && !Number.isNaN(x)) {
    switch (op) {
      case 'lt':
        return (v) =>
          typeof v === 'number' ? v < x || Number.isNaN(v) : typeof v === 'bigint' && compareKeys(v, x) < 0;
      case 'lte':
        return (v) =>
          typeof v === 'number' ? v <= x || Number.isNaN(v) : typeof v === 'bigint' && compareKeys(v, x) <= 0;
      case 'gt':
        return (v) => (typeof v === 'number' ? v > x : typeof v === 'bigint' && compareKeys(v, x) > 0);
      default:
        return (v) => (typeof v === 'number' ? v >= x : typeof v === 'bigint' && compareKeys(v, x) >= 0);
    }
  }
  if (rank === RANK_STRING) {
    const s = x as string;
    switch (op) {
      case 'lt':
        return (v) => typeof v === 'string' && v < s;
      case 'lte':
        return (v) => typeof v === 'string' && v <= s;
      case 'gt':
        return (v) => typeof v === 'string' && v > s;
      default:
        return (v) => typeof v === 'string' && v >= s;
    }
  }
  const same =
    rank === RANK_NUMERIC
      ? (v: unknown) => typeof v === 'number' || typeof v === 'bigint'
      : (v: unknown) => keyRank(v) === rank;
  switch (op) {
    case 'lt':
      return (v) => same(v) && compareKeys(v, x) < 0;
    case 'lte':
      return (v) => same(v) && compareKeys(v, x) <= 0;
    case 'gt':
      return (v) => same(v) && compareKeys(v, x) > 0;
    default:
      return (v) => same(v) && compareKeys(v, x) >= 0;
  }
}

function elementsContain(v: unknown, test: ValueTest): boolean {
  if (Array.isArray(v)) return forEachElement(v as unknown[], test);
  if (v instanceof Dictionary) {
    for (const e of v.values()) if (test(e)) return true;
    return false;
  }
  return false;
}

/** The test one value must pass for a leaf expression (everything but exists/isNull/and/or/not). */
export function valueTest(e: ExprNode): ValueTest {
  switch (e.op) {
    case 'eq':
      checkOperand(e, e.value);
      return equalsTest(e.value);
    case 'ne': {
      checkOperand(e, e.value);
      const eq = equalsTest(e.value);
      return (v) => v !== undefined && !eq(v);
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return rangeTest(e.op, e.value, e.on.id);
    case 'between': {
      const lo = rangeTest(e.lowInclusive ? 'gte' : 'gt', e.low, e.on.id);
      const hi = rangeTest(e.highInclusive ? 'lte' : 'lt', e.high, e.on.id);
      return (v) => lo(v) && hi(v);
    }
    case 'in': {
      for (const x of e.values) checkOperand(e, x);
      if (e.values.every((x) => typeof x !== 'object' || x === null)) {
        const set = new Set(e.values);
        return (v) => set.has(v);
      }
      const set = new ValueSet();
      for (const x of e.values) set.add(x);
      return (v) => v !== undefined && set.has(v);
    }
    case 'contains': {
      checkOperand(e, e.value);
      const eq = equalsTest(e.value);
      const x = e.value;
      return (v) => (typeof v === 'string' ? typeof x === 'string' && v.includes(x) : elementsContain(v, eq));
    }
    case 'startsWith': {
      const p = e.prefix;
      return (v) => typeof v === 'string' && v.startsWith(p);
    }
    default:
      return invalidArgument(`${e.op} is not a value test`);
  }
}

function accessorTest(on: Accessor, test: ValueTest): Test {
  if (on.kind === 'fn') {
    const fn = on.fn;
    return (r) => test(fn(r));
  }
  if (!on.path.multi) {
    const get = getterOf(on.path);
    return (r) => test(get(r));
  }
  const visit = visitorOf(on.path);
  return (r) => visit(r, test);
}

function readerOf(on: Accessor): (r: unknown) => unknown {
  if (on.kind === 'fn') return on.fn;
  return getterOf(on.path);
}

/** Compiles an expression (normalized or not) into a predicate. */
export function compile(e: ExprNode): Test {
  switch (e.op) {
    case 'const':
      return e.value ? () => true : () => false;
    case 'predicate':
      return e.fn;
    case 'and': {
      const parts = e.args.map(compile);
      if (parts.length === 2) {
        const [a, b] = parts as [Test, Test];
        return (r) => a(r) && b(r);
      }
      if (parts.length === 3) {
        const [a, b, c] = parts as [Test, Test, Test];
        return (r) => a(r) && b(r) && c(r);
      }
      return (r) => {
        for (let i = 0; i < parts.length; i++) if (!(parts[i] as Test)(r)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = e.args.map(compile);
      if (parts.length === 2) {
        const [a, b] = parts as [Test, Test];
        return (r) => a(r) || b(r);
      }
      return (r) => {
        for (let i = 0; i < parts.length; i++) if ((parts[i] as Test)(r)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = compile(e.arg);
      return (r) => !inner(r);
    }
    case 'exists': {
      if (e.on.kind === 'path' && e.on.path.multi) return accessorTest(e.on, () => true);
      const get = readerOf(e.on);
      return (r) => get(r) !== undefined;
    }
    case 'isNull': {
      if (e.on.kind === 'path' && e.on.path.multi) {
        const any = accessorTest(e.on, () => true);
        const someNull = accessorTest(e.on, (v) => v === null);
        return (r) => !any(r) || someNull(r);
      }
      const get = readerOf(e.on);
      return (r) => {
        const v = get(r);
        return v === undefined || v === null;
      };
    }
    default:
      return accessorTest(e.on, valueTest(e));
  }
}

/** A default selectivity (fraction of records matching) for estimates when no index helps. */
export function guessSelectivity(e: ExprNode): number {
  switch (e.op) {
    case 'const':
      return e.value ? 1 : 0;
    case 'eq':
      return 0.05;
    case 'in':
      return Math.min(1, 0.05 * e.values.length);
    case 'ne':
    case 'exists':
      return 0.9;
    case 'isNull':
      return 0.1;
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return 0.3;
    case 'between':
      return 0.15;
    case 'contains':
    case 'startsWith':
      return 0.1;
    case 'and':
      return e.args.reduce((s, a) => s * guessSelectivity(a), 1);
    case 'or':
      return 1 - e.args.reduce((s, a) => s * (1 - guessSelectivity(a)), 1);
    case 'not':
      return 1 - guessSelectivity(e.arg);
    case 'predicate':
      return 0.5;
  }
}
