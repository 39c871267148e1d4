import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { buildTree, tempDir } from './helpers.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('storage-wal: file modes', () => {
  it('creates the directory 0700 and every file 0600, including after rollover and compaction', async () => {
    const dir = join(tempDir(), 'nested', 'db');
    const backend = await openWalBackend({ path: dir, segmentBytes: 2048 });
    await buildTree(backend, { versions: 3, fanout: 3, leafBytes: 200 });
    const whileOpen = readdirSync(dir);
    expect(whileOpen).toContain('LOCK');
    expect(whileOpen.filter((name) => name.endsWith('.wal')).length).toBeGreaterThan(1);
    for (const name of whileOpen) expect(modeOf(join(dir, name)), name).toBe(0o600);
    await backend.close();

    await compactWal(dir);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(join(dir, '..'))).toBe(0o700);
    const after = readdirSync(dir);
    expect(after).toContain('MANIFEST');
    for (const name of after) expect(modeOf(join(dir, name)), name).toBe(0o600);
  });
});
