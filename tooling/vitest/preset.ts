/**
 * The shared vitest preset: every package's `vitest.config.ts` calls `protoProject(name)`.
 * Tests resolve `@proto/*` imports to their TypeScript sources through the `@proto/source`
 * export condition, so `pnpm test` needs no build step.
 */
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export const SOURCE_CONDITION = '@proto/source';

/** What a package may change in the preset: its timeout, and setup run once before its tests (`globalSetup`). */
export interface ProjectOverrides {
  readonly testTimeout?: number;
  /** Files whose default export runs once before the project's tests (a build step, a server). */
  readonly globalSetup?: readonly string[];
}

export function protoProject(name: string, overrides: ProjectOverrides = {}) {
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
      ...(overrides.globalSetup === undefined ? {} : { globalSetup: [...overrides.globalSetup] }),
    },
  });
}
