/**
 * The `network reads` project: the collections and query suites run again on backends without
 * synchronous reads and with tiny caches (see `network-reads.ts`). Excluded are the files that
 * measure the cache or the synchronous backend themselves (atoms loaded, cache hits, which
 * backend is open), where a different count is no defect.
 */
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { SOURCE_CONDITION } from './preset.ts';

const conditions = [SOURCE_CONDITION, 'module', 'node', 'import', 'default'];

export default defineProject({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'network reads',
    dir: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['packages/collections/test/**/*.test.ts', 'packages/query/test/**/*.test.ts'],
    exclude: [],
    environment: 'node',
    setupFiles: [
      fileURLToPath(new URL('./seed.ts', import.meta.url)),
      fileURLToPath(new URL('./network-reads.ts', import.meta.url)),
    ],
    testTimeout: 60_000,
  },
});
