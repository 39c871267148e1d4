/**
 * The demo's change-feed sections: a live leaderboard (the top five players, kept current
 * from each commit's diff while concurrent transactions commit), and an audit of what changed
 * between two commits.
 */
import type { Database, ObjectSpace } from '@proto/atom';
import { from, IndexedCollection } from '@proto/query';
import { check, section, step } from './report.js';

interface Player {
  readonly name: string;
  readonly score: number;
}

const NAMES = ['ada', 'grace', 'edsger', 'barbara', 'donald', 'frances', 'alan', 'margaret', 'ken', 'radia'];

/** Runs the live leaderboard, then audits the commits it made. */
export async function liveLeaderboard(space: ObjectSpace, shop: Database): Promise<void> {
  section('Live leaderboard (live query updated from each commit)');
  if (shop.begin({ readOnly: true }).get('players') === undefined) {
    await shop.transact((tx) =>
      tx.set(
        'players',
        IndexedCollection.from<Player, string>(
          NAMES.map((name) => ({ name, score: 0 })),
          { key: 'name', indexes: { byScore: 'score' } },
        ),
      ),
    );
  }
  const start = space.sequence;
  let updates = 0;
  let leaderChanges = 0;
  let leader: string | undefined;
  const top = from<Player>(shop, 'players')
    .orderBy('score', 'desc')
    .limit(5)
    .live((update) => {
      updates++;
      const first = update.rows[0]?.name;
      if (first !== leader) {
        leaderChanges++;
        leader = first;
      }
    });
  step(`top 5 at commit ${top.sequence}: ${top.rows.map((p) => `${p.name} ${p.score}`).join(', ')}`);
  // Sixty transactions at once, each adding points to one player.
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      shop.transact((tx) => {
        const players = tx.get<IndexedCollection<Player, string>>('players') as IndexedCollection<
          Player,
          string
        >;
        const name = NAMES[(i * 7) % NAMES.length] as string;
        const player = players.get(name) as Player;
        tx.set('players', players.put({ name, score: player.score + 1 + ((i * 13) % 10) }));
      }),
    ),
  );
  const end = space.sequence;
  await new Promise((resolve) => setImmediate(resolve));
  step(`top 5 at commit ${top.sequence}: ${top.rows.map((p) => `${p.name} ${p.score}`).join(', ')}`);
  step(`${updates} live updates over ${end - start} commits; the leader changed ${leaderChanges - 1} times`);
  const stats = top.stats();
  step(`records looked at: ${stats.records}; full query runs: ${stats.refills}`);
  const fresh = from<Player>(shop, 'players').orderBy('score', 'desc').limit(5).toArray();
  check(
    top.sequence === end && JSON.stringify(top.rows) === JSON.stringify(fresh),
    'the live top 5 equals the query run from scratch',
  );
  top.close();

  section('Audit: what changed between two commits');
  const changed = shop.diff(start, end, { roots: ['players'] });
  const entries = changed.flatMap((root) => [...root.entries()]);
  step(`commits ${start} → ${end}: ${entries.length} players changed`);
  for (const e of entries.slice(0, 3)) {
    const before = e.oldValue as Player;
    const after = e.newValue as Player;
    step(`  ${String(e.key)}: ${before.score} → ${after.score}`);
  }
  const gained = entries.reduce(
    (sum, e) => sum + (e.newValue as Player).score - (e.oldValue as Player).score,
    0,
  );
  const expected = Array.from({ length: 60 }, (_, i) => 1 + ((i * 13) % 10)).reduce((a, b) => a + b, 0);
  check(gained === expected, 'the audit accounts for every point the sixty transactions added');
}
