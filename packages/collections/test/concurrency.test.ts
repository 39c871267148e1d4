import type { Transaction } from '@proto/atom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CountedSet,
  Dictionary,
  HashDictionary,
  List,
  OrderedSet,
  RepeatedKeysDictionary,
} from '../src/index.js';
import { commitOutcome, openSpace, type SpaceHandle } from './helpers.js';

type Scores = Dictionary<string, number>;
type Carts = Dictionary<string, Dictionary<string, number>>;

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

function read<T>(name: string): T {
  return h.space.database('app').begin({ readOnly: true }).get<T>(name) as T;
}

describe('collections: key-level concurrency (Dictionary)', () => {
  it('commits both transactions when they change different keys of one dictionary', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['a', 1],
        ['b', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const d1 = t1.get<Scores>('scores') as Scores;
    t1.set('scores', d1.set('a', (d1.get('a') ?? 0) + 1));
    const d2 = t2.get<Scores>('scores') as Scores;
    t2.set('scores', d2.set('b', (d2.get('b') ?? 0) + 10).set('c', 5));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect([...read<Scores>('scores')]).toEqual([
      ['a', 2],
      ['b', 11],
      ['c', 5],
    ]);
  });

  it('rejects with a conflict when a key the transaction read was changed by another commit', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['a', 1],
        ['b', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const d1 = t1.get<Scores>('scores') as Scores;
    t1.set('scores', d1.set('b', (d1.get('a') ?? 0) * 100));
    const d2 = t2.get<Scores>('scores') as Scores;
    t2.set('scores', d2.set('a', 7));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
    expect([...read<Scores>('scores')]).toEqual([
      ['a', 7],
      ['b', 1],
    ]);
  });

  it('rejects a key read as absent when another commit adds that key', async () => {
    await seed('scores', Dictionary.from<string, number>([['a', 1]]));
    const t1 = begin();
    const t2 = begin();
    const d1 = t1.get<Scores>('scores') as Scores;
    if (!d1.has('new')) t1.set('scores', d1.set('other', 1));
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('new', 2));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });

  it('sums concurrent increments of one hot key when all transactions commit together', async () => {
    await seed('scores', Dictionary.empty<string, number>());
    const txs = Array.from({ length: 25 }, () => begin());
    for (const tx of txs) tx.set('scores', (tx.get<Scores>('scores') as Scores).increment('hits', 2));
    const outcomes = await Promise.all(txs.map(commitOutcome));
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
    expect(read<Scores>('scores').get('hits')).toBe(50);
  });

  it('sums read-modify-write counters when db.transact retries the conflicting ones', async () => {
    await seed('scores', Dictionary.empty<string, number>());
    const db = h.space.database('app');
    await Promise.all(
      Array.from({ length: 10 }, () =>
        db.transact((tx) => {
          const d = tx.get<Scores>('scores') as Scores;
          tx.set('scores', d.set('n', (d.get('n') ?? 0) + 1));
        }),
      ),
    );
    expect(read<Scores>('scores').get('n')).toBe(10);
  });

  it('conflicts when a key read after the transaction incremented it was changed by another commit', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['a', 1],
        ['b', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    let d1 = (t1.get<Scores>('scores') as Scores).increment('a', 1);
    d1 = d1.set('copy', d1.get('a') ?? 0); // depends on a's base value
    t1.set('scores', d1);
    let d3 = (t3.get<Scores>('scores') as Scores).increment('a', 1);
    d3 = d3.set('copyb', d3.get('b') ?? 0); // depends on b only
    t3.set('scores', d3);
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('a', 100));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
    expect(await commitOutcome(t3)).toBe('ok');
    expect([...read<Scores>('scores')]).toEqual([
      ['a', 101],
      ['b', 1],
      ['copyb', 1],
    ]);
  });

  it('conflicts when another commit changes an iterated range, and not when it changes keys outside it', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['a', 1],
        ['c', 1],
        ['x', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    for (const tx of [t1, t3]) {
      const d = tx.get<Scores>('scores') as Scores;
      let sum = 0;
      for (const [, v] of d.range({ from: 'a', to: 'd' })) sum += v;
      tx.set('scores', d.set('sum', sum));
    }
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('b', 5).set('z', 9));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');

    const t4 = begin();
    const t5 = begin();
    const d4 = t4.get<Scores>('scores') as Scores;
    let sum = 0;
    for (const [, v] of d4.range({ from: 'a', to: 'd' })) sum += v;
    t4.set('scores', d4.set('sum', sum));
    t5.set('scores', (t5.get<Scores>('scores') as Scores).set('y', 1).delete('x'));
    expect(await commitOutcome(t5)).toBe('ok');
    expect(await commitOutcome(t4)).toBe('ok');
    expect(read<Scores>('scores').get('sum')).toBe(7);
    expect(await commitOutcome(t3)).toBe('conflict');
  });

  it('conflicts on a size read only when the number of entries changed', async () => {
    await seed('scores', Dictionary.from<string, number>([['a', 1]]));
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    const d1 = t1.get<Scores>('scores') as Scores;
    t1.set('scores', d1.set('count', d1.size));
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('a', 2));
    expect(await commitOutcome(t2)).toBe('ok');
    const d3 = t3.get<Scores>('scores') as Scores;
    t3.set('scores', d3.set('count2', d3.size));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t3)).toBe('conflict');
  });

  it('orders blind writes of one key after the commit that came first when both transactions commit', async () => {
    await seed('scores', Dictionary.from<string, number>([['a', 1]]));
    const t1 = begin();
    const t2 = begin();
    t1.set('scores', (t1.get<Scores>('scores') as Scores).set('a', 10));
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('a', 20).set('b', 1));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('ok');
    expect([...read<Scores>('scores')]).toEqual([
      ['a', 10],
      ['b', 1],
    ]);
  });

  it('conflicts when another commit replaced the root with a different kind of value', async () => {
    await seed('scores', Dictionary.from<string, number>([['a', 1]]));
    const t1 = begin();
    const t2 = begin();
    t1.set('scores', (t1.get<Scores>('scores') as Scores).increment('a'));
    t2.get('scores');
    t2.set('scores', List.from([1]));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });
});

