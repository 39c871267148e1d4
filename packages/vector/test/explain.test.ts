import { from, IndexedCollection } from '@proto/query';
import { describe, expect, it } from 'vitest';
import { vectorIndex } from '../src/index.ts';
import { clustered, type Item } from './fixtures.ts';

const items = clustered(5000, 16, 21, 30);
const c = IndexedCollection.empty<Item, string>({ key: 'id' })
  .putAll(items)
  .createIndex('byCategory', 'category')
  .createIndex('emb', vectorIndex({ path: 'embedding', dim: 16, lists: 50, nprobe: 5 }));
const q = (items[1] as Item).embedding;

describe('vector: explain', () => {
  it('shows an IVF scan with its lists, and after a run the lists probed and vectors scored', () => {
    const query = from(c).nearest('embedding', q, { k: 10 });
    expect(query.explain().text).toBe(
      'IvfScan emb embedding k=10 cosine nprobe=5/50 lists (~500 vectors)  (est 10)',
    );
    const analyzed = query.explain({ analyze: true });
    expect(analyzed.indexes).toEqual(['emb']);
    expect(analyzed.text).toMatch(
      /^IvfScan emb .*; scored \d+, probed 5\/50 lists {2}\(est 10, actual 10\)$/,
    );
  });

  it('pre-filters through the secondary index when the filter is selective', () => {
    const query = from(c).where('category', '=', 7).nearest('embedding', q, { k: 10 });
    const text = query.explain({ analyze: true }).text;
    expect(text.split('\n')[0]).toMatch(
      /^VectorPrefilter emb embedding k=10 cosine exact over the filter's ~\d+ candidates; scored \d+, \d+ candidates/,
    );
    expect(text).toContain('IndexProbe byCategory = 7');
    expect(query.explain().indexes).toEqual(['emb', 'byCategory']);
  });

  it('filters during an iterative IVF scan when the filter keeps many records', () => {
    const query = from(c).where('category', '<', 60).nearest('embedding', q, { k: 10 });
    const text = query.explain({ analyze: true }).text;
    expect(text).toMatch(
      /^IvfIterativeScan emb embedding k=10 cosine filter category < 60 \(selectivity ~0\.\d+\): \d+\/50 lists, then more until 10 match; scored \d+, probed \d+\/50 lists/,
    );
    expect(query.toArray()).toHaveLength(10);
  });

  it('scans exactly with a flat index, and ranks a plain array by every distance', () => {
    const flat = IndexedCollection.empty<Item, string>({ key: 'id' })
      .putAll(items.slice(0, 100))
      .createIndex('emb', vectorIndex({ path: 'embedding', dim: 16, lists: 'none' }));
    expect(from(flat).nearest('embedding', q, { k: 3 }).explain().text).toBe(
      'VectorScan emb embedding k=3 cosine exact over 100 vectors  (est 3)',
    );
    expect(from(items).where('category', '<', 5).nearest('embedding', q, { k: 3 }).explain().text).toBe(
      [
        'NearestScan embedding k=3 cosine (every distance)  (est 3)',
        '└─ Filter category < 5  (est 1500)',
        '   └─ ArrayScan array  (est 5000)',
      ].join('\n'),
    );
  });
});
