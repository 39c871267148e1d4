/**
 * The shared vitest preset: every package's `vitest.config.ts` calls `protoProject(name)`.
 * Tests resolve `@proto/*` imports to their TypeScript sources through the `@proto/source`
 * export condition, so `pnpm test` needs no build step.
 */
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export const SOURCE_CONDITION = '@proto/source';

export function protoProject(name: string, overrides: { testTimeout?: number } = {}) {
  const conditions = [SOURCE_CONDITION, 'module', 'node', 'import', 'default'];
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      setupFiles: [fileURLToPath(new URL('./seed.ts', import.meta.url))],
      testTimeout: overrides.testTimeout ?? 30_000,
    },
  });
}
