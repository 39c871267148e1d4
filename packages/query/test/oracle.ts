/**
 * A naive evaluator, written independently of the package: the oracle the optimized plans are
 * checked against. It implements the documented semantics directly on plain arrays.
 */

export type Row = Record<string, unknown> & { id: number };

/** A row with primary key `id` and the defined fields of `fields` (missing ones left out). */
export function rowOf(id: number, fields: Record<string, unknown>): Row {
  const row: Row = { id };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) row[k] = v;
  return row;
}

/** Type class ranks of the documented key order; -1 for values that are not keys. */
export function rank(v: unknown): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number' || typeof v === 'bigint') return 2;
  if (typeof v === 'string') return 3;
  if (v instanceof Date) return 4;
  if (v instanceof Uint8Array) return 5;
  if (Array.isArray(v)) return v.every((e) => rank(e) >= 0) ? 6 : -1;
  return -1;
}

/** The documented key order (NaN first among numbers, arrays elementwise). */
export function cmpKey(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return Number(a) - Number(b);
    case 2: {
      const x = a as number;
      const y = b as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 4:
      return cmpKey((a as Date).getTime(), (b as Date).getTime());
    default: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = cmpKey(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

function structEq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function same(a: unknown, b: unknown): boolean {
  if (rank(a) >= 0 && rank(b) >= 0) return rank(a) === rank(b) && cmpKey(a, b) === 0;
  if (rank(a) >= 0 || rank(b) >= 0) return false;
  return structEq(a, b);
}

/** All values of a path (`[]` spreads an array). */
export function valuesOf(r: Row, path: string): unknown[] {
  const parts = path.split('.');
  let current: unknown[] = [r];
  for (const part of parts) {
    const each = part.endsWith('[]');
    const name = each ? part.slice(0, -2) : part;
    const next: unknown[] = [];
    for (const c of current) {
      if (typeof c !== 'object' || c === null) continue;
      const v = (c as Record<string, unknown>)[name];
      if (each) {
        if (Array.isArray(v)) next.push(...v);
      } else next.push(v);
    }
    current = next;
  }
  return current.filter((v) => v !== undefined);
}

export type Pred =
  | { op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'; path: string; x: unknown }
  | { op: 'between'; path: string; lo: unknown; hi: unknown; li: boolean; hi2: boolean }
  | { op: 'in'; path: string; xs: unknown[] }
  | { op: 'contains'; path: string; x: unknown }
  | { op: 'startsWith'; path: string; p: string }
  | { op: 'exists' | 'isNull'; path: string }
  | { op: 'and' | 'or'; args: Pred[] }
  | { op: 'not'; arg: Pred };

function cmpOk(op: string, v: unknown, x: unknown): boolean {
  if (rank(v) < 0 || rank(v) !== rank(x)) return false;
  const c = cmpKey(v, x);
  return op === 'lt' ? c < 0 : op === 'lte' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0;
}

export function holds(p: Pred, r: Row): boolean {
  switch (p.op) {
    case 'and':
      return p.args.every((a) => holds(a, r));
    case 'or':
      return p.args.some((a) => holds(a, r));
    case 'not':
      return !holds(p.arg, r);
    case 'exists':
      return valuesOf(r, p.path).length > 0;
    case 'isNull': {
      const vs = valuesOf(r, p.path);
      return vs.length === 0 || vs.some((v) => v === null);
    }
    default:
      break;
  }
  const vs = valuesOf(r, p.path);
  switch (p.op) {
    case 'eq':
      return vs.some((v) => same(v, p.x));
    case 'ne':
      return vs.some((v) => !same(v, p.x));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return vs.some((v) => cmpOk(p.op, v, p.x));
    case 'between':
      return vs.some((v) => cmpOk(p.li ? 'gte' : 'gt', v, p.lo) && cmpOk(p.hi2 ? 'lte' : 'lt', v, p.hi));
    case 'in':
      return vs.some((v) => p.xs.some((x) => same(v, x)));
    case 'contains':
      return vs.some((v) =>
        typeof v === 'string'
          ? typeof p.x === 'string' && v.includes(p.x)
          : Array.isArray(v) && v.some((e) => same(e, p.x)),
      );
    case 'startsWith':
      return vs.some((v) => typeof v === 'string' && v.startsWith(p.p));
  }
}

/** The documented sort order: keys in key order, other values, then missing last. */
export function cmpSort(a: unknown, b: unknown): number {
  const ua = a === undefined;
  const ub = b === undefined;
  if (ua || ub) return ua === ub ? 0 : ua ? 1 : -1;
  const ka = rank(a) >= 0;
  const kb = rank(b) >= 0;
  if (ka && kb) return cmpKey(a, b);
  if (ka !== kb) return ka ? -1 : 1;
  return 0;
}

export interface OrderKey {
  path: string;
  desc: boolean;
}

/** Filter, then sort (ties by id), then offset/limit: the naive query. */
export function naive(
  rows: readonly Row[],
  p: Pred | undefined,
  order: readonly OrderKey[],
  offset: number,
  limit: number | undefined,
): Row[] {
  const out = rows.filter((r) => p === undefined || holds(p, r));
  if (order.length > 0) {
    out.sort((x, y) => {
      for (const k of order) {
        const c = cmpSort(valuesOf(x, k.path)[0], valuesOf(y, k.path)[0]);
        if (c !== 0) return k.desc ? -c : c;
      }
      return x.id - y.id;
    });
  }
  return out.slice(offset, limit === undefined ? undefined : offset + limit);
}

/**
 * Random cost factors between 1/1000 and 1000 (for `setCostNoise`): every option the optimizer
 * considers gets picked sometimes, so every plan shape is checked against the oracle.
 */
export function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return 10 ** (((s % 1000) - 500) / 166);
  };
}
