import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const directory = mkdtempSync(join(tmpdir(), 'proto-demo-'));
const main = new URL('../src/main.ts', import.meta.url).pathname;

function runDemo() {
  return spawnSync(process.execPath, ['--conditions=@proto/source', '--import', 'tsx', main], {
    env: { ...process.env, PROTO_DEMO_DIR: join(directory, 'shop') },
    encoding: 'utf8',
    timeout: 100_000,
  });
}

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('demo: the main job', () => {
  it('runs its scenario and finds the first run data on the second run', () => {
    const first = runDemo();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('first run: nothing stored yet');
    expect(first.stdout).not.toContain('check failed');
    expect(first.stdout).toContain('✓ the live top 5 equals the query run from scratch');
    expect(first.stdout).toContain('✓ the audit accounts for every point the sixty transactions added');
    expect(first.stdout).toContain('✓ the short sessions expired, the long one is live');
    const second = runDemo();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('run #2: found 10 orders from earlier runs on disk');
  });
});
