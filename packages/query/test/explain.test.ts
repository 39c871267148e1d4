import { describe, expect, it } from 'vitest';
import { and, field, from, IndexedCollection, or, type PlanInfo } from '../src/index.js';

interface Item {
  readonly id: number;
  readonly category: string;
  readonly status: string;
  readonly value: number;
  readonly score: number;
  readonly note?: string;
}

const items: Item[] = Array.from({ length: 5000 }, (_, i) => ({
  id: i,
  category: `c${i % 50}`,
  status: `s${i % 20}`,
  value: (i * 7919) % 5000,
  score: (i * 104729) % 5000,
  ...(i % 10 === 0 ? { note: `n${i}` } : {}),
}));

const coll = IndexedCollection.from<Item, number>(items, {
  key: 'id',
  indexes: { byCategory: 'category', byStatus: 'status', byValue: 'value', byScore: 'score' },
});

function nodes(plan: PlanInfo): string[] {
  return [plan.node, ...plan.children.flatMap(nodes)];
}

describe('query: explain', () => {
  it('picks the index range scan when a range is on an indexed field', () => {
    const e = from(coll).where('value', 'between', [100, 199]).explain();
    expect(nodes(e.plan)).toEqual(['Fetch', 'IndexRangeScan']);
    expect(e.indexes).toEqual(['byValue']);
    expect(e.plan.children[0]?.detail).toBe('byValue [100, 199]');
    expect(e.estimatedRows).toBe(100);
  });

  it('merges a conjunction of equality terms by probing the smallest index and checking the others', () => {
    const q = from(coll).where(
      and(field('category').eq('c7'), field('status').eq('s7'), field('value').gte(2500)),
    );
    const e = q.explain();
    expect(nodes(e.plan)).toEqual(['Filter', 'Fetch', 'IndexMember', 'IndexProbe']);
    const member = e.plan.children[0]?.children[0];
    expect(member?.index).toBe('byStatus');
    expect(member?.children[0]?.index).toBe('byCategory');
    expect(member?.children[0]?.estimatedRows).toBe(100);
    expect(e.indexes).toEqual(['byStatus', 'byCategory']);
    const expected = items
      .filter((i) => i.category === 'c7' && i.status === 's7' && i.value >= 2500)
      .map((i) => i.id);
    expect(q.toArray().map((i) => i.id)).toEqual(expected);
  });

  it('merges a conjunction of range terms with an intersection, smallest first', () => {
    const q = from(coll).where(and(field('value').between(1000, 1400), field('score').between(2000, 2250)));
    const e = q.explain({ analyze: true });
    const intersect = e.plan.children[0];
    expect(nodes(e.plan)).toEqual(['Fetch', 'Intersect', 'IndexRangeScan', 'IndexRangeScan']);
    expect(intersect?.children.map((c) => c.index)).toEqual(['byScore', 'byValue']);
    expect(intersect?.children.map((c) => c.estimatedRows)).toEqual([251, 401]);
    const expected = items.filter(
      (i) => i.value >= 1000 && i.value <= 1400 && i.score >= 2000 && i.score <= 2250,
    );
    expect(intersect?.actualRows).toBe(expected.length);
    expect(
      q
        .toArray()
        .map((i) => i.id)
        .sort((a, b) => a - b),
    ).toEqual(expected.map((i) => i.id));
  });

  it('probes the smallest index and checks the others when one term is very selective', () => {
    const e = from(coll)
      .where(and(field('value').between(10, 12), field('category').eq('c7'), field('status').eq('s1')))
      .explain();
    expect(nodes(e.plan)).toEqual(['Fetch', 'IndexMember', 'IndexMember', 'IndexRangeScan']);
    expect(e.indexes).toEqual(['byStatus', 'byCategory', 'byValue']);
  });

  it('falls back to a full scan when no index applies', () => {
    const e = from(coll).where('note', 'startsWith', 'n1').explain();
    expect(nodes(e.plan)).toEqual(['Filter', 'FullScan']);
    expect(e.indexes).toEqual([]);
  });

  it('merges a disjunction of indexed terms with an OR merge that returns each record once', () => {
    const q = from(coll).where(or(field('category').eq('c1'), field('status').eq('s1')));
    expect(nodes(q.explain().plan)).toEqual(['Union', 'Fetch', 'IndexProbe', 'Fetch', 'IndexProbe']);
    const rows = q.toArray();
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.length).toBe(items.filter((i) => i.category === 'c1' || i.status === 's1').length);
  });

  it('walks the index in order instead of sorting when a small limit is asked', () => {
    const q = from(coll).where('status', '=', 's3').orderBy('value', 'desc').limit(5);
    const e = q.explain({ analyze: true });
    expect(nodes(e.plan)).toEqual(['Limit', 'Filter', 'Fetch', 'IndexScan']);
    expect(e.plan.children[0]?.children[0]?.children[0]?.detail).toBe('byValue all desc');
    // The walk stopped early: far fewer index entries read than records.
    const scanned = e.plan.children[0]?.children[0]?.children[0]?.actualRows ?? Number.POSITIVE_INFINITY;
    expect(scanned).toBeLessThan(500);
    expect(e.actualRows).toBe(5);
    const expected = items
      .filter((i) => i.status === 's3')
      .sort((a, b) => b.value - a.value || a.id - b.id)
      .slice(0, 5);
    expect(q.toArray()).toEqual(expected);
  });

  it('reports actual rows per node with analyze, and estimates without', () => {
    const q = from(coll).where(and(field('category').eq('c3'), field('value').lt(1000)));
    const plain = q.explain();
    expect(plain.actualRows).toBeUndefined();
    const analyzed = q.explain({ analyze: true });
    const expected = items.filter((i) => i.category === 'c3' && i.value < 1000).length;
    expect(analyzed.actualRows).toBe(expected);
    const walk = (p: PlanInfo): void => {
      expect(p.actualRows).toBeTypeOf('number');
      p.children.forEach(walk);
    };
    walk(analyzed.plan);
    expect(analyzed.text).toMatch(/actual \d+/);
    expect(analyzed.text.split('\n')[0]).toMatch(/^\w+/);
  });

  it('answers count() from the index without reading records', () => {
    expect(from(coll).where('category', '=', 'c9').explain({ count: true }).plan.node).toBe('IndexCount');
    expect(from(coll).where('category', '=', 'c9').count()).toBe(100);
    expect(from(coll).where('value', 'between', [0, 99]).count()).toBe(100);
    expect(from(coll).explain({ count: true }).plan.node).toBe('SizeCount');
    expect(from(coll).where(field('note').exists()).count()).toBe(500);
  });

  it('renders the plan as an indented tree', () => {
    const text = from(coll)
      .where(and(field('category').eq('c7'), field('status').eq('s7')))
      .orderBy('value')
      .select((i) => i.id)
      .limit(3)
      .explain().text;
    expect(text.split('\n').length).toBeGreaterThan(3);
    expect(text).toContain('└─ ');
    expect(text).toMatch(/^Project fn {2}\(est 3\)\n└─ Limit 3 {2}\(est 3\)/);
  });
});
