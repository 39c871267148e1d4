import { hasReason } from '@proto/atom';
import { from, IndexedCollection, QueryError } from '@proto/query';
import { describe, expect, it } from 'vitest';
import { vectorIndex } from '../src/index.ts';

interface Doc {
  readonly id: string;
  readonly v?: unknown;
}

function invalid(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    expect(hasReason(error, 'invalid-argument')).toBe(true);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an invalid-argument error');
}

const docs = (metric: 'cosine' | 'euclidean' = 'cosine') =>
  IndexedCollection.empty<Doc, string>({
    key: 'id',
    indexes: { byV: vectorIndex({ path: 'v', dim: 3, metric }) },
  });

describe('vector: typed errors', () => {
  it('rejects a bad vector at write time and changes nothing', () => {
    const c = docs().put({ id: 'ok', v: [1, 2, 3] });
    invalid(() => c.put({ id: 'a', v: [1, 2] }), /dimension 2; this index holds vectors of dimension 3/);
    invalid(() => c.put({ id: 'a', v: [1, Number.NaN, 3] }), /not a finite number at 1/);
    invalid(() => c.put({ id: 'a', v: [1, Number.POSITIVE_INFINITY, 3] }), /not a finite number at 1/);
    invalid(() => c.put({ id: 'a', v: [1, -Number.POSITIVE_INFINITY, 3] }), /not a finite number/);
    invalid(() => c.put({ id: 'a', v: [1e39, 0, 0] }), /overflows float32/);
    invalid(() => c.put({ id: 'a', v: [0, 0, 0] }), /zero vector/);
    invalid(() => c.put({ id: 'a', v: 'abc' }), /is not a vector/);
    invalid(() => c.put({ id: 'ok', v: [1, '2', 3] }), /not a finite number at 1/);
    expect(c.size).toBe(1);
    expect(
      from(c)
        .nearest('v', [1, 2, 3], { k: 5 })
        .toArray()
        .map((r) => r.key),
    ).toEqual(['ok']);
    // The zero vector is fine under euclidean; a record without the field has no entry.
    const e = docs('euclidean')
      .put({ id: 'z', v: [0, 0, 0] })
      .put({ id: 'none' });
    expect(
      from(e)
        .nearest('v', [0, 0, 1], { k: 5 })
        .toArray()
        .map((r) => r.key),
    ).toEqual(['z']);
  });

  it('rejects bad index options', () => {
    const c = IndexedCollection.empty<Doc, string>({ key: 'id' });
    invalid(() => c.createIndex('x', vectorIndex({ path: 'v', dim: 0 })), /dim must be a positive integer/);
    invalid(() => c.createIndex('x', vectorIndex({ path: '', dim: 3 })), /give the vector's field/);
    invalid(
      () => c.createIndex('x', vectorIndex({ path: 'v', dim: 3, metric: 'manhattan' as never })),
      /metric is one of/,
    );
    invalid(
      () => c.createIndex('x', vectorIndex({ path: 'v', dim: 3, lists: 0 })),
      /lists must be a positive integer/,
    );
    invalid(
      () => c.createIndex('x', vectorIndex({ path: 'v', dim: 3, nprobe: 1.5 })),
      /nprobe must be a positive integer/,
    );
  });

  it('rejects a bad query', () => {
    const c = docs().put({ id: 'ok', v: [1, 2, 3] });
    invalid(() => from(c).nearest('v', [1, 2], { k: 1 }).toArray(), /query vector has dimension 2/);
    invalid(() => from(c).nearest('v', [0, 0, 0], { k: 1 }).toArray(), /zero vector/);
    invalid(() => from(c).nearest('v', [1, Number.NaN, 3], { k: 1 }), /non-finite component at 1/);
    invalid(() => from(c).nearest('v', [1, 2, 3], { k: 0 }), /k as a positive integer/);
    invalid(() => from(c).nearest('v', [1, 2, 3], { k: 1, nprobe: 0 }), /nprobe as a positive integer/);
    invalid(() => from(c).nearest('v', [1, 2, 3], { k: 1, recall: 1.5 }), /recall in \(0, 1\]/);
    invalid(
      () => from(c).nearest('v', [1, 2, 3], { k: 1, metric: 'euclidean' }).toArray(),
      /built for the cosine metric/,
    );
    invalid(() => from(c).nearest('v', [], { k: 1 }), /non-empty/);
  });
});
