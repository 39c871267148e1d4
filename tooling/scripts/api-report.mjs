#!/usr/bin/env node
/**
 * The public type surface of every published package, as API reports checked into the repo
 * (`packages/<name>/api/<subpath>.api.md`, one per public subpath), made by api-extractor from
 * the built declarations (`dist/*.d.ts`, so run `tsc -b` first).
 *
 *   node tooling/scripts/api-report.mjs          # write the reports (after a deliberate change)
 *   node tooling/scripts/api-report.mjs --check  # fail when a report differs (pnpm test runs this)
 *
 * A new public member, a changed signature or a leaked internal is then a visible diff in review,
 * and an unintended one fails the build.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const check = process.argv.includes('--check');

/** Public subpaths of a package and their declaration files, from the published exports map. */
function entryPoints(dir, manifest) {
  const exports = manifest.publishConfig?.exports ?? manifest.exports ?? {};
  const out = [];
  for (const [subpath, target] of Object.entries(exports)) {
    if (target === null || typeof target !== 'object' || typeof target.types !== 'string') continue;
    const name = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
    out.push({ subpath, name, types: join(dir, target.types) });
  }
  return out;
}

const failures = [];
let reports = 0;
for (const folder of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', folder);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.private === true) continue;
  const reportFolder = join(dir, 'api');
  mkdirSync(reportFolder, { recursive: true });
  for (const entry of entryPoints(dir, manifest)) {
    if (!existsSync(entry.types)) {
      failures.push(`${relative(root, entry.types)} is missing: run tsc -b first`);
      continue;
    }
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: dir,
        mainEntryPointFilePath: entry.types,
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              target: 'ES2022',
              lib: ['ES2023'],
              strict: true,
              // The published declarations must compile as a strict consumer meets them.
              skipLibCheck: false,
              types: [],
            },
            files: [entry.types],
          },
        },
        apiReport: {
          enabled: true,
          reportFileName: `${entry.name}.api.md`,
          reportFolder,
          reportTempFolder: join(root, 'node_modules', '.cache', 'api-report', folder),
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: {
            default: { logLevel: 'warning' },
            // Release tags (@public/@beta) are not used; internals are stripped from the .d.ts.
            'ae-missing-release-tag': { logLevel: 'none' },
            'ae-undocumented': { logLevel: 'none' },
            // A type reachable from the API but not exported is listed in the report.
            'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      configObjectFullPath: join(dir, 'api-extractor.json'),
      packageJsonFullPath: manifestPath,
    });
    const result = Extractor.invoke(config, {
      localBuild: !check,
      showVerboseMessages: false,
      messageCallback: (message) => {
        // The bundled TypeScript may be newer than the workspace's; that is fine for .d.ts input.
        if (message.messageId === 'console-compiler-version-notice') message.logLevel = 'none';
      },
    });
    reports += 1;
    // No underscore member may reach a published declaration: mark it @internal (stripped).
    const reportPath = join(reportFolder, `${entry.name}.api.md`);
    if (existsSync(reportPath)) {
      const underscored = readFileSync(reportPath, 'utf8')
        .split('\n')
        .filter((line) => /^\s+(?:readonly\s+|static\s+|get\s+|set\s+)*_[A-Za-z]\w*[?]?[(:<]/.test(line));
      for (const line of underscored)
        failures.push(
          `${manifest.name}${entry.subpath === '.' ? '' : entry.subpath.slice(1)}: public underscore member ${line.trim()}`,
        );
    }
    const label = `${manifest.name}${entry.subpath === '.' ? '' : entry.subpath.slice(1)}`;
    if (result.apiReportChanged) {
      failures.push(`${label}: the public API differs from packages/${folder}/api/${entry.name}.api.md`);
    } else if (!result.succeeded) {
      failures.push(
        `${label}: api-extractor reported ${result.errorCount} error(s) and ${result.warningCount} warning(s) (see above)`,
      );
    }
  }
}

if (check && failures.length > 0) {
  console.error(
    `api report: ${failures.length} problem(s):\n  ${failures.join('\n  ')}\n` +
      'If the change to the public API is intended, run `node tooling/scripts/api-report.mjs` and commit the reports.',
  );
  process.exit(1);
}
if (!check && failures.some((f) => !f.includes('differs'))) {
  console.error(`api report:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`api report: ${reports} entry points ${check ? 'match their reports' : 'written'}`);