describe('collections: key-level concurrency (ranges and positions)', () => {
  it('conflicts on first() only when another commit changed the first entry', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['m', 1],
        ['x', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    for (const tx of [t1, t3]) {
      const d = tx.get<Scores>('scores') as Scores;
      tx.set('scores', d.set('first', d.first()?.[1] ?? 0));
    }
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('y', 2).set('n', 3));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('ok');
    const t4 = begin();
    const d4 = t4.get<Scores>('scores') as Scores;
    t4.set('scores', d4.set('z', d4.first()?.[1] ?? 0));
    const t5 = begin();
    t5.set('scores', (t5.get<Scores>('scores') as Scores).set('a', 0));
    expect(await commitOutcome(t5)).toBe('ok');
    expect(await commitOutcome(t4)).toBe('conflict');
    expect(await commitOutcome(t3)).toBe('conflict');
  });

  it('conflicts on countRange only when an insert lands inside the counted range', async () => {
    await seed(
      'scores',
      Dictionary.from<string, number>([
        ['b', 1],
        ['c', 1],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    for (const tx of [t1, t3]) {
      const d = tx.get<Scores>('scores') as Scores;
      tx.set('scores', d.set('n', d.countRange({ from: 'a', to: 'd' })));
    }
    t2.set('scores', (t2.get<Scores>('scores') as Scores).set('x', 1));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('ok');
    const t4 = begin();
    t4.set('scores', (t4.get<Scores>('scores') as Scores).set('bb', 1));
    expect(await commitOutcome(t4)).toBe('ok');
    expect(await commitOutcome(t3)).toBe('conflict');
    expect(read<Scores>('scores').get('n')).toBe(2);
  });
});

describe('collections: key-level concurrency (nested collections)', () => {
  async function seedCarts(): Promise<void> {
    await seed(
      'carts',
      Dictionary.from<string, Dictionary<string, number>>([
        ['u1', Dictionary.from([['apple', 1]])],
        ['u2', Dictionary.from([['milk', 1]])],
      ]),
    );
  }

  it('commits both transactions when they change different keys inside one nested dictionary', async () => {
    await seedCarts();
    const t1 = begin();
    const t2 = begin();
    const c1 = t1.get<Carts>('carts') as Carts;
    const u1a = c1.get('u1') as Dictionary<string, number>;
    t1.set('carts', c1.set('u1', u1a.set('pear', (u1a.get('apple') ?? 0) + 1)));
    const c2 = t2.get<Carts>('carts') as Carts;
    const u1b = c2.get('u1') as Dictionary<string, number>;
    t2.set('carts', c2.set('u1', u1b.set('plum', 3)));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('ok');
    expect([...(read<Carts>('carts').get('u1') as Dictionary<string, number>)]).toEqual([
      ['apple', 1],
      ['pear', 2],
      ['plum', 3],
    ]);
  });

  it('conflicts when a key read inside a nested dictionary was changed by another commit', async () => {
    await seedCarts();
    const t1 = begin();
    const t2 = begin();
    const c1 = t1.get<Carts>('carts') as Carts;
    const apples = (c1.get('u1') as Dictionary<string, number>).get('apple') ?? 0;
    t1.set('carts', c1.set('u2', (c1.get('u2') as Dictionary<string, number>).set('apples-seen', apples)));
    const c2 = t2.get<Carts>('carts') as Carts;
    t2.set('carts', c2.set('u1', (c2.get('u1') as Dictionary<string, number>).set('apple', 5)));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });

  it('sums increments of one key inside a nested dictionary when transactions run concurrently', async () => {
    await seedCarts();
    const txs = Array.from({ length: 12 }, () => begin());
    for (const tx of txs) {
      const c = tx.get<Carts>('carts') as Carts;
      tx.set('carts', c.set('u2', (c.get('u2') as Dictionary<string, number>).increment('milk')));
    }
    const outcomes = await Promise.all(txs.map(commitOutcome));
    expect(outcomes).toEqual(txs.map(() => 'ok'));
    expect((read<Carts>('carts').get('u2') as Dictionary<string, number>).get('milk')).toBe(13);
  });

  it('conflicts when the nested collection was removed by another commit', async () => {
    await seedCarts();
    const t1 = begin();
    const t2 = begin();
    const c1 = t1.get<Carts>('carts') as Carts;
    t1.set('carts', c1.set('u1', (c1.get('u1') as Dictionary<string, number>).increment('apple')));
    t2.set('carts', (t2.get<Carts>('carts') as Carts).delete('u1'));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });

  it('merges changes per position when two transactions change a dictionary nested in a list', async () => {
    await seed('rows', List.from([Dictionary.from([['n', 0]]), Dictionary.from([['n', 0]])]));
    type Rows = List<Dictionary<string, number>>;
    const t1 = begin();
    const t2 = begin();
    const r1 = t1.get<Rows>('rows') as Rows;
    t1.set('rows', r1.set(0, (r1.get(0) as Dictionary<string, number>).increment('n')));
    const r2 = t2.get<Rows>('rows') as Rows;
    t2.set(
      'rows',
      r2.set(0, (r2.get(0) as Dictionary<string, number>).set('m', 1)).append(Dictionary.empty()),
    );
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('ok');
    const rows = read<Rows>('rows');
    expect(rows.size).toBe(3);
    expect([...(rows.get(0) as Dictionary<string, number>)]).toEqual([
      ['m', 1],
      ['n', 1],
    ]);
  });
});

describe('collections: key-level concurrency (other collections)', () => {
  it('sums CountedSet additions of one element when transactions run concurrently', async () => {
    await seed('tags', CountedSet.empty<string>());
    const txs = Array.from({ length: 10 }, () => begin());
    for (const tx of txs)
      tx.set('tags', (tx.get<CountedSet<string>>('tags') as CountedSet<string>).add('red'));
    expect(await Promise.all(txs.map(commitOutcome))).toEqual(txs.map(() => 'ok'));
    expect(read<CountedSet<string>>('tags').count('red')).toBe(10);
  });

  it('keeps both appends and both adds when two transactions append to a list and add to a set', async () => {
    await seed('log', List.from(['start']));
    await seed('set', OrderedSet.from([1]));
    const t1 = begin();
    const t2 = begin();
    t1.set('log', (t1.get<List<string>>('log') as List<string>).append('one'));
    t1.set('set', (t1.get<OrderedSet<number>>('set') as OrderedSet<number>).add(2));
    t2.set('log', (t2.get<List<string>>('log') as List<string>).append('two'));
    t2.set('set', (t2.get<OrderedSet<number>>('set') as OrderedSet<number>).add(3).delete(1));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect(read<List<string>>('log').toArray()).toEqual(['start', 'one', 'two']);
    expect([...read<OrderedSet<number>>('set')]).toEqual([2, 3]);
  });

  it('conflicts on a list position read when another commit inserted before it', async () => {
    await seed('log', List.from(['a', 'b']));
    const t1 = begin();
    const t2 = begin();
    const l1 = t1.get<List<string>>('log') as List<string>;
    t1.set('log', l1.append(`${l1.get(1)}!`));
    t2.set('log', (t2.get<List<string>>('log') as List<string>).prepend('z'));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
  });

  it('conflicts when a positional write no longer has its position in the newer version', async () => {
    await seed('log', List.from(['a', 'b', 'c']));
    const t1 = begin();
    const t2 = begin();
    t1.set('log', (t1.get<List<string>>('log') as List<string>).set(2, 'C'));
    t2.set('log', (t2.get<List<string>>('log') as List<string>).slice(0, 1));
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t1)).toBe('conflict');
    expect(read<List<string>>('log').toArray()).toEqual(['a']);
  });

  it('commits index updates of different keys and conflicts only when a counted key changed its count', async () => {
    await seed(
      'idx',
      RepeatedKeysDictionary.from<string, number>([
        ['red', 1],
        ['blue', 2],
      ]),
    );
    type Idx = RepeatedKeysDictionary<string, number>;
    const t1 = begin();
    const t2 = begin();
    const t3 = begin();
    const t4 = begin();
    t1.set('idx', (t1.get<Idx>('idx') as Idx).add('red', 3));
    t2.set('idx', (t2.get<Idx>('idx') as Idx).add('blue', 4).remove('blue', 2));
    const i3 = t3.get<Idx>('idx') as Idx;
    t3.set('idx', i3.add('green', i3.count('blue'))); // blue's count stays 1: holds
    const i4 = t4.get<Idx>('idx') as Idx;
    t4.set('idx', i4.add('green', [...i4.values('blue')][0] ?? 0)); // blue's values changed
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    expect(await commitOutcome(t3)).toBe('ok');
    expect(await commitOutcome(t4)).toBe('conflict');
    expect([...read<Idx>('idx')]).toEqual([
      ['blue', 4],
      ['green', 1],
      ['red', 1],
      ['red', 3],
    ]);
  });

  it('commits both transactions when they change different keys of a hash dictionary', async () => {
    type HD = HashDictionary<{ id: number }, number>;
    await seed(
      'h',
      HashDictionary.from<{ id: number }, number>([
        [{ id: 1 }, 1],
        [{ id: 2 }, 2],
      ]),
    );
    const t1 = begin();
    const t2 = begin();
    const a = t1.get<HD>('h') as HD;
    t1.set('h', a.set({ id: 1 }, (a.get({ id: 1 }) ?? 0) + 1));
    const b = t2.get<HD>('h') as HD;
    t2.set('h', b.set({ id: 2 }, (b.get({ id: 2 }) ?? 0) + 1));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    const out = read<HD>('h');
    expect([out.get({ id: 1 }), out.get({ id: 2 })]).toEqual([2, 3]);
  });
});

