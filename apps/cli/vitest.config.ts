import { fileURLToPath } from 'node:url';
import { protoProject } from '../../tooling/vitest/preset.ts';

export default protoProject('cli', {
  testTimeout: 120_000,
  // Builds the studio's page (tsc -b does not run esbuild) before any test starts a studio.
  globalSetup: [fileURLToPath(new URL('./test/setup/build-page.ts', import.meta.url))],
});
