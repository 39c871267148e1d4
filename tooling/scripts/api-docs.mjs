#!/usr/bin/env node
/**
 * The API reference: one typedoc site for every published package (`packages/*`), each package
 * documented from the public entry points of its `exports` map (typedoc's `packages` strategy
 * reads them; the declaration maps lead back to the sources and their doc comments), written to
 * `.api-docs/` (ignored by git). Run `tsc -b` first: the entry points are the built `dist` types.
 *
 *   node tooling/scripts/api-docs.mjs           # build and check (pnpm test runs this)
 *   node tooling/scripts/api-docs.mjs --open    # the same, then prints the page to open
 *
 * It fails on any typedoc warning (a `{@link}` that resolves nowhere, a public signature that
 * names a type no entry point exports, a README link to a file that is not there) and on any
 * broken link of the generated HTML: a relative link must reach a file, an anchor an element
 * with that id in it, and a link into the repository on GitHub must name a path that exists.
 * The Markdown pages' own links are checked by `apps/demo/test/docs.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, EntryPointStrategy } from 'typedoc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, '.api-docs');
/** The repository as the package READMEs and the reference's source links name it. */
const REPOSITORY = 'https://github.com/protobase/protobase-ts';

const started = performance.now();
const app = await Application.bootstrapWithPlugins({
  name: 'ProtoBase',
  entryPointStrategy: EntryPointStrategy.Packages,
  entryPoints: readdirSync(join(root, 'packages'))
    .filter((name) => existsSync(join(root, 'packages', name, 'package.json')))
    .filter(
      (name) =>
        JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).private !== true,
    )
    .map((name) => join(root, 'packages', name)),
  out,
  readme: join(root, 'docs', 'README.md'),
  validation: { invalidLink: true, notExported: true, rewrittenLink: true, unusedMergeModuleWith: true },
  treatWarningsAsErrors: true,
  // Each package is converted with these options plus its own `typedoc.json`, where a package
  // lists the types its signatures mention but do not export on purpose (`intentionallyNotExported`).
  packageOptions: {
    excludePrivate: true,
    excludeInternal: true,
    // "Defined in" links to the sources on GitHub (checked below like every other link).
    // Paths relative to the repository root, without git (a worktree has no `.git` folder).
    disableGit: true,
    displayBasePath: root,
    sourceLinkTemplate: `${REPOSITORY}/blob/main/{path}#L{line}`,
    gitRevision: 'main',
  },
  highlightLanguages: ['typescript', 'javascript', 'json', 'sh', 'bash', 'sql'],
  logLevel: 'Warn',
});
const project = await app.convert();
if (project === undefined || app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.error('api-docs: typedoc reported the problems above; fix the doc comments or links it names');
  process.exit(1);
}
// Members inherited from the TypeScript and Node libraries (Error, AsyncIterable) or from another
// package's built types name declaration files in node_modules or dist: say where, but link only
// to files the repository holds.
for (const reflection of Object.values(project.reflections)) {
  for (const source of reflection.sources ?? []) {
    if (/\/(node_modules|dist)\//.test(source.fullFileName)) source.url = undefined;
  }
}
app.validate(project);
if (app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.error('api-docs: typedoc validation failed (see above)');
  process.exit(1);
}
await app.generateDocs(project, out);
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);

const broken = checkLinks(out);
for (const problem of broken.slice(0, 50)) console.error(`api-docs: broken link ${problem}`);
if (broken.length > 50) console.error(`api-docs: ... and ${broken.length - 50} more`);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (broken.length > 0) {
  console.error(`api-docs: ${broken.length} broken link(s) in ${relative(root, out)}/`);
  process.exit(1);
}
console.log(`api-docs: ${relative(root, out)}/index.html, links checked (${seconds} s)`);
if (process.argv.includes('--open')) console.log(`open file://${join(out, 'index.html')}`);

/** Every broken `href`/`src` of the HTML files under `dir`, as `file: target (why)`. */
function checkLinks(dir) {
  const files = walk(dir).filter((file) => file.endsWith('.html'));
  const ids = new Map();
  const idsOf = (file) => {
    let found = ids.get(file);
    if (found === undefined) {
      const html = readFileSync(file, 'utf8');
      found = new Set([...html.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => decodeEntities(m[1])));
      ids.set(file, found);
    }
    return found;
  };
  const problems = [];
  /** Paths that exist here, by the first link to each: git must not ignore them. */
  const repositoryPaths = new Map();
  const githubFile = new RegExp(`^${REPOSITORY.replaceAll('.', '\\.')}/(blob|tree)/main/([^#?]+)`);
  for (const file of files) {
    const html = readFileSync(file, 'utf8');
    for (const match of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const target = decodeEntities(match[1]);
      const where = `${relative(dir, file)}: ${target}`;
      const github = githubFile.exec(target);
      if (github !== null) {
        const path = decodeURIComponent(github[2]).replace(/\/$/, '');
        const full = join(root, path);
        const ok =
          existsSync(full) && (github[1] === 'blob' ? statSync(full).isFile() : statSync(full).isDirectory());
        if (!ok)
          problems.push(
            `${where} (no ${github[1] === 'blob' ? 'file' : 'directory'} ${path} in the repository)`,
          );
        else repositoryPaths.set(path, where);
        continue;
      }
      if (target.startsWith(`${REPOSITORY}/`)) {
        problems.push(`${where} (a link into the repository must be a /blob/main/ or /tree/main/ link)`);
        continue;
      }
      if (target === '' || /^[a-z][\w+.-]*:/i.test(target) || target.startsWith('//')) continue;
      const [pathPart = '', anchor] = target.split('#', 2);
      const linked =
        pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart.replace(/\?.*$/, '')));
      if (!existsSync(linked)) {
        problems.push(`${where} (no file ${relative(dir, linked)})`);
        continue;
      }
      if (
        anchor !== undefined &&
        anchor !== '' &&
        linked.endsWith('.html') &&
        !idsOf(linked).has(decodeURIComponent(anchor))
      )
        problems.push(`${where} (no element with id "${anchor}" in ${relative(dir, linked)})`);
    }
  }
  const ignoredPaths = ignoredByGit([...repositoryPaths.keys()]);
  for (const [path, where] of repositoryPaths) {
    if (ignoredPaths.has(path))
      problems.push(`${where} (${path} is ignored by git, so not in the repository)`);
  }
  return problems;
}

/** The paths of `paths` that git ignores (node_modules, dist): they do not exist on GitHub. */
function ignoredByGit(paths) {
  const run = spawnSync('git', ['check-ignore', '--stdin'], {
    cwd: root,
    input: paths.join('\n'),
    encoding: 'utf8',
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`git check-ignore failed: ${run.stderr}`);
  return new Set(run.stdout.split('\n').filter(Boolean));
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function decodeEntities(text) {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
