#!/usr/bin/env node
/**
 * Builds the studio's page (`apps/cli/studio/*`: plain DOM and TypeScript) into `dist/page`
 * with esbuild: one bundled script, the style sheet and the HTML, served by `proto studio` from
 * the package (nothing is fetched from elsewhere at run time). Run by the package's `build`, by
 * `pnpm proto` and by the CLI tests' global setup; it does nothing when the output is newer than
 * every source (`--force` builds anyway). Type-checking is `tsc -b`'s job (studio/tsconfig.json).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(cli, 'studio');
const out = join(cli, 'dist', 'page');
const outputs = ['index.html', 'app.css', 'app.js'].map((f) => join(out, f));

function newest(dir) {
  let time = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    time = Math.max(time, s.isDirectory() ? newest(join(dir, name)) : s.mtimeMs);
  }
  return time;
}

const inputs = Math.max(newest(sources), statSync(join(cli, 'src', 'studio', 'protocol.ts')).mtimeMs);
const fresh =
  !process.argv.includes('--force') && outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= inputs);
if (!fresh) {
  const { build } = await import('esbuild');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(sources, 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(sources, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(sources, 'app.css'), join(out, 'app.css'));
}
