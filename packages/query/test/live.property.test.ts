/**
 * Live queries against an oracle: on random histories of commits (puts, updates, deletes,
 * and now and then the whole root replaced), after every commit the rows of each live query
 * equal the same query run from scratch on the newest commit, and each update's `entered` /
 * `left` turn the previous rows into the current ones.
 */
import { type Database, ObjectSpace } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  and,
  field,
  from,
  IndexedCollection,
  type LiveQuery,
  type LiveUpdate,
  type Query,
} from '../src/index.js';

interface Player {
  readonly id: string;
  readonly score: number;
  readonly team: 'a' | 'b' | 'c';
  readonly active: boolean;
}

type Op =
  | {
      readonly kind: 'put';
      readonly id: number;
      readonly score: number;
      readonly team: number;
      readonly active: boolean;
    }
  | { readonly kind: 'delete'; readonly id: number }
  | { readonly kind: 'purge'; readonly above: number }
  | { readonly kind: 'replace'; readonly ids: readonly number[] };

const TEAMS = ['a', 'b', 'c'] as const;

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      id: fc.integer({ min: 0, max: 300 }),
      score: fc.integer({ min: 0, max: 15 }),
      team: fc.integer({ min: 0, max: 2 }),
      active: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 300 }) }),
  },
  // Deletes every player above a score: empties the top of a window at once.
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('purge' as const), above: fc.integer({ min: 0, max: 15 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      ids: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 40, maxLength: 120 }),
    }),
  },
);

const player = (id: number, score: number, team: number, active: boolean): Player => ({
  id: `p${String(id).padStart(3, '0')}`,
  score,
  team: TEAMS[team] as Player['team'],
  active,
});

const fresh = (players: Iterable<Player>) =>
  IndexedCollection.from<Player, string>(players, {
    key: 'id',
    indexes: { byScore: 'score', byTeam: 'team' },
  });

/** The live queries under test; each names whether its order is fully specified. */
const shapes: readonly {
  name: string;
  build(db: Database): Query<Player> | Query<string>;
  ordered: boolean;
}[] = [
  {
    name: 'top 5 active by score',
    build: (db) => from<Player>(db, 'players').where('active', '==', true).orderBy('score', 'desc').limit(5),
    ordered: true,
  },
  {
    name: 'team a by score, offset 2 limit 3',
    build: (db) => from<Player>(db, 'players').where('team', '==', 'a').orderBy('score').offset(2).limit(3),
    ordered: true,
  },
  {
    name: 'score range, no order',
    build: (db) => from<Player>(db, 'players').where(and(field('score').gte(5), field('score').lt(11))),
    ordered: false,
  },
  {
    name: 'two keys, limit 7, ids only',
    build: (db) =>
      from<Player>(db, 'players')
        .orderBy('team')
        .orderBy('score', 'desc')
        .limit(7)
        .select((p) => p.id),
    ordered: true,
  },
  {
    name: 'first 4 by id, inactive',
    build: (db) => from<Player>(db, 'players').where('active', '==', false).orderBy('id').limit(4),
    ordered: true,
  },
];

const idOf = (row: unknown) => (typeof row === 'string' ? row : (row as Player).id);
const sortedIds = (rows: readonly unknown[]) => rows.map(idOf).sort();

async function settle(live: readonly LiveQuery<unknown>[], sequence: number): Promise<void> {
  while (live.some((l) => l.sequence < sequence)) await new Promise((resolve) => setImmediate(resolve));
}

