/**
 * Regression tests for the hardening issue (issue 9) in the query engine: bounds printed as NaN
 * in plans, and sparse arrays walked by their `length`.
 */
import { describe, expect, it } from 'vitest';
import { field, from, IndexedCollection } from '../src/index.js';

interface Row {
  readonly id: number;
  readonly value: number;
  readonly name: string;
  readonly tags: unknown[];
}

/** A sparse array of `length` holding `items` at the given indices. */
function sparse(length: number, items: Record<number, unknown>): unknown[] {
  const array: unknown[] = [];
  for (const [index, item] of Object.entries(items)) array[Number(index)] = item;
  if (array.length < length) {
    array[length - 1] = undefined;
    delete array[length - 1];
  }
  return array;
}

const rows: Row[] = Array.from({ length: 200 }, (_, i) => ({
  id: i,
  value: i,
  name: `n${i}`,
  tags: i % 50 === 0 ? sparse(2 ** 32 - 1, { 0: 'head', [2 ** 32 - 2]: `tail${i}` }) : [`t${i % 3}`],
}));

const collection = IndexedCollection.from<Row, number>(rows, {
  key: 'id',
  indexes: { byValue: 'value', byName: 'name' },
});

function rangeDetail(plan: { index?: string; detail?: string; children: readonly unknown[] }): string[] {
  const own = plan.index === undefined ? [] : [plan.detail ?? ''];
  return [...own, ...(plan.children as (typeof plan)[]).flatMap(rangeDetail)];
}

describe('query: explain bounds (issue 9, finding 13)', () => {
  it('prints an open lower bound as -∞ and an open upper bound as +∞ when a comparison has one side', () => {
    const below = from(collection).where(field('value').lt(3)).explain();
    expect(rangeDetail(below.plan)).toEqual(['byValue (-∞, 3)']);
    const above = from(collection).where(field('value').gte(197)).explain();
    expect(rangeDetail(above.plan)).toEqual(['byValue [197, +∞)']);
    const names = from(collection).where(field('name').lte('n100')).explain();
    expect(rangeDetail(names.plan)).toEqual(['byName (-∞, "n100"]']);
    expect(from(collection).where(field('value').lt(3)).toArray()).toHaveLength(3);
  });
});

describe('query: sparse arrays (issue 9, finding 2)', () => {
  it('filters, flattens and deduplicates by elements when a field holds a sparse array of length 2^32 - 1', () => {
    const withTail = from(collection).where(field('tags').contains('tail100')).toArray();
    expect(withTail.map((row) => row.id)).toEqual([100]);
    const heads = from(collection).where(field('tags').contains('head')).toArray();
    expect(heads.map((row) => row.id)).toEqual([0, 50, 100, 150]);
    const distinct = from(collection)
      .select((row) => row.tags)
      .distinct()
      .toArray();
    expect(distinct).toHaveLength(4 + 3);
  });
});
