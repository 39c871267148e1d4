/**
 * The docs run as written (issue 9, finding 14; links: finding 15). Every TypeScript block of
 * every README and `docs/` page is type-checked as a consumer meets it (against the packages'
 * built `dist` types, `strict`, `skipLibCheck: false`, NodeNext, the workspace's TypeScript) and
 * run in its own process, in a fresh working directory, against the built packages. Each
 * README's install line must name every package its blocks import, and links from published
 * READMEs into the repository must be full GitHub links to paths that exist. The links of every
 * Markdown page of the repository (changelogs, RELEASING.md, the bench report included) must reach
 * a path that exists and, with `#anchor`, a heading of that page (GitHub's heading slugs); the
 * generated API reference's links are checked by `tooling/scripts/api-docs.mjs`.
 *
 * Markers the pages use (see `docs-blocks.ts`): `<!-- fragment -->` before a block means
 * "type-check only"; code inside that comment after `fragment` is a hidden preamble put before
 * the block for the check; a first line `// src/index.ts` makes the block that file of the
 * page's project (a `*.test.ts` file runs with vitest).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CodeBlock,
  headingAnchors,
  importedPackages,
  installedPackages,
  isTypeScript,
  links,
  type MarkdownPage,
  parseMarkdown,
} from './docs-blocks.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const REPOSITORY = 'https://github.com/protobase/protobase-ts';
/** Per block; the whole file stays well under two minutes. */
const RUN_TIMEOUT_MS = 60_000;

const pageFiles = [
  'README.md',
  ...['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => `${group}/${name}/README.md`)
      .filter((page) => existsSync(join(root, page))),
  ),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const pages: MarkdownPage[] = pageFiles.map((page) =>
  parseMarkdown(page, readFileSync(join(root, page), 'utf8')),
);
/**
 * Every Markdown page of the repository for the link checks (the changelogs, RELEASING.md, the
 * bench report and the rest beside the pages above); changesets are release input, not pages.
 */
const linkPageFiles = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
  cwd: root,
  encoding: 'utf8',
})
  .stdout.split('\n')
  .filter((page) => page !== '' && !page.startsWith('.changeset/') && existsSync(join(root, page)));
const typescriptBlocks = pages.flatMap((page) => page.blocks.filter(isTypeScript));
const packageDirs = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);

/** Third-party packages the blocks may import, linked from where the workspace installed them. */
const THIRD_PARTY: Record<string, string> = {
  'better-sqlite3': 'packages/storage-sqlite',
  '@types/better-sqlite3': 'packages/storage-sqlite',
  pg: 'packages/storage-postgres',
  '@types/pg': 'packages/storage-postgres',
  vitest: 'packages/storage-conformance',
  '@types/node': '.',
};

let project = '';
const diagnostics = new Map<string, string[]>();
const otherDiagnostics: string[] = [];

const where = (block: CodeBlock) => `${block.page}:${block.line}`;
const pageDir = (page: string) => join(project, 'blocks', page.replace(/\.md$/, '').replace(/\W+/g, '-'));
const blockFile = (block: CodeBlock) => block.path ?? `block-${block.line}.ts`;
const sourceOf = (block: CodeBlock) => join(pageDir(block.page), blockFile(block));

function node(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
}

const outputOf = (run: SpawnSyncReturns<string>) =>
  [run.error ? `(${run.error.message})` : '', run.stdout, run.stderr].filter(Boolean).join('\n');

/** A consumer project in a temporary directory: node_modules links to the built packages. */
function createProject(dir: string): void {
  const link = (name: string, target: string) => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  };
  for (const name of packageDirs) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as {
      name: string;
    };
    link(pkg.name, join(root, 'packages', name));
  }
  for (const [name, from] of Object.entries(THIRD_PARTY)) link(name, join(root, from, 'node_modules', name));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          moduleDetection: 'force',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          skipLibCheck: false,
          types: ['node'],
          rootDir: '.',
          outDir: 'out',
        },
        include: ['blocks'],
      },
      null,
      2,
    )}\n`,
  );
  for (const block of typescriptBlocks) {
    const file = sourceOf(block);
    if (existsSync(file)) throw new Error(`${where(block)}: a second block names ${blockFile(block)}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, block.preamble === '' ? `${block.code}\n` : `${block.preamble}\n${block.code}\n`);
  }
}

