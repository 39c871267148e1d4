/** The storage conformance suite, run against SQLite database files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStorageConformance } from '@proto/storage-conformance';
import { openSqliteBackend } from '../src/index.js';

describeStorageConformance({
  name: 'sqlite',
  createLocation: () => join(mkdtempSync(join(tmpdir(), 'proto-sqlite-conformance-')), 'db.sqlite'),
  open: (location) => openSqliteBackend({ path: location as string }),
  destroyLocation: (location) => rmSync(join(location as string, '..'), { recursive: true, force: true }),
});
