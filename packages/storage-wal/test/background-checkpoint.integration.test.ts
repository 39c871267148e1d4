/**
 * SIGKILL during checkpoints written in the background. A child commits one update after
 * another to a 20,000-record `Dictionary` on the WAL backend, with the smallest checkpoint
 * interval that is written in the background (`fixtures/space-child.ts`); each trial kills it
 * at a random moment around the time a checkpoint falls due, most while its state is being
 * written between commits. After each kill the database must open with every acknowledged
 * commit, and every record as the commits up to the recovered one left it; the next trial goes
 * on from there (so later trials start from a chain of delta records, not a checkpoint).
 *
 * PROTO_WAL_AHEAD_TRIALS (default 6) and PROTO_WAL_AHEAD_SEED (default: drawn, printed on
 * failure) choose how many trials run and their kill plans.
 */
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { KEYS, keyOf, POLICY } from './fixtures/space-data.js';
import { FIXTURES, finished, spawnTs } from './fixtures/spawn.js';
import { tempDir } from './helpers.js';

const TRIALS = Number(process.env.PROTO_WAL_AHEAD_TRIALS ?? 6);
const SEED = Number(process.env.PROTO_WAL_AHEAD_SEED ?? Date.now() % 1_000_000);

interface Killed {
  readonly acked: number;
  /** Atoms written ahead when the child was killed. */
  readonly ahead: number;
}

/** Runs the child until `stop(acks, ahead)` says so, then SIGKILLs it. */
async function runUntil(dir: string, stop: (acks: number, ahead: number) => boolean): Promise<Killed> {
  const child = spawnTs(join(FIXTURES, 'space-child.ts'), [dir]);
  const done = finished(child);
  let acked = -1;
  let acks = 0;
  let ahead = 0;
  let buffer = '';
  let killed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end = buffer.indexOf('\n');
    while (end >= 0) {
      const [word, a, b] = buffer.slice(0, end).split(' ');
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
      if (word === 'ready') acked = Number(a);
      if (word !== 'ack' || killed) continue;
      acked = Number(a);
      ahead = Number(b);
      acks++;
      if (stop(acks, ahead)) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  });
  const result = await done;
  if (result.signal !== 'SIGKILL')
    throw new Error(`child ended on its own (${result.code}): ${result.stderr}`);
  return { acked, ahead };
}

describe('storage-wal: SIGKILL while a checkpoint is written in the background', () => {
  it(`keeps every acknowledged commit and record (${TRIALS} trials)`, async () => {
    const dir = tempDir();
    let seed = SEED;
    const next = () => {
      seed = (seed * 48_271) % 2_147_483_647 || 1;
      return seed / 2_147_483_647;
    };
    let killedWhileAhead = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const context = `trial ${trial}, seed ${SEED} (PROTO_WAL_AHEAD_SEED=${SEED})`;
      // Half the kills land once the pass has written a random number of atoms (up to about
      // the 20,000-record tree's leaves), the rest at a random commit around the due point.
      const plan =
        next() < 0.5
          ? { atoms: 1 + Math.floor(next() * 400), acks: Number.POSITIVE_INFINITY }
          : { atoms: Number.POSITIVE_INFINITY, acks: POLICY.commits - 300 + Math.floor(next() * 1_200) };
      const killed = await runUntil(
        dir,
        (acks, ahead) => ahead >= plan.atoms || acks >= plan.acks || acks > 3 * POLICY.commits,
      );
      if (killed.ahead > 0) killedWhileAhead++;
      const space = await ObjectSpace.open(await openWalBackend({ path: dir }), { checkpoint: POLICY });
      try {
        const tx = space.database('app').begin({ readOnly: true });
        const n = tx.get<number>('n') ?? -1;
        expect(n, context).toBeGreaterThanOrEqual(killed.acked);
        const expected = new Map<string, number>();
        for (let m = 1; m <= n; m++) expected.set(keyOf(m), m);
        const records = tx.get<Dictionary<string, number>>('records');
        expect(records, context).toBeInstanceOf(Dictionary);
        expect(records?.size, context).toBe(KEYS);
        let wrong = 0;
        for (let i = 0; i < KEYS; i++) {
          const k = `key-${i}`;
          if (records?.get(k) !== (expected.get(k) ?? 0)) wrong++;
        }
        expect(wrong, context).toBe(0);
        expect((await space.verify()).problems, context).toEqual([]);
      } finally {
        await space.close();
      }
    }
    // The trials did what they are about: kills while the pass was writing.
    expect(killedWhileAhead).toBeGreaterThan(0);
  }, 300_000);
});