/** Maps a line of a written block file back to the line of the page. */
function pageLine(block: CodeBlock, fileLine: number): number {
  const preambleLines = block.preamble === '' ? 0 : block.preamble.split('\n').length;
  return fileLine <= preambleLines
    ? block.preambleLine + fileLine - 1
    : block.line + fileLine - preambleLines;
}

/** Type-checks and compiles every block in one run of the workspace's TypeScript. */
function compile(): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = node([tsc, '-p', 'tsconfig.json', '--pretty', 'false'], project);
  if (run.error) throw new Error(`tsc did not finish: ${outputOf(run)}`);
  const byFile = new Map(typescriptBlocks.map((block) => [resolve(sourceOf(block)), block]));
  let current: string[] | undefined;
  for (const line of run.stdout.split('\n')) {
    const diagnostic = /^(.+?)\((\d+),(\d+)\): (?:error|warning) (TS\d+: .*)$/.exec(line);
    if (diagnostic === null) {
      if (/^(error|warning) TS\d+/.test(line)) (current = otherDiagnostics).push(line);
      else if (line.trim() !== '') current?.push(line);
      continue;
    }
    const [, file = '', fileLine = '', column = '', message = ''] = diagnostic;
    const block = byFile.get(resolve(project, file));
    if (block === undefined) {
      current = otherDiagnostics;
      current.push(`${resolve(project, file)}(${fileLine},${column}): ${message}`);
      continue;
    }
    current = diagnostics.get(where(block)) ?? [];
    diagnostics.set(where(block), current);
    current.push(`${block.page}:${pageLine(block, Number(fileLine))}:${column} ${message}`);
  }
}

/** Runs one block in a fresh working directory (and TMPDIR) of its own; reports what it left there. */
function runBlock(block: CodeBlock): { run: SpawnSyncReturns<string>; leftBehind: string[] } {
  const sandbox = mkdtempSync(join(tmpdir(), 'proto-docs-run-'));
  try {
    const work = join(sandbox, 'work');
    const temp = join(sandbox, 'tmp');
    mkdirSync(work);
    mkdirSync(temp);
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(key)) env[key] = value;
    }
    Object.assign(env, { TMPDIR: temp, NO_COLOR: '1', FORCE_COLOR: '0' });
    const run = block.path?.endsWith('.test.ts')
      ? node(
          [
            join(project, 'node_modules', 'vitest', 'vitest.mjs'),
            'run',
            '--root',
            pageDir(block.page),
            block.path,
          ],
          work,
          env,
        )
      : node([join(project, 'out', relative(project, sourceOf(block)).replace(/\.m?ts$/, '.js'))], work, env);
    return { run, leftBehind: readdirSync(work) };
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}

beforeAll(() => {
  // Consumers get dist/: build it (a no-op when `tsc -b` already ran, as in `pnpm test`).
  const build = node(
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-b',
      ...packageDirs.map((name) => `packages/${name}`),
    ],
    root,
  );
  if (build.status !== 0) throw new Error(`tsc -b of the packages failed:\n${outputOf(build)}`);
  project = mkdtempSync(join(tmpdir(), 'proto-docs-'));
  createProject(project);
  compile();
}, 120_000);

