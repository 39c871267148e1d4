import { copyFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installConsumer, run, scratch, smokeDir, tarballOf } from './setup/consumer.ts';

const work = scratch('postgres');
afterAll(() => work.dispose());

describe('smoke: @proto/storage-postgres from its tarball', () => {
  it('reads cold through transact, db.read and begin() against a real server', () => {
    const server = inject('postgres');
    if (server.url === null) throw new Error(`no PostgreSQL for the smoke test: ${server.reason}`);
    const packed = inject('packed');
    const app = installConsumer(
      work.dir,
      'app',
      ['atom', 'collections', 'storage-postgres'].map((folder) => tarballOf(packed, folder)),
    );
    // pg, the optional peer, as the user installs it (the workspace's copy: the install is offline).
    symlinkSync(realpathSync(join(smokeDir, 'node_modules', 'pg')), join(app, 'node_modules', 'pg'));
    copyFileSync(new URL('../fixture/postgres-consumer.mjs', import.meta.url), join(app, 'consumer.mjs'));
    const output = JSON.parse(
      run(
        'bash',
        ['-c', `PROTO_SMOKE_POSTGRES_URL='${server.url}' exec "${process.execPath}" consumer.mjs`],
        app,
      ),
    );
    expect(output).toEqual({ inTransact: 4321, inRead: 1234, inBegin: 4999, batched: true, blocking: true });
  });
});
