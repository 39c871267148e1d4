/**
 * Killing the PostgreSQL server mid-run (issue 13): commits race on a server of this test's own,
 * which is stopped by PID in immediate mode (SIGQUIT: its sessions die without a checkpoint, as
 * in a crash) while compare-and-sets are in flight. Every call must then settle with a result
 * or with a typed retryable `io` error (compare-and-sets queued behind a lost one included); once
 * the server is started again on the same data, the root is whole, the same backend commits
 * again, and every acknowledged commit is on the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardBackend, isProtoError, type StorageBackend } from '@proto/atom/storage';
import { afterAll, expect, it } from 'vitest';
import { random, tryCommit, walkChain } from '../../../tooling/test-support/chain.js';
import { openPostgresBackend } from '../src/index.js';
import { describeWithServer } from './server.js';
import { postgresScript } from './setup/postgres.js';

const CHAINS = 3;

describeWithServer('storage-postgres: the server killed mid-run', () => {
  const state = mkdtempSync(join(tmpdir(), 'proto-postgres-kill-'));
  afterAll(() => {
    postgresScript('stop', state);
    rmSync(state, { recursive: true, force: true });
  });

  it('fails commits with retryable io errors while the server is down and keeps every acknowledged commit', async () => {
    const url = postgresScript('start', state);
    const backend = guardBackend(
      await openPostgresBackend({ connectionString: url, maxConnections: CHAINS + 1 }),
    );
    const acks: { pointer: string; counter: number }[] = [];
    const failures: unknown[] = [];
    let phase: 'up' | 'down' | 'back' = 'up';
    const next = random(Date.now() % 1_000_000);

    /** Commits until `until()` holds; a failure is recorded (and must be typed) and the loop goes on. */
    async function commitLoop(backend: StorageBackend, writer: string, until: () => boolean): Promise<void> {
      for (let attempt = 0; !until(); attempt += 1) {
        try {
          const done = await tryCommit(backend, writer, attempt, next);
          if (done !== undefined) acks.push(done);
        } catch (error) {
          if (phase === 'up') throw error;
          failures.push(error);
          await new Promise<void>((resolve) => setTimeout(resolve, 20));
        }
      }
    }

    const ackedBeforeKill = 40;
    const loops = Array.from({ length: CHAINS }, (_, i) =>
      commitLoop(backend, `c${i}`, () => phase === 'back'),
    );
    while (acks.length < ackedBeforeKill) await new Promise<void>((resolve) => setTimeout(resolve, 10));
    phase = 'down';
    postgresScript('kill', state);
    const failuresAtKill = failures.length;
    // Let every chain fail while the server is down.
    while (failures.length < failuresAtKill + 2 * CHAINS)
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    const ackedWhileDown = acks.length;
    postgresScript('start', state);
    phase = 'back';
    await Promise.all(loops);

    expect(failures.length).toBeGreaterThanOrEqual(2 * CHAINS);
    for (const failure of failures) {
      expect(isProtoError(failure), String(failure)).toBe(true);
      expect(failure).toMatchObject({ reason: 'io', retryable: true });
    }
    const unknown = failures.filter(
      (failure) => isProtoError(failure) && failure.details.outcome === 'unknown',
    ).length;

    // The root the server holds after the restart is whole: a root whose atoms the crash lost
    // (written before it, committed after it) would fail every later commit with not-found.
    await walkChain(backend, await backend.readRoot());

    // The same backend (its pool reconnects) commits again.
    const before = acks.length;
    let resumed = 0;
    await commitLoop(backend, 'after', () => ++resumed > 10 && acks.length >= before + 5);
    expect(acks.length).toBeGreaterThanOrEqual(before + 5);
    await backend.close();

    // A reopened backend finds every acknowledged commit, atoms byte for byte.
    const reopened = guardBackend(await openPostgresBackend({ connectionString: url }));
    try {
      const chain = await walkChain(reopened, await reopened.readRoot());
      for (const ack of acks) expect(chain.get(ack.pointer)).toBe(ack.counter);
      console.info(
        `storage-postgres server kill: ${acks.length} commits acknowledged (${ackedWhileDown - ackedBeforeKill} settled after the kill), ${failures.length} retryable io failures (${unknown} with an unknown outcome), ${chain.size} on the chain`,
      );
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
