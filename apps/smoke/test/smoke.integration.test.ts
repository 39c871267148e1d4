import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installConsumer, run, scratch, tarballOf } from './setup/consumer.ts';

const PICKED = ['atom', 'storage-memory', 'collections'];
const work = scratch('consumer');

afterAll(() => work.dispose());

describe('smoke: published artifacts', () => {
  it('installs a pick-and-choose subset from packed tarballs and runs it', () => {
    const packed = inject('packed');
    const app = installConsumer(
      work.dir,
      'app',
      PICKED.map((folder) => tarballOf(packed, folder)),
    );
    copyFileSync(new URL('../fixture/consumer.mjs', import.meta.url), join(app, 'consumer.mjs'));
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
