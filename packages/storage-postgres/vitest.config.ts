import { protoProject } from '../../tooling/vitest/preset.ts';

const project = protoProject('storage-postgres', { testTimeout: 60_000 });
// Without the preset's `import` condition: vitest applies the conditions to require() too, and
// pg requires pg-pool, whose `import` export is an ES module wrapper.
const conditions = ['@proto/source', 'node', 'default'];

// One PostgreSQL server for every test file, started before the first and stopped after the last.
export default {
  ...project,
  resolve: { ...project.resolve, conditions },
  ssr: { ...project.ssr, resolve: { ...project.ssr?.resolve, conditions } },
  test: { ...project.test, globalSetup: ['./test/setup/postgres.ts'] },
};
