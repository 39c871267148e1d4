import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installConsumer, run, scratch, tarballOf } from './setup/consumer.ts';

const work = scratch('bundle');
afterAll(() => work.dispose());

const fixture = new URL('../fixture/bundle/', import.meta.url).pathname;

/** Bundles `entry` as a tree-shaken ESM program for Node; returns the output file and the warnings. */
async function bundle(app: string, entry: string): Promise<{ outfile: string; warnings: string[] }> {
  const outfile = join(app, 'bundled', entry);
  const result = await build({
    absWorkingDir: app,
    entryPoints: [join(app, entry)],
    outfile,
    bundle: true,
    treeShaking: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  return { outfile, warnings: result.warnings.map((w) => w.text) };
}

describe('smoke: bundled with esbuild', () => {
  // Issue 9, finding 8: with `"sideEffects": false` esbuild dropped the modules that register
  // atom types, so a program that imported only `Dictionary` could not read a CountedSet.
  it('reads every stored collection type back when the reading bundle imports only Dictionary', async () => {
    const packed = inject('packed');
    const app = installConsumer(
      work.dir,
      'app',
      ['atom', 'collections', 'query', 'storage-wal'].map((folder) => tarballOf(packed, folder)),
    );
    for (const file of readdirSync(fixture)) copyFileSync(join(fixture, file), join(app, file));

    const writer = await bundle(app, 'writer.mjs');
    const reader = await bundle(app, 'reader.mjs');

    const database = join(work.dir, 'database');
    mkdirSync(database);
    const written = JSON.parse(run(process.execPath, [writer.outfile, database], app));
    expect(Object.values(written).map((v) => (v as { type: string }).type)).toEqual([
      'proto.dictionary',
      'proto.list',
      'proto.ordered-set',
      'proto.counted-set',
      'proto.hash-dictionary',
      'proto.repeated-keys-dictionary',
      'proto.query.indexed',
    ]);
    const read = JSON.parse(run(process.execPath, [reader.outfile, database], app));
    expect(read).toEqual(written);
    // esbuild warns when it drops an import for having no side effects (`import '@proto/query'`).
    expect([...writer.warnings, ...reader.warnings]).toEqual([]);
  });
});
