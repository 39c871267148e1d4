/**
 * The cost model: rough relative costs of the basic steps, measured on the benchmark machine
 * (`apps/bench/src/query.ts`): stepping a full scan, evaluating a filter, stepping an index
 * walk, starting one (a tree descent), fetching a record by primary key (a descent in the
 * primary tree), a hash-set operation, and a sort comparison.
 */
export const C_SCAN = 1;
export const C_FILTER = 0.7;
export const C_INDEX = 0.7;
export const C_SEEK = 11;
export const C_FETCH = 20;
export const C_SET = 2;
export const C_SORT = 0.4;
/** Testing a primary key against an index key's set: a materialized set, or a small-tree descent. */
export const C_MEMBER_CACHED = 1;
export const C_MEMBER = 8;

/** The cost of sorting `n` rows keeping `bound` (all when undefined). */
export function sortCost(n: number, bound: number | undefined): number {
  const k = bound === undefined ? n : Math.min(n, bound);
  return n * C_SORT * Math.log2(k + 2);
}

let noise: (() => number) | undefined;

/**
 * @internal For tests: multiplies every option's estimated cost by `fn()` (e.g. a random factor),
 * so oracle tests exercise every plan shape the optimizer can build. `undefined` switches it off.
 */
export function setCostNoise(fn: (() => number) | undefined): void {
  noise = fn;
}

/** @internal */
export function jitter(cost: number): number {
  return noise === undefined ? cost : cost * noise();
}
