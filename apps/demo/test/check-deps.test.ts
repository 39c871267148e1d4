/**
 * The repo check (`tooling/scripts/check-deps.mjs`) run on small fixture trees: it fails on a
 * re-created kernel `Symbol.for` key and on reads of another package's `_` members (issue 10),
 * and passes the same tree without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../tooling/scripts/check-deps.mjs', import.meta.url));
const trees: string[] = [];

afterEach(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

// Fixture texts are assembled so that this file itself neither re-creates a key nor reads a
// `_` member in the repo check's eyes.
const symbolFor = (key: string) => `Symbol.for(${"'"}${key}')`;
const scanMember = '_scan';

/** A package manifest the check accepts: no side effects, published exports without the source condition. */
function manifest(
  name: string,
  dependencies: Record<string, string> = {},
  peers: Record<string, string> = {},
) {
  const entry = { types: './dist/index.d.ts', default: './dist/index.js' };
  return {
    name,
    type: 'module',
    sideEffects: false,
    dependencies,
    peerDependencies: peers,
    exports: { '.': { '@proto/source': './src/index.ts', ...entry }, './package.json': './package.json' },
    publishConfig: { exports: { '.': entry, './package.json': './package.json' } },
  };
}

/** The base tree: four packages that follow the rules, plus `extra` files (path → text). */
function tree(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'proto-check-deps-'));
  trees.push(root);
  const atomPeer = { '@proto/atom': 'workspace:*' };
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'fixture', private: true, devDependencies: {} }),
    'packages/atom/package.json': JSON.stringify(manifest('@proto/atom')),
    'packages/atom/src/index.ts': [
      `export const STAMP: unique symbol = ${symbolFor('@proto/atom-pointer')} as never;`,
      'export class Atom {',
      '  _stamp: string | undefined = undefined;',
      '}',
    ].join('\n'),
    'packages/collections/package.json': JSON.stringify(manifest('@proto/collections', {}, atomPeer)),
    'packages/collections/src/index.ts': [
      "import { Atom } from '@proto/atom';",
      'export class Dictionary extends Atom {',
      '  /** @internal */',
      '  _scan(): number {',
      '    return this._stamp === undefined ? 0 : 1;',
      '  }',
      '}',
    ].join('\n'),
    'packages/storage-wal/package.json': JSON.stringify(manifest('@proto/storage-wal', {}, atomPeer)),
    'packages/storage-wal/src/index.ts': `export const HELD = ${symbolFor('@proto/storage-wal/held-locks')};`,
    'packages/query/package.json': JSON.stringify(
      manifest('@proto/query', { '@proto/collections': 'workspace:*' }, atomPeer),
    ),
    'packages/query/src/index.ts': [
      "import { Dictionary } from '@proto/collections';",
      `// A comment may name dict.${scanMember}() without reading it.`,
      'export class Indexed {',
      '  _state = 0;',
      '  _scan(): number {',
      '    return this._state + this._scan.length;',
      '  }',
      '  read(other: Indexed): number {',
      '    return other._state;',
      '  }',
      '}',
      'export const make = () => new Dictionary();',
    ].join('\n'),
    ...extra,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('repo check: package seams (issue 10)', () => {
  it('passes when packages use only their own symbol keys and their own _ members', () => {
    const result = check(tree());
    expect(result.output).toMatch(/4 workspace packages, dependency arrows and exports respected/);
    expect(result.status).toBe(0);
  });

  it('fails when a package other than atom re-creates a kernel Symbol.for key', () => {
    const result = check(
      tree({
        'packages/collections/src/slots.ts': `const POINTER = ${symbolFor('@proto/atom-pointer')};\nexport { POINTER };`,
        'packages/storage-wal/src/other.ts': `export const K = ${symbolFor('@proto/storage-walrus')};`,
      }),
    );
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      `packages/collections/src/slots.ts: re-creates ${symbolFor('@proto/atom-pointer')}`,
    );
    // A name that merely starts with the package's name is not the package's.
    expect(result.output).toContain(
      `packages/storage-wal/src/other.ts: re-creates ${symbolFor('@proto/storage-walrus')}`,
    );
    expect(result.output).not.toContain('packages/storage-wal/src/index.ts');
    expect(result.output).not.toContain('packages/atom/src/index.ts');
  });

  it("fails when a package reads another package's _ member through a cast or a bracket", () => {
    const result = check(
      tree({
        'packages/query/src/scan.ts': [
          "import type { Dictionary } from '@proto/collections';",
          'type Scannable = { _scan(): number };',
          `export const scan = (dict: Dictionary) => (dict as unknown as Scannable).${scanMember}();`,
        ].join('\n'),
        'packages/query/src/bracket.ts': [
          "import type { Dictionary } from '@proto/collections';",
          `export const scan = (dict: Dictionary) => (dict as never)['${scanMember}'];`,
        ].join('\n'),
      }),
    );
    expect(result.status).toBe(1);
    for (const file of ['scan.ts', 'bracket.ts']) {
      expect(result.output).toContain(
        `packages/query/src/${file}: reads _scan, a _ member of @proto/collections's classes`,
      );
    }
    expect(result.output).not.toContain('packages/query/src/index.ts');
  });
});
