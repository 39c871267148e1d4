import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStorageConformance } from '@proto/storage-conformance';
import { openWalBackend } from '@proto/storage-wal';

describeStorageConformance({
  name: 'wal',
  createLocation: () => mkdtempSync(join(tmpdir(), 'proto-wal-conformance-')),
  open: (location) => openWalBackend({ path: location as string }),
  destroyLocation: (location) => rmSync(location as string, { recursive: true, force: true }),
});
