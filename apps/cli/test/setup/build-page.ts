/**
 * Global setup of the CLI tests: builds the studio's page into `dist/page` (esbuild; a no-op
 * when it is newer than its sources), as `pnpm --filter @proto/cli build` does, so that
 * `pnpm test` on a fresh clone serves the page the browser test loads.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-page.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
}
