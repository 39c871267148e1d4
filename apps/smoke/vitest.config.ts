import { protoProject } from '../../tooling/vitest/preset.ts';

const project = protoProject('smoke', { testTimeout: 180_000 });

// Every test file checks the same tarballs: built and packed once, before any file runs; the
// PostgreSQL backend's consumer test gets a server of its own.
export default {
  ...project,
  test: { ...project.test, globalSetup: ['./test/setup/pack.ts', '../../tooling/vitest/postgres.ts'] },
};
