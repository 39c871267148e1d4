/**
 * Consumer projects for the smoke tests: an empty folder outside the workspace that installs
 * some of the packed tarballs with npm, as a user of the published packages would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackedPackage } from './pack.ts';

/** The smoke app's folder (its `node_modules` has esbuild, typescript, publint, attw). */
export const smokeDir = new URL('../../', import.meta.url).pathname;

/** Runs a command and returns its stdout; throws with stderr and stdout when it fails. */
export function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
      {
        cause: error,
      },
    );
  }
}

/** The packed tarball of `@proto/<folder>`. */
export function tarballOf(packed: readonly PackedPackage[], folder: string): string {
  const found = packed.find((p) => p.folder === folder);
  if (found === undefined) throw new Error(`no packed tarball for packages/${folder}`);
  return found.tarball;
}

/** A scratch folder for one test file; `dispose()` removes it. */
export function scratch(prefix: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), `proto-smoke-${prefix}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ConsumerOptions {
  /**
   * Leave peer dependencies to the caller (npm's `--legacy-peer-deps`): for packages whose
   * peers would come from the registry although the test does not need them at run time.
   */
  readonly skipPeers?: boolean;
}

/**
 * Creates `<parent>/<name>` as an ESM project and installs the tarballs into it, offline (the
 * tarballs have no dependency that is not among them). Returns its folder.
 */
export function installConsumer(
  parent: string,
  name: string,
  tarballs: readonly string[],
  options: ConsumerOptions = {},
): string {
  const app = join(parent, name);
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const flags = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];
  if (options.skipPeers === true) flags.push('--legacy-peer-deps');
  run('npm', ['install', ...flags, ...tarballs], app);
  return app;
}