describe('live queries', () => {
  it('after every commit of a random history, each live query shows what the query shows run from scratch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 25 }),
        async (commits) => {
          const space = await ObjectSpace.open(await openMemoryBackend());
          const db = space.database('game');
          await db.transact((tx) =>
            tx.set('players', fresh([player(1, 3, 0, true), player(2, 9, 1, false)])),
          );
          const updates = shapes.map(() => [] as LiveUpdate<unknown>[]);
          const lives = shapes.map((s, i) => s.build(db).live((u) => updates[i]?.push(u)));
          for (const ops of commits) {
            await db.transact((tx) => {
              let players = tx.get<IndexedCollection<Player, string>>('players') as IndexedCollection<
                Player,
                string
              >;
              for (const o of ops) {
                if (o.kind === 'put') players = players.put(player(o.id, o.score, o.team, o.active));
                else if (o.kind === 'delete') players = players.delete(player(o.id, 0, 0, true).id);
                else if (o.kind === 'purge') {
                  for (const p of [...players.values()])
                    if (p.score > o.above) players = players.delete(p.id);
                } else players = fresh(o.ids.map((id) => player(id, id % 16, id % 3, id % 2 === 0)));
              }
              tx.set('players', players);
            });
            await settle(lives, space.sequence);
            for (const [i, shape] of shapes.entries()) {
              const live = lives[i] as LiveQuery<unknown>;
              const expected = shape.build(db).toArray();
              if (shape.ordered) expect(live.rows, shape.name).toEqual(expected);
              else expect(sortedIds(live.rows), shape.name).toEqual(sortedIds(expected));
            }
          }
          // Each update turns the rows before it into its rows: entered and left, nothing else.
          for (const [i, shape] of shapes.entries()) {
            let rows: string[] = [];
            for (const u of updates[i] ?? []) {
              const next = new Set(rows);
              for (const r of u.left) expect(next.delete(idOf(r)), shape.name).toBe(true);
              for (const r of u.entered) {
                expect(next.has(idOf(r)), shape.name).toBe(false);
                next.add(idOf(r));
              }
              rows = u.rows.map(idOf);
              expect([...next].sort(), shape.name).toEqual([...rows].sort());
              for (const c of u.changed) expect(idOf(c.before)).toBe(idOf(c.after));
            }
            expect(rows).toEqual((lives[i] as LiveQuery<unknown>).rows.map(idOf));
          }
          for (const live of lives) live.close();
          await space.close();
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('updates incrementally: a commit outside the window runs nothing again', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('game');
    await db.transact((tx) =>
      tx.set('players', fresh(Array.from({ length: 1000 }, (_, i) => player(i, i % 100, i % 3, true)))),
    );
    const updates: LiveUpdate<Player>[] = [];
    const top = from<Player>(db, 'players')
      .orderBy('score', 'desc')
      .limit(3)
      .live((u) => updates.push(u));
    expect(updates[0]?.rows.map((p) => p.score)).toEqual([99, 99, 99]);
    // A low score changes: nothing shown changes, no update, and no full run.
    await db.transact((tx) =>
      tx.set('players', tx.get<IndexedCollection<Player>>('players')?.put(player(5, 6, 0, true))),
    );
    // A new leader enters, the third leaves.
    await db.transact((tx) =>
      tx.set('players', tx.get<IndexedCollection<Player>>('players')?.put(player(5000, 500, 0, true))),
    );
    await settle([top as LiveQuery<unknown>], space.sequence);
    expect(updates).toHaveLength(2);
    expect(updates[1]?.entered.map((p) => p.id)).toEqual(['p5000']);
    expect(updates[1]?.left).toHaveLength(1);
    expect(updates[1]?.rows.map((p) => p.score)).toEqual([500, 99, 99]);
    expect(top.stats()).toMatchObject({ commits: 2, records: 2, refills: 1 });
    top.close();
    await space.close();
  });

  it('as an async iterator: first the rows, then one update covering the commits it was behind', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('game');
    await db.transact((tx) => tx.set('players', fresh([player(1, 1, 0, true)])));
    const live = from<Player>(db, 'players').orderBy('score', 'desc').limit(2).live();
    const first = await live.next();
    expect(first.value?.rows.map((p: Player) => p.id)).toEqual(['p001']);
    for (const [id, score] of [
      [2, 5],
      [3, 7],
      [4, 0],
    ] as const)
      await db.transact((tx) =>
        tx.set('players', tx.get<IndexedCollection<Player>>('players')?.put(player(id, score, 0, true))),
      );
    await settle([live as LiveQuery<unknown>], space.sequence);
    const next = await live.next();
    expect(next.value?.sequence).toBe(space.sequence);
    expect(next.value?.rows.map((p: Player) => p.id)).toEqual(['p003', 'p002']);
    expect(next.value?.left.map((p: Player) => p.id)).toEqual(['p001']);
    await live.return?.();
    expect(live.active).toBe(false);
    expect((await live.next()).done).toBe(true);
    await space.close();
  });

  it('rejects what it cannot keep current, with typed errors', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    const db = space.database('game');
    await db.transact((tx) => {
      tx.set('players', fresh([]));
      tx.set('plain', [1, 2]);
    });
    const invalid = expect.objectContaining({ reason: 'invalid-argument' });
    expect(() =>
      from<Player>(db, 'players')
        .groupBy('team')
        .live(() => {}),
    ).toThrow(invalid);
    expect(() => from([1, 2]).live(() => {})).toThrow(invalid);
    expect(() => from(db, 'plain').live(() => {})).toThrow(invalid);
    expect(() => from(db, 'missing').live(() => {})).toThrow(
      expect.objectContaining({ reason: 'not-found' }),
    );
    expect(() => from(db, 'missing').toArray()).toThrow(expect.objectContaining({ reason: 'not-found' }));
    await space.close();
  });
});
