import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tooling/vitest/vitest.network-reads.config.ts'],
  },
});
