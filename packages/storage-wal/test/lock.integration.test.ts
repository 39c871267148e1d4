import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { hasReason } from '@proto/atom/storage';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { FIXTURES, finished, runTs, spawnTs } from './fixtures/spawn.js';
import { bytesOf, commitAtom, snapshot, tempDir } from './helpers.js';

const CHILD = join(FIXTURES, 'open-child.ts');

interface Outcome {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly root?: string | null;
}

async function childOutcome(mode: 'open' | 'compact', dir: string): Promise<Outcome> {
  const result = await runTs(CHILD, [mode, dir]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim()) as Outcome;
}

describe('storage-wal: lock', () => {
  it('refuses another process with locked, naming the holder pid, and leaves every file byte-identical', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    await commitAtom(backend, bytesOf('held'));
    const before = snapshot(dir);
    const outcome = await childOutcome('open', dir);
    expect(outcome.ok).toBe(false);
    expect(outcome.reason).toBe('locked');
    expect(outcome.message).toContain(`locked by pid ${process.pid}`);
    expect(outcome.message).toMatch(/close it in that process/);
    expect(snapshot(dir)).toEqual(before);
    // Compaction in another process is refused the same way.
    const compaction = await childOutcome('compact', dir);
    expect(compaction.reason).toBe('locked');
    expect(snapshot(dir)).toEqual(before);
    await backend.close();
  });

  it('refuses a second open in the same process and allows it after close', async () => {
    const dir = tempDir();
    const first = await openWalBackend({ path: dir });
    const error = await openWalBackend({ path: dir }).catch((e: unknown) => e);
    expect(hasReason(error, 'locked')).toBe(true);
    expect(String((error as Error).message)).toContain('already open in this process');
    await expect(compactWal(dir)).rejects.toSatisfy((e) => hasReason(e, 'locked'));
    await first.close();
    const second = await openWalBackend({ path: dir });
    await second.close();
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const dir = tempDir();
    const setup = await openWalBackend({ path: dir });
    const root = await commitAtom(setup, bytesOf('before the holder died'));
    await setup.close();

    const holder = spawnTs(CHILD, ['hold', dir]);
    const done = finished(holder);
    const ready = await new Promise<string>((resolve) => {
      let out = '';
      holder.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
    });
    expect(ready).toBe(`ready ${holder.pid}`);
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(holder.pid);
    holder.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');

    const backend = await openWalBackend({ path: dir });
    expect(await backend.readRoot()).toBe(root);
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
    await backend.close();
  });

  it('takes over a lock that names this pid but no open in this process (pid reuse)', async () => {
    const dir = tempDir();
    const setup = await openWalBackend({ path: dir });
    await setup.close();
    writeFileSync(
      join(dir, 'LOCK'),
      JSON.stringify({ pid: process.pid, host: hostname(), since: 'earlier' }),
    );
    const backend = await openWalBackend({ path: dir });
    await backend.close();
  });

  it('treats a lock from another host as held', async () => {
    const dir = tempDir();
    const setup = await openWalBackend({ path: dir });
    await setup.close();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: 1, host: 'elsewhere.example', since: 'earlier' }));
    const error = await openWalBackend({ path: dir }).catch((e: unknown) => e);
    expect(hasReason(error, 'locked')).toBe(true);
    expect(String((error as Error).message)).toContain('on host elsewhere.example');
  });

  it('releases the lock file on close', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    expect(snapshot(dir).has('LOCK')).toBe(true);
    await backend.close();
    expect(snapshot(dir).has('LOCK')).toBe(false);
    const outcome = await childOutcome('open', dir);
    expect(outcome).toEqual({ ok: true, root: null });
  });
});
