import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const scratch = join(new URL('..', import.meta.url).pathname, '.tmp');

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The TypeScript blocks of a Markdown file, in order. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

describe('demo: the README stays true', () => {
  it('runs the quick start of the root README as written', () => {
    const [quickStart] = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(quickStart).toContain('ObjectSpace.open');
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, 'quick-start.ts');
    writeFileSync(file, `${quickStart}\nexport {};\n`);
    const run = spawnSync(process.execPath, ['--conditions=@proto/source', '--import', 'tsx', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['true', '{ apples: 10 }']);
  });
});
