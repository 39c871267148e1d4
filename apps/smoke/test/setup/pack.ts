/**
 * Global setup of the smoke project: builds every published package once and packs it with
 * `pnpm pack` (what `pnpm publish` would upload), so that each test file checks the same
 * tarballs. The tests read them through `inject('packed')`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/** One packed package: its name (`@proto/atom`), its folder under `packages/`, its tarball. */
export interface PackedPackage {
  readonly name: string;
  readonly folder: string;
  readonly tarball: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packed: PackedPackage[];
  }
}

const root = new URL('../../../../', import.meta.url).pathname;

/** The workspace packages that are published: every `packages/*` that is not private. */
export function publishedFolders(): string[] {
  return readdirSync(join(root, 'packages'))
    .filter((folder) => {
      try {
        const manifest = JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8'));
        return manifest.private !== true;
      } catch {
        return false;
      }
    })
    .sort();
}

export default function setup(project: TestProject): () => void {
  const folders = publishedFolders();
  const run = (args: string[], cwd: string) =>
    execFileSync('pnpm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run(['exec', 'tsc', '-b', ...folders.map((folder) => `packages/${folder}`)], root);
  const destination = mkdtempSync(join(tmpdir(), 'proto-smoke-tarballs-'));
  const packed: PackedPackage[] = [];
  for (const folder of folders) {
    const dir = join(root, 'packages', folder);
    const before = new Set(readdirSync(destination));
    run(['pack', '--pack-destination', destination], dir);
    const created = readdirSync(destination).filter((file) => !before.has(file) && file.endsWith('.tgz'));
    if (created.length !== 1)
      throw new Error(`pnpm pack in packages/${folder} made ${created.length} tarballs`);
    const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string;
    packed.push({ name, folder, tarball: join(destination, created[0]!) });
  }
  project.provide('packed', packed);
  return () => rmSync(destination, { recursive: true, force: true });
}
