#!/usr/bin/env node
/**
 * The repo check: fails when a package depends on one it must not (the arrows in the design:
 * everything points down towards @proto/atom) or reaches into another package's internals:
 * - imports a deep path its `exports` map does not offer, or a relative path that leaves the package;
 * - re-creates a `Symbol.for('@proto/...')` key that is not its own (the kernel's atom stamps
 *   are reached through `@proto/atom/extension`, never by re-creating the symbol);
 * - reads a `_`-prefixed member of another package's classes.
 * Run by `pnpm test` and `pnpm lint`. `node check-deps.mjs [root]` checks another tree (tests).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../..'));

/** Allowed @proto/* edges per package: runtime (dependencies + peers) and test-only (dev). */
const ALLOWED = {
  '@proto/atom': { runtime: [], dev: ['@proto/storage-memory'] },
  '@proto/storage-memory': { runtime: ['@proto/atom'], dev: ['@proto/storage-conformance'] },
  '@proto/storage-wal': {
    runtime: ['@proto/atom'],
    dev: ['@proto/storage-conformance', '@proto/collections'],
  },
  '@proto/storage-sqlite': { runtime: ['@proto/atom'], dev: ['@proto/storage-conformance'] },
  '@proto/storage-postgres': {
    runtime: ['@proto/atom'],
    dev: ['@proto/storage-conformance', '@proto/collections', '@proto/query'],
  },
  '@proto/storage-conformance': { runtime: ['@proto/atom'], dev: ['@proto/storage-memory'] },
  '@proto/collections': { runtime: ['@proto/atom'], dev: ['@proto/storage-memory'] },
  '@proto/query': { runtime: ['@proto/atom', '@proto/collections'], dev: ['@proto/storage-memory'] },
  '@proto/vector': {
    runtime: ['@proto/atom', '@proto/collections', '@proto/query'],
    dev: ['@proto/storage-memory', '@proto/storage-wal'],
  },
};
/** Packages that exchange objects with the kernel must take it as a peer (one kernel per tree). */
const PEER_ONLY = new Set(['@proto/atom']);
/** The package whose `Symbol.for('@proto/...')` keys are the kernel's: nobody else may re-create them. */
const SYMBOL_OWNER = '@proto/atom';

const problems = [];
const workspaces = [];
for (const group of ['packages', 'apps', 'tooling']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgDir = join(dir, name);
    try {
      workspaces.push({
        dir: pkgDir,
        group,
        pkg: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')),
      });
    } catch {
      // not a package
    }
  }
}
// The root's devDependencies serve tests that cannot declare a workspace cycle (atom ⇄ storage-memory).
const rootDev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies ?? {};
const byName = new Map(workspaces.map((w) => [w.pkg.name, w]));
/** Package name → the `_` member names its `src` declares (see `underscoreMembers`). */
const membersByPackage = new Map();

for (const { dir, group, pkg } of workspaces) {
  const where = relative(root, dir);
  const runtime = { ...pkg.dependencies, ...pkg.peerDependencies };
  const dev = pkg.devDependencies ?? {};
  const declared = new Set([...Object.keys(runtime), ...Object.keys(dev)]);
  if (group === 'packages') {
    const rules = ALLOWED[pkg.name];
    if (rules === undefined) {
      problems.push(
        `${where}: ${pkg.name} has no entry in the dependency rules (tooling/scripts/check-deps.mjs)`,
      );
      continue;
    }
    for (const dep of Object.keys(runtime).filter((d) => d.startsWith('@proto/'))) {
      if (!rules.runtime.includes(dep)) problems.push(`${where}: ${pkg.name} must not depend on ${dep}`);
      if (PEER_ONLY.has(dep) && !(pkg.peerDependencies && dep in pkg.peerDependencies)) {
        problems.push(`${where}: ${pkg.name} must take ${dep} as a peer dependency`);
      }
    }
    for (const dep of Object.keys(dev).filter((d) => d.startsWith('@proto/'))) {
      if (!rules.runtime.includes(dep) && !rules.dev.includes(dep)) {
        problems.push(`${where}: ${pkg.name} must not depend on ${dep}, even for tests`);
      }
    }
  }
  if (group === 'packages') checkPublishedManifest(where, dir, pkg);
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file).split(sep).join('/');
    if (pkg.name !== SYMBOL_OWNER) checkSymbolKeys(rel, text, pkg.name);
    const importedPackages = new Set();
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const spec = match[1];
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (relative(dir, target).startsWith('..') && !isSharedTooling(target)) {
          problems.push(
            `${rel}: relative import '${spec}' leaves its package; import the other package by name`,
          );
        }
        continue;
      }
      const m = /^(@proto\/[^/]+)(\/.*)?$/.exec(spec);
      if (m === null) continue;
      const [, dep, sub] = m;
      if (dep === pkg.name) continue;
      importedPackages.add(dep);
      const testOnly = rel.includes('/test/') && ALLOWED[pkg.name]?.dev.includes(dep) && dep in rootDev;
      if (!declared.has(dep) && group === 'packages' && !testOnly) {
        problems.push(`${rel}: imports ${dep}, which ${pkg.name} does not declare`);
      }
      const target = byName.get(dep);
      if (target === undefined) {
        problems.push(`${rel}: imports ${dep}, which is not a workspace package`);
        continue;
      }
      const exportsMap = target.pkg.exports ?? {};
      const key = `.${sub ?? ''}`;
      if (!(key in exportsMap) || exportsMap[key] === null || key.startsWith('./internal')) {
        problems.push(`${rel}: imports '${spec}', which ${dep} does not export (internals are closed)`);
      }
    }
    checkUnderscoreMembers(rel, text, importedPackages);
  }
}

