import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'proto-smoke-'));
const PICKED = ['atom', 'storage-memory', 'collections'];

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('smoke: published artifacts', () => {
  it('installs a pick-and-choose subset from packed tarballs and runs it', () => {
    run('pnpm', ['exec', 'tsc', '-b', ...PICKED.map((p) => `packages/${p}`)], root);
    const tarballs = join(work, 'tarballs');
    for (const name of PICKED) {
      run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', name));
    }
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files).toHaveLength(PICKED.length);

    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    copyFileSync(new URL('../fixture/consumer.mjs', import.meta.url), join(app, 'consumer.mjs'));
    run(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...files.map((f) => join(tarballs, f)),
      ],
      app,
    );
    const installed = readdirSync(join(app, 'node_modules', '@proto')).sort();
    expect(installed).toEqual([...PICKED].sort());

    const output = JSON.parse(run(process.execPath, ['consumer.mjs'], app));
    expect(output).toEqual({
      people: [
        ['ada', 36],
        ['grace', 45],
      ],
      conflicted: true,
      codec: true,
    });
  });
});