describe('collections: key-level concurrency (Dictionary.deleteRange)', () => {
  it('replays a ranged delete on a newer version: both commit, and a key inserted inside the range by the first is removed', async () => {
    await seed('scores', Dictionary.from<number, number>(Array.from({ length: 500 }, (_, i) => [i, i])));
    const t1 = begin();
    const t2 = begin();
    const d1 = t1.get<Dictionary<number, number>>('scores') as Dictionary<number, number>;
    t1.set('scores', d1.set(1000, 1).set(150.5, 1));
    const d2 = t2.get<Dictionary<number, number>>('scores') as Dictionary<number, number>;
    t2.set('scores', d2.deleteRange({ from: 100, to: 400 }));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('ok');
    const after = read<Dictionary<number, number>>('scores');
    expect(after.size).toBe(500 - 300 + 1);
    expect(after.has(150.5)).toBe(false);
    expect(after.get(1000)).toBe(1);
    expect(after.countRange({ from: 100, to: 400 })).toBe(0);
  });

  it('conflicts when the transaction counted the range another commit added to', async () => {
    await seed('scores', Dictionary.from<number, number>(Array.from({ length: 50 }, (_, i) => [i, i])));
    const t1 = begin();
    const t2 = begin();
    const d1 = t1.get<Dictionary<number, number>>('scores') as Dictionary<number, number>;
    t1.set('scores', d1.set(10.5, 1));
    const d2 = t2.get<Dictionary<number, number>>('scores') as Dictionary<number, number>;
    const removed = d2.countRange({ from: 10, to: 20 });
    t2.set('scores', d2.deleteRange({ from: 10, to: 20 }).set(-1, removed));
    expect(await commitOutcome(t1)).toBe('ok');
    expect(await commitOutcome(t2)).toBe('conflict');
  });
});