/**
 * `Symbol.for` keys under `@proto/` belong to the package they are named after: a package may
 * use `@proto/<its name>` and `@proto/<its name>/...`, and nothing else (the kernel's stamps
 * `@proto/atom-pointer` and `@proto/atom-loader` are reached through `@proto/atom/extension`).
 */
function checkSymbolKeys(rel, text, pkgName) {
  for (const match of text.matchAll(/Symbol\.for\(\s*(['"`])(@proto\/[^'"`]*)/g)) {
    const key = match[2];
    if (key === pkgName || key.startsWith(`${pkgName}/`)) continue;
    problems.push(
      `${rel}: re-creates Symbol.for('${key}'), a key that is not ${pkgName}'s; use the owning package's public functions (for atom stamps: @proto/atom/extension)`,
    );
  }
}

/**
 * Reads of another package's `_` members, found at the level of regular expressions: in a file
 * that imports @proto/X, a `._name` or `['_name']` access (not on `this`, outside comments)
 * whose name is declared as a member in X's `src`. It catches duck typing such as
 * `(dict as unknown as Scannable)._scan(...)`; it cannot see a `_` member reached through a
 * destructuring or a computed name.
 */
function checkUnderscoreMembers(rel, text, importedPackages) {
  if (importedPackages.size === 0) return;
  const code = withoutComments(text);
  for (const dep of importedPackages) {
    const members = underscoreMembers(dep);
    if (members.size === 0) continue;
    const accesses = [
      ...code.matchAll(/(\bthis\s*)?\??\.\s*(_[A-Za-z$][\w$]*)/g),
      ...code.matchAll(/(\bthis\s*)?\[\s*['"](_[A-Za-z$][\w$]*)['"]\s*\]/g),
    ];
    const names = new Set(accesses.filter((m) => m[1] === undefined).map((m) => m[2]));
    for (const name of [...names].filter((n) => members.has(n)).sort()) {
      problems.push(
        `${rel}: reads ${name}, a _ member of ${dep}'s classes; ask ${dep} for a public function instead`,
      );
    }
  }
}

/** The `_`-prefixed member names a workspace package declares in its `src` (classes, interfaces). */
function underscoreMembers(name) {
  let members = membersByPackage.get(name);
  if (members !== undefined) return members;
  members = new Set();
  const target = byName.get(name);
  const srcDir = target === undefined ? undefined : join(target.dir, 'src');
  if (srcDir !== undefined && existsSync(srcDir)) {
    const declaration =
      /^[ \t]+(?:(?:public|protected|private|static|abstract|readonly|override|declare|get|set|async)\s+)*(_[A-Za-z$][\w$]*)\s*[?!]?\s*[(:=<;]/gm;
    for (const file of sourceFiles(srcDir)) {
      for (const match of withoutComments(readFileSync(file, 'utf8')).matchAll(declaration))
        members.add(match[1]);
    }
  }
  membersByPackage.set(name, members);
  return members;
}

/** `text` with block and line comments blanked (a regex-level approximation). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

/**
 * What a published manifest must say about its modules. A module that registers atom types or
 * index kinds at load (a top-level `registerAtomType(` or `registerIndexKind(` call) must be listed in `sideEffects`, as built and as
 * source, and so must the package entry, or a bundler drops it and a program cannot read the
 * type back. The published `exports` (`publishConfig.exports`) are the workspace's without the
 * `@proto/source` condition, which only the workspace's tests and tools use.
 */
function checkPublishedManifest(where, dir, pkg) {
  const srcDir = join(dir, 'src');
  const registering = [...sourceFiles(srcDir)]
    .filter((file) => /^(registerAtomType|registerIndexKind)\(/m.test(readFileSync(file, 'utf8')))
    .map((file) => relative(srcDir, file).replace(/\.ts$/, ''));
  const declared = Array.isArray(pkg.sideEffects) ? pkg.sideEffects : [];
  if (registering.length === 0 && pkg.sideEffects !== false) {
    problems.push(
      `${where}: ${pkg.name} registers no atom type or index kind at load; declare "sideEffects": false`,
    );
  }
  for (const module of registering) {
    for (const path of [`./dist/${module}.js`, `./src/${module}.ts`]) {
      if (!declared.includes(path)) {
        problems.push(
          `${where}: src/${module}.ts registers atom types or index kinds at load; list "${path}" in "sideEffects"`,
        );
      }
    }
  }
  if (registering.length > 0) {
    for (const path of ['./dist/index.js', './src/index.ts']) {
      if (!declared.includes(path)) {
        problems.push(
          `${where}: its entry reaches modules that register atom types or index kinds; list "${path}" in "sideEffects"`,
        );
      }
    }
  }
  const expected = JSON.stringify(withoutSourceCondition(pkg.exports ?? {}));
  if (JSON.stringify(pkg.publishConfig?.exports) !== expected) {
    problems.push(
      `${where}: "publishConfig.exports" must be "exports" without the @proto/source condition: ${expected}`,
    );
  }
}

function withoutSourceCondition(exportsMap) {
  return Object.fromEntries(
    Object.entries(exportsMap).map(([key, target]) => {
      if (target === null || typeof target !== 'object') return [key, target];
      const { '@proto/source': _source, ...published } = target;
      return [key, published];
    }),
  );
}

function isSharedTooling(target) {
  return relative(join(root, 'tooling'), target).startsWith('..') === false;
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

if (problems.length > 0) {
  console.error(`repo check: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`repo check: ${workspaces.length} workspace packages, dependency arrows and exports respected`);
