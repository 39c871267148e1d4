import { copyFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installConsumer, run, scratch, smokeDir, tarballOf } from './setup/consumer.ts';

const work = scratch('postgres');
afterAll(() => work.dispose());

const server = inject('postgres');
// Without a server the test says why it skips, except under CI, where it must run.
if (server.url === null && process.env.CI === 'true')
  throw new Error(`the smoke test of @proto/storage-postgres needs PostgreSQL under CI: ${server.reason}`);
const withServer = server.url === null ? it.skip : it;
const why = server.url === null ? ` [skipped: no PostgreSQL server: ${server.reason}]` : '';

describe('smoke: @proto/storage-postgres from its tarball', () => {
  withServer(`reads cold through transact, db.read and begin() against a real server${why}`, () => {
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
