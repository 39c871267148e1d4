/**
 * CHANGES: what structural diffs and live queries cost.
 *
 * DIFF: two versions of a 1,000,000-entry `Dictionary` that differ in one random entry; the
 * time to find that change with `diff(older, newer)`, hot (nodes in memory) and cold (both
 * versions stored, caches emptied, so the walk loads its nodes from the backend), beside
 * finding it by comparing two 1M-entry JS `Map`s entry by entry (what a store without shared
 * structure has to do).
 *
 * LIVE: an `IndexedCollection` of 100,000 players (index on `score`), one commit per update of
 * one random player's score, on the memory backend; per commit, the time a live top-10
 * (`from(db, root)...live()`) spends bringing its rows up to date from the commit's diff, beside
 * the time a subscriber spends running the same query again. Two queries: the top 10 by score
 * (the index gives the order), and the top 10 of one team by score.
 *
 * Usage: node --import tsx --expose-gc src/changes.ts [--commits=2000]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, diff, ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { from, IndexedCollection, type Query } from '@proto/query';
import { openMemoryBackend } from '@proto/storage-memory';
import { Random } from './fixtures/data.js';
import type { RatioResult } from './fixtures/ratios.js';
import {
  check,
  collectGarbage,
  fmt,
  machine,
  machineLine,
  ratio,
  table,
  writeResults,
} from './fixtures/timing.js';

const DIFF_N = 1_000_000;
const LIVE_N = 100_000;

const argCommits = process.argv.find((a) => a.startsWith('--commits='));
const COMMITS = argCommits === undefined ? 2000 : Number(argCommits.slice('--commits='.length));

interface Player {
  readonly id: number;
  readonly score: number;
  readonly team: string;
}

/** µs per call of `fn` over `n` calls (after a warm-up of `n / 10`). */
function perCall(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.max(1, n / 10); i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

async function diffRows(random: Random, ratios: RatioResult[]): Promise<string[][]> {
  const entries = Array.from({ length: DIFF_N }, (_, i) => [i, i] as [number, number]);
  const base = Dictionary.from(entries);
  const keys = Array.from({ length: 200 }, () => random.int(DIFF_N));
  const versions = keys.map((k) => base.set(k, -1));
  const hot = perCall(2000, (i) => {
    const found = [...diff(base, versions[i % versions.length])];
    if (found.length !== 1) throw new Error('diff found more than the one change');
  });

  // Cold: both versions stored, caches emptied before each diff.
  const space = await ObjectSpace.open(await openMemoryBackend());
  const db = space.database('bench');
  await db.transact((tx) => tx.set('d', base));
  const older = space.sequence;
  await db.transact((tx) =>
    tx.set('d', (tx.get('d') as Dictionary<number, number>).set(keys[0] as number, -1)),
  );
  await space.checkpoint();
  const reads = 200;
  let cold = 0;
  let loads = 0;
  for (let i = 0; i < reads; i++) {
    space.evictCaches();
    const a = db.begin({ asOf: older }).get('d');
    const b = db.begin().get('d');
    const before = space.stats().cacheMisses;
    const t0 = performance.now();
    const found = [...diff(a, b)];
    cold += performance.now() - t0;
    loads += space.stats().cacheMisses - before;
    check(found.length === 1, 'the cold diff finds the one change');
  }
  await space.close();
  const coldUs = (cold * 1000) / reads;

  // The same change found by comparing two Maps entry by entry.
  const mapA = new Map(entries);
  const mapB = new Map(entries);
  mapB.set(keys[0] as number, -1);
  const scan = perCall(20, () => {
    let changed = 0;
    for (const [k, v] of mapB) if (mapA.get(k) !== v) changed++;
    for (const k of mapA.keys()) if (!mapB.has(k)) changed++;
    if (changed !== 1) throw new Error('the scan found more than the one change');
  });
  console.log(
    `DIFF 1M: hot ${fmt(hot, 1)} µs, cold ${fmt(coldUs, 1)} µs (${fmt(loads / reads, 1)} nodes loaded), Map scan ${fmt(scan)} µs`,
  );
  ratios.push({
    workload: 'CHANGES',
    name: `diff of one change in ${fmt(DIFF_N)} entries, nodes in memory ÷ 100 µs`,
    value: hot / 100,
    target: { atMost: 1 },
    detail: `${fmt(hot, 1)} µs`,
  });
  return [
    ['ProtoBase diff, nodes in memory', `${fmt(hot, 1)} µs`, '-', ratio(scan, hot)],
    [
      'ProtoBase diff, cold (stored, caches emptied)',
      `${fmt(coldUs, 1)} µs`,
      fmt(loads / reads, 1),
      ratio(scan, coldUs),
    ],
    ['two JS Maps compared entry by entry', `${fmt(scan)} µs`, '-', '1.00×'],
  ];
}

interface LiveShape {
  readonly name: string;
  query(db: Database): Query<Player>;
}

const shapes: readonly LiveShape[] = [
  { name: 'top 10 by score', query: (db) => from<Player>(db, 'players').orderBy('score', 'desc').limit(10) },
  {
    name: 'top 10 of team a by score',
    query: (db) => from<Player>(db, 'players').where('team', '==', 'a').orderBy('score', 'desc').limit(10),
  },
];

/** ms for `COMMITS` one-player commits on a fresh space, with `attach` subscribed. */
async function commitsWith(
  random: Random,
  attach: ((db: Database) => () => void) | undefined,
): Promise<{ ms: number; db: Database; close: () => Promise<void> }> {
  const space = await ObjectSpace.open(await openMemoryBackend());
  const db = space.database('bench');
  const teams = ['a', 'b', 'c', 'd'];
  await db.transact((tx) =>
    tx.set(
      'players',
      IndexedCollection.from<Player, number>(
        Array.from({ length: LIVE_N }, (_, id) => ({
          id,
          score: random.int(1_000_000),
          team: teams[id % 4] as string,
        })),
        { key: 'id', indexes: { byScore: 'score', byTeam: 'team' } },
      ),
    ),
  );
  const detach = attach?.(db);
  collectGarbage();
  const t0 = performance.now();
  for (let c = 0; c < COMMITS; c++) {
    const id = random.int(LIVE_N);
    const score = random.int(1_200_000);
    await db.transact((tx) => {
      const players = tx.get<IndexedCollection<Player, number>>('players') as IndexedCollection<
        Player,
        number
      >;
      tx.set('players', players.put({ id, score, team: teams[id % 4] as string }));
    });
  }
  const ms = performance.now() - t0;
  return {
    ms,
    db,
    close: async () => {
      detach?.();
      await space.close();
    },
  };
}

async function liveRows(random: Random, ratios: RatioResult[]): Promise<string[][]> {
  const rows: string[][] = [];
  for (const shape of shapes) {
    let liveRowsNow: readonly Player[] = [];
    let liveStats = { commits: 0, updateMs: 0, refills: 0, records: 0 };
    const live = await commitsWith(random, (db) => {
      const q = shape.query(db).live((u) => {
        liveRowsNow = u.rows;
      });
      return () => {
        liveStats = q.stats();
        q.close();
      };
    });
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = shape.query(live.db).toArray();
    check(
      JSON.stringify(fresh) === JSON.stringify(liveRowsNow),
      `${shape.name}: the live rows equal the query run again`,
    );
    await live.close();
    check(liveStats.commits === COMMITS, `${shape.name}: the live query saw every commit`);
    let rerunRows: readonly Player[] = [];
    let rerunMs = 0;
    let reruns = 0;
    const rerun = await commitsWith(random, (db) => {
      const sub = db.subscribe(
        () => {
          const t0 = performance.now();
          rerunRows = shape.query(db).toArray();
          rerunMs += performance.now() - t0;
          reruns++;
        },
        { roots: ['players'] },
      );
      return () => sub.close();
    });
    await new Promise((resolve) => setImmediate(resolve));
    check(
      rerunRows.length === 10 && reruns === COMMITS,
      `${shape.name}: the query ran again after every commit`,
    );
    await rerun.close();
    const liveUs = (liveStats.updateMs * 1000) / COMMITS;
    const rerunUs = (rerunMs * 1000) / COMMITS;
    const commitUs = (live.ms * 1000) / COMMITS;
    console.log(
      `LIVE 100k ${shape.name}: commit ${fmt(commitUs, 1)} µs; live update ${fmt(liveUs, 1)} µs (${liveStats.refills - 1} refills), query run again ${fmt(rerunUs, 1)} µs`,
    );
    ratios.push({
      workload: 'CHANGES',
      name: `live query ${shape.name} at ${fmt(LIVE_N)}: query run again ÷ live update`,
      value: rerunUs / liveUs,
      target: { atLeast: 10 },
      detail: `${fmt(rerunUs, 1)} µs ÷ ${fmt(liveUs, 1)} µs`,
    });
    rows.push([
      shape.name,
      fmt(commitUs, 1),
      fmt(liveUs, 1),
      fmt(rerunUs, 1),
      ratio(rerunUs, liveUs),
      fmt(liveStats.refills - 1),
    ]);
  }
  return rows;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'proto-bench-changes-'));
  try {
    const host = machine(dir);
    const random = new Random(7);
    const ratios: RatioResult[] = [];
    const diffTable = await diffRows(random, ratios);
    const liveTable = await liveRows(random, ratios);
    const markdown = [
      '## Structural diffs and live queries (CHANGES)',
      '',
      machineLine(host),
      '',
      `DIFF: two versions of a ${fmt(DIFF_N)}-entry Dictionary differing in one random entry.`,
      '',
      table(['how', 'time to find the change', 'nodes loaded', 'Map scan ÷ this'], diffTable),
      '',
      `LIVE: ${fmt(LIVE_N)} players, ${fmt(COMMITS)} commits each updating one random player's score (memory backend); per commit, the time the live query spends bringing its rows up to date from the commit's diff (\`stats().updateMs\`), beside the time to run the query again.`,
      '',
      table(
        [
          'query',
          'commit µs (with the live query)',
          'live update µs',
          'query run again µs',
          'run again ÷ live',
          'refills',
        ],
        liveTable,
      ),
      '',
      `Load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(', ')}. All result checks passed.`,
    ].join('\n');
    console.log(`\n${markdown}`);
    console.log(
      `\nresults: ${writeResults('changes', { machine: host, commits: COMMITS, ratios }, markdown)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
