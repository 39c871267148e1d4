/**
 * Expiring entries across processes on one SQLite file: another process judges expiry exactly
 * as this one does at the same times; a sweep here and a writer in another process commit side
 * by side without conflicts (they touch different keys); and a sweeping process whose clock runs
 * ahead, given `graceMs` above the skew, removes nothing another process still reads as live.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { ExpiringCache } from '@proto/query';
import { openSqliteBackend } from '@proto/storage-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, spawnTs, watchLines } from './fixtures/spawn.js';

const CHILD = join(FIXTURES, 'expiry-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'proto-expiry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 1_700_000_000_000;
const cache = new ExpiringCache<string, number>('cache');

async function child(args: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  const done = await watchLines(spawnTs(CHILD, args), (line) => lines.push(line));
  expect(done, done.stderr).toMatchObject({ code: 0, signal: null });
  return lines;
}

/** A space on `path` whose clock the caller sets. */
async function openAt(path: string) {
  const clock = { now: T };
  const space = await ObjectSpace.open(await openSqliteBackend({ path }), { clock: () => clock.now });
  return { space, db: space.database('app'), clock };
}

describe('expiring entries in several processes', () => {
  it('another process sees exactly the same entries live at the same times', async () => {
    const path = join(dir, 'agree.sqlite');
    const { space, db, clock } = await openAt(path);
    await db.transact((tx) => {
      for (let i = 0; i < 40; i++)
        cache.in(tx).set(`e:${String(i).padStart(2, '0')}`, i, { expiresAt: T + i * 10 });
    });
    const times = [T, T + 1, T + 150, T + 155, T + 389, T + 390, T + 1000];
    const seen = (await child(['probe', path, ...times.map(String)])).map(
      (line) => JSON.parse(line) as string[],
    );
    const here = times.map((t) => {
      clock.now = t;
      return [...cache.in(db.begin({ readOnly: true })).keys()];
    });
    expect(seen).toEqual(here);
    expect(here.map((keys) => keys.length)).toEqual([39, 39, 24, 24, 1, 0, 0]);
    await space.close();
  }, 60_000);

  it('a sweep here and a writer in another process do not conflict', async () => {
    const path = join(dir, 'sweep.sqlite');
    const { space, db, clock } = await openAt(path);
    await db.transact((tx) => {
      for (let i = 0; i < 200; i++) cache.in(tx).set(`e:${i}`, i, { expiresAt: T + 1 });
    });
    clock.now = T + 10;
    // The writer commits sets of other keys from before the first sweep until after the last.
    const lines: string[] = [];
    let started = () => {};
    const begun = new Promise<void>((resolve) => {
      started = resolve;
    });
    const writerProcess = spawnTs(CHILD, ['write', path, String(T + 10)]);
    const writer = watchLines(writerProcess, (line) => {
      lines.push(line);
      if (line === 'started') started();
    });
    await Promise.race([begun, writer]);
    let removed = 0;
    try {
      for (;;) {
        const report = await cache.sweep(db, { limit: 2 });
        removed += report.removed;
        if (!report.more) break;
      }
    } finally {
      // Whatever happened here, the writer stops.
      writerProcess.stdin.end('stop\n');
    }
    const done = await writer;
    expect(done, done.stderr).toMatchObject({ code: 0, signal: null });
    const written = JSON.parse(lines.at(-1) ?? '{}') as { commits: number; conflicts: number };
    expect(written.conflicts).toBe(0);
    expect(written.commits).toBeGreaterThan(1);
    expect(removed).toBe(200);
    expect(space.stats().conflicts).toBe(0);
    await space.refresh();
    const keys = [...cache.in(db.begin({ readOnly: true })).keys()];
    expect(keys.filter((k) => k.startsWith('e:'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('w:'))).toHaveLength(written.commits);
    await space.close();
  }, 60_000);

  it('with graceMs above the clock skew, a sweeper whose clock runs ahead removes nothing still live elsewhere', async () => {
    const path = join(dir, 'skew.sqlite');
    const accurate = await openAt(path);
    const ahead = await openAt(path);
    await accurate.db.transact((tx) => {
      for (let i = 0; i < 20; i++) cache.in(tx).set(`e:${i}`, i, { expiresAt: T + 100 + i * 10 });
    });
    // The accurate clock reads T + 105: entries from T + 110 on are live. The other runs 150 ms ahead.
    accurate.clock.now = T + 105;
    ahead.clock.now = T + 255;
    await ahead.space.refresh();
    const graced = await cache.sweep(ahead.db, { graceMs: 200 });
    await accurate.space.refresh();
    const liveKeys = () => [...cache.in(accurate.db.begin({ readOnly: true })).keys()];
    // Only e:0 has expired by the accurate clock; the graced sweep (cutoff T + 55) removes nothing.
    expect(graced.removed).toBe(0);
    expect(liveKeys()).toHaveLength(19);
    // Without grace, the fast clock's sweep removes entries the accurate process still reads as live.
    const eager = await cache.sweep(ahead.db);
    await accurate.space.refresh();
    expect(eager.removed).toBe(16);
    expect(liveKeys()).toHaveLength(4);
    await accurate.space.close();
    await ahead.space.close();
  }, 60_000);
});
