import type { Transaction } from '@proto/atom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dictionary, List, OrderedSet } from '../src/index.js';
import { commitOutcome, openSpace, type SpaceHandle } from './helpers.js';

type Carts = Dictionary<string, number>;

let h: SpaceHandle;
beforeEach(async () => {
  h = await openSpace();
});
afterEach(async () => {
  await h.space.close();
});

function begin(): Transaction {
  return h.space.database('app').begin();
}

function read<T>(name: string): T | undefined {
  return h.space.database('app').begin({ readOnly: true }).get<T>(name);
}

describe('collections: tx.getOrCreate (parallel first writers)', () => {
  it('commits both transactions when both create an absent dictionary root and insert different keys', async () => {
    const t1 = begin();
    const t2 = begin();
    const c1 = t1.getOrCreate('carts', () => Dictionary.empty<string, number>());
    const c2 = t2.getOrCreate('carts', () => Dictionary.empty<string, number>());
    expect(c1.get('alice')).toBeUndefined();
    t1.set('carts', c1.set('alice', 1));
    t2.set('carts', c2.set('bob', 2).increment('shared', 5));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect([...(read<Carts>('carts') ?? [])]).toEqual([
      ['alice', 1],
      ['bob', 2],
      ['shared', 5],
    ]);
  });

  it('conflicts when the second writer read a key that the first writer inserted', async () => {
    const t1 = begin();
    const t2 = begin();
    const c1 = t1.getOrCreate('carts', () => Dictionary.empty<string, number>());
    const c2 = t2.getOrCreate('carts', () => Dictionary.empty<string, number>());
    t1.set('carts', c1.set('alice', 1));
    t2.set('carts', c2.set('alice', (c2.get('alice') ?? 0) + 10));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('conflict');
    expect(read<Carts>('carts')?.get('alice')).toBe(1);
  });

  it('keeps the first writer’s collection when the second only created it', async () => {
    const t1 = begin();
    const t2 = begin();
    t1.set('carts', t1.getOrCreate('carts', () => Dictionary.empty<string, number>()).set('alice', 1));
    t2.getOrCreate('carts', () => Dictionary.from<string, number>([['ignored', 0]]));
    t2.set('other', 1);
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect([...(read<Carts>('carts') ?? [])]).toEqual([['alice', 1]]);
    expect(read<number>('other')).toBe(1);
  });

  it('writes the created collection when the root stays absent, even after another root changed', async () => {
    const t1 = begin();
    const t2 = begin();
    t1.set('unrelated', 1);
    const tags = t2.getOrCreate('tags', () => OrderedSet.from(['a']));
    expect(tags.has('a')).toBe(true);
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect([...(read<OrderedSet<string>>('tags') ?? [])]).toEqual(['a']);
  });

  it('conflicts when another commit created the root with a collection of another class', async () => {
    const t1 = begin();
    const t2 = begin();
    t1.set('carts', List.from([1]));
    // Only created: the transaction relied on the root being absent or a dictionary.
    t2.getOrCreate('carts', () => Dictionary.empty<string, number>());
    t2.set('other', 1);
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('conflict');
  });

  it('conflicts for a plain value when another commit created the root first', async () => {
    const t1 = begin();
    const t2 = begin();
    expect(t1.getOrCreate('visits', () => 1)).toBe(1);
    expect(t2.getOrCreate('visits', () => 2)).toBe(2);
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('conflict');
    expect(read<number>('visits')).toBe(1);
  });

  it('returns the existing root without calling create, bound so that its reads are recorded', async () => {
    await h.space.database('app').transact((tx) => tx.set('carts', Dictionary.from([['alice', 1]])));
    const t1 = begin();
    const t2 = begin();
    const existing = t1.getOrCreate('carts', () => {
      throw new Error('create must not run for a present root');
    }) as Carts;
    t1.set('carts', existing.set('bob', (existing.get('alice') ?? 0) + 1));
    const c2 = t2.get<Carts>('carts') as Carts;
    t2.set('carts', c2.set('alice', 5));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });

  it('works with retries through db.transact for many parallel first writers', async () => {
    const db = h.space.database('app');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.transact((tx) => {
          const carts = tx.getOrCreate('carts', () => Dictionary.empty<string, number>());
          tx.set('carts', carts.set(`user${i}`, i));
        }),
      ),
    );
    expect(read<Carts>('carts')?.size).toBe(8);
    expect(h.space.stats().conflicts).toBe(0);
  });
});
