/**
 * Read kinds of the typed read log (issue 10) that only their own check catches: a positional
 * read (`at`) and the read of a nested collection (`nested`) whose view recorded nothing else.
 * Each test conflicts through that one check, and commits when the newer version still agrees.
 */
import type { Transaction } from '@proto/atom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dictionary, OrderedSet } from '../src/index.js';
import { commitOutcome, openSpace, type SpaceHandle } from './helpers.js';

let h: SpaceHandle;
beforeEach(async () => {
  h = await openSpace();
});
afterEach(async () => {
  await h.space.close();
});

async function seed(name: string, value: unknown): Promise<void> {
  await h.space.database('app').transact((tx) => tx.set(name, value));
}

function begin(): Transaction {
  return h.space.database('app').begin();
}

type Carts = Dictionary<string, unknown>;

describe('collections: read kinds checked on their own (issue 10)', () => {
  it('conflicts on an ordered-set position read when another commit inserts before it', async () => {
    await seed('ids', OrderedSet.from([5, 7, 9]));
    const reader = begin();
    const smallest = (reader.get<OrderedSet<number>>('ids') as OrderedSet<number>).at(0);
    reader.set('smallest', smallest);
    const writer = begin();
    writer.set('ids', (writer.get<OrderedSet<number>>('ids') as OrderedSet<number>).add(1));
    expect(await commitOutcome(writer)).toBe('ok');
    expect(await commitOutcome(reader)).toBe('conflict');
  });

  it('commits a position read when another commit inserts after that position', async () => {
    await seed('ids', OrderedSet.from([5, 7, 9]));
    const reader = begin();
    const smallest = (reader.get<OrderedSet<number>>('ids') as OrderedSet<number>).at(0);
    reader.set('smallest', smallest);
    const writer = begin();
    writer.set('ids', (writer.get<OrderedSet<number>>('ids') as OrderedSet<number>).add(8));
    expect(await commitOutcome(writer)).toBe('ok');
    expect(await commitOutcome(reader)).toBe('ok');
  });

  it('conflicts on a dictionary position read when another commit inserts a smaller key', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['b', 2],
        ['c', 3],
      ]),
    );
    const reader = begin();
    const first = (reader.get<Dictionary<string, number>>('scores') as Dictionary<string, number>).at(0);
    reader.set('first', first);
    const writer = begin();
    writer.set(
      'scores',
      (writer.get<Dictionary<string, number>>('scores') as Dictionary<string, number>).set('a', 1),
    );
    expect(await commitOutcome(writer)).toBe('ok');
    expect(await commitOutcome(reader)).toBe('conflict');
  });

  it('conflicts on a nested collection read when another commit replaces it with a plain value', async () => {
    await seed('carts', Dictionary.from<string, unknown>([['u1', Dictionary.from([['apple', 1]])]]));
    const reader = begin();
    const cart = (reader.get<Carts>('carts') as Carts).get('u1');
    reader.set('has-cart', cart instanceof Dictionary);
    const writer = begin();
    writer.set('carts', (writer.get<Carts>('carts') as Carts).set('u1', 'no cart'));
    expect(await commitOutcome(writer)).toBe('ok');
    expect(await commitOutcome(reader)).toBe('conflict');
  });

  it('commits a nested collection read when another commit changes only inside it', async () => {
    await seed('carts', Dictionary.from<string, unknown>([['u1', Dictionary.from([['apple', 1]])]]));
    const reader = begin();
    const cart = (reader.get<Carts>('carts') as Carts).get('u1');
    reader.set('has-cart', cart instanceof Dictionary);
    const writer = begin();
    const carts = writer.get<Carts>('carts') as Carts;
    writer.set('carts', carts.set('u1', (carts.get('u1') as Dictionary<string, number>).set('pear', 2)));
    expect(await commitOutcome(writer)).toBe('ok');
    expect(await commitOutcome(reader)).toBe('ok');
  });
});
