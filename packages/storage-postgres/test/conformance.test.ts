/** The storage conformance suite, run against PostgreSQL: each location is a fresh schema. */
import { describeStorageConformance } from '@proto/storage-conformance';
import { openPostgresBackend } from '../src/index.js';
import { describeWithServer, dropSchema, freshSchema } from './server.js';

describeWithServer('storage-postgres: conformance', (url) => {
  describeStorageConformance({
    name: 'postgres',
    createLocation: () => freshSchema('conformance'),
    open: (schema) =>
      openPostgresBackend({ connectionString: url, maxConnections: 4 }, { schema: schema as string }),
    destroyLocation: (schema) => dropSchema(url, schema as string),
  });
});