afterAll(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('demo: the docs run as written', () => {
  it('finds the TypeScript blocks of every page when it reads the READMEs and docs', () => {
    expect(pageFiles).toContain('README.md');
    expect(pageFiles).toContain('docs/write-a-storage-backend.md');
    expect(typescriptBlocks.filter((block) => !block.fragment).length).toBeGreaterThan(8);
    for (const page of pages) {
      expect(
        page.strayMarkers,
        `${page.page}: a fragment marker is not followed by a TypeScript block`,
      ).toEqual([]);
    }
  });

  it('compiles the packages’ published types when the blocks import them', () => {
    expect(otherDiagnostics, otherDiagnostics.join('\n')).toEqual([]);
  });

  for (const block of typescriptBlocks) {
    it(`compiles ${where(block)} when type-checked strictly against the built packages`, () => {
      const found = diagnostics.get(where(block)) ?? [];
      expect(found, `${where(block)} does not compile:\n${found.join('\n')}`).toEqual([]);
    });
  }

  for (const block of typescriptBlocks.filter((b) => !b.fragment)) {
    it(`runs ${where(block)} when executed on its own in a fresh directory`, {
      timeout: RUN_TIMEOUT_MS + 10_000,
    }, () => {
      const { run, leftBehind } = runBlock(block);
      const report = `${where(block)} failed (exit ${run.status ?? run.signal}):\n${outputOf(run)}`;
      expect(run.status, report).toBe(0);
      if (block.path === undefined) expect(run.stderr, report).toBe('');
      expect(
        leftBehind,
        `${where(block)} wrote into its working directory; use a directory it creates`,
      ).toEqual([]);
    });
  }

  it('prints what the root README says when its quick start runs', () => {
    const quickStart = typescriptBlocks.find((block) => block.page === 'README.md' && !block.fragment);
    expect(quickStart?.code).toContain('ObjectSpace.open');
    const { run } = runBlock(quickStart as CodeBlock);
    expect(run.stdout.trim().split('\n'), outputOf(run)).toEqual(['true', '{ apples: 10 }']);
  });

  it('names every imported package in the install lines when a README’s blocks import it', () => {
    const missing: string[] = [];
    for (const page of pages) {
      const installed = installedPackages(page.blocks);
      for (const block of page.blocks.filter(isTypeScript)) {
        for (const name of importedPackages(`${block.preamble}\n${block.code}`)) {
          if (!installed.has(name))
            missing.push(`${where(block)} imports ${name}, which no install line of the page names`);
        }
      }
    }
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('links published READMEs into the repository by full URL when they point at its files', () => {
    const relativeLinks = linkPageFiles
      .filter((page) => /^packages\/[^/]+\/(README|CHANGELOG)\.md$/.test(page))
      .flatMap((page) =>
        links(readFileSync(join(root, page), 'utf8'))
          .filter((link) => !/^(?:[a-z][\w+.-]*:|#)/i.test(link.target))
          .map(
            (link) => `${page}:${link.line} ${link.target} (breaks on npm; use ${REPOSITORY}/blob/main/...)`,
          ),
      );
    expect(relativeLinks, relativeLinks.join('\n')).toEqual([]);
  });

  it('points every link into the repository at a path and anchor that exist when followed', () => {
    expect(linkPageFiles).toEqual(expect.arrayContaining(['RELEASING.md', 'docs/bench/report.md']));
    const broken: string[] = [];
    const anchorsOf = new Map<string, Set<string>>();
    const anchors = (path: string) => {
      let found = anchorsOf.get(path);
      if (found === undefined)
        anchorsOf.set(path, (found = headingAnchors(readFileSync(join(root, path), 'utf8'))));
      return found;
    };
    for (const page of linkPageFiles.map((file) => ({ page: file }))) {
      for (const link of links(readFileSync(join(root, page.page), 'utf8'))) {
        const target = link.target.replace(/[#?].*$/, '');
        const anchor = /#(.+)$/.exec(link.target)?.[1];
        if (target === '' && anchor !== undefined && !/^[a-z][\w+.-]*:/i.test(link.target)) {
          if (!anchors(page.page).has(decodeURIComponent(anchor)))
            broken.push(
              `${page.page}:${link.line} ${link.target}: no heading or anchor #${anchor} on the page`,
            );
          continue;
        }
        const full = new RegExp(`^${REPOSITORY.replace(/[.]/g, '\\.')}/(blob|tree)/main/(.+)$`).exec(target);
        let path: string;
        let kind: 'file' | 'directory' | 'either';
        if (full !== null) {
          path = decodeURIComponent(full[2] as string).replace(/\/$/, '');
          kind = full[1] === 'blob' ? 'file' : 'directory';
        } else if (target !== '' && !/^[a-z][\w+.-]*:/i.test(target)) {
          path = relative(root, resolve(root, dirname(page.page), decodeURIComponent(target)));
          kind = 'either';
        } else {
          if (target.startsWith(`${REPOSITORY}/`))
            broken.push(`${page.page}:${link.line} ${link.target}: not a /blob/main/ or /tree/main/ link`);
          continue;
        }
        const stat = existsSync(join(root, path)) ? statSync(join(root, path)) : undefined;
        const ok =
          stat !== undefined && (kind === 'either' || (kind === 'file' ? stat.isFile() : stat.isDirectory()));
        if (!ok)
          broken.push(
            `${page.page}:${link.line} ${link.target}: no ${kind === 'either' ? 'path' : kind} ${path}`,
          );
        else if (
          anchor !== undefined &&
          path.endsWith('.md') &&
          stat?.isFile() &&
          !anchors(path).has(decodeURIComponent(anchor))
        )
          broken.push(`${page.page}:${link.line} ${link.target}: no heading or anchor #${anchor} in ${path}`);
      }
    }
    expect(broken, broken.join('\n')).toEqual([]);
  });
});
