import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import type { PackedPackage } from './setup/pack.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The one repository every package points at. */
const REPOSITORY = 'https://github.com/protobase/protobase-ts';
const COPYRIGHT = 'Copyright (c) 2026 The ProtoBase authors';

interface Manifest {
  license?: string;
  repository?: unknown;
  homepage?: string;
  bugs?: unknown;
  files?: string[];
  scripts?: Record<string, string>;
  exports?: unknown;
  sideEffects?: boolean | string[];
}

/** A tarball's entries (without the `package/` prefix) and its manifest, as npm would see them. */
function readTarball(tarball: string): {
  entries: Set<string>;
  manifest: Manifest;
  read(path: string): string;
} {
  const tar = (args: string[]) =>
    execFileSync('tar', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const entries = new Set(
    tar(['-tzf', tarball])
      .split('\n')
      .filter((line) => line.startsWith('package/'))
      .map((line) => line.slice('package/'.length)),
  );
  const read = (path: string) => tar(['-xzOf', tarball, `package/${path}`]);
  return { entries, manifest: JSON.parse(read('package.json')) as Manifest, read };
}

/** Every string target in an exports map, with the conditions on the way to it. */
function* exportTargets(node: unknown, conditions: string[] = []): Generator<[string[], string]> {
  if (typeof node === 'string') yield [conditions, node];
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) yield* exportTargets(value, [...conditions, key]);
  }
}

/** Script arguments that name a file: a relative path or a file name with an extension. */
function namedFiles(command: string): string[] {
  return command
    .split(/\s+/)
    .filter((word) => word.length > 0 && !word.startsWith('-'))
    .filter((word) => word.includes('/') || /\.(?:[cm]?[jt]s|json|sh)$/.test(word))
    .map((word) => word.replace(/^\.\//, ''));
}

function eachPackage(
  check: (pkg: PackedPackage, tarball: ReturnType<typeof readTarball>) => string[],
): string[] {
  return inject('packed').flatMap((pkg) =>
    check(pkg, readTarball(pkg.tarball)).map((p) => `${pkg.name}: ${p}`),
  );
}

// Issue 9, finding 15: the packages shipped no LICENSE, no repository/homepage/bugs, a script
// naming a file outside the tarball, and the workspace-only @proto/source export condition.
describe('smoke: packed manifests', () => {
  it('ships LICENSE, README.md and CHANGELOG.md and names the repository, homepage and bugs when packed', () => {
    const problems = eachPackage(({ folder }, { entries, manifest, read }) => {
      const found: string[] = [];
      // A package gets its CHANGELOG.md at its first release (`pnpm version-packages`).
      const changelog = existsSync(join(root, 'packages', folder, 'CHANGELOG.md')) ? ['CHANGELOG.md'] : [];
      for (const file of ['LICENSE', 'README.md', 'package.json', ...changelog]) {
        if (!entries.has(file)) found.push(`no ${file} in the tarball`);
      }
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) {
        if (!manifest.files?.includes(file)) found.push(`"files" does not list ${file}`);
      }
      if (
        entries.has('LICENSE') &&
        !(read('LICENSE').includes('MIT License') && read('LICENSE').includes(COPYRIGHT))
      ) {
        found.push(`LICENSE is not the MIT license with "${COPYRIGHT}"`);
      }
      const expected = {
        license: 'MIT',
        repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${folder}` },
        homepage: `${REPOSITORY}/tree/main/packages/${folder}#readme`,
        bugs: { url: `${REPOSITORY}/issues` },
      };
      for (const [field, value] of Object.entries(expected)) {
        const actual = manifest[field as keyof Manifest];
        if (JSON.stringify(actual) !== JSON.stringify(value)) {
          found.push(`${field} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
        }
      }
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('publishes no script that names a file the tarball does not contain', () => {
    const problems = eachPackage((_pkg, { entries, manifest }) =>
      Object.entries(manifest.scripts ?? {}).flatMap(([script, command]) =>
        namedFiles(command)
          .filter((file) => !entries.has(file))
          .map((file) => `script "${script}" names ${file}, which is not shipped`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('publishes exports and side effects that point at shipped files only, without @proto/source', () => {
    const problems = eachPackage((_pkg, { entries, manifest }) => {
      const found: string[] = [];
      for (const [conditions, target] of exportTargets(manifest.exports)) {
        if (conditions.includes('@proto/source')) found.push(`exports offer @proto/source (${target})`);
        if (!target.includes('*') && !entries.has(target.replace(/^\.\//, ''))) {
          found.push(`exports point at ${target}, which is not shipped`);
        }
      }
      for (const path of Array.isArray(manifest.sideEffects) ? manifest.sideEffects : []) {
        if (!entries.has(path.replace(/^\.\//, '')))
          found.push(`sideEffects lists ${path}, which is not shipped`);
      }
      return found;
    });
    expect(problems).toEqual([]);
  });
});
