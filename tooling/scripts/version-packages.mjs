#!/usr/bin/env node
/**
 * `changeset version` for ProtoBase (`pnpm version-packages`): consumes `.changeset/*.md`, bumps
 * the published packages and writes each one's CHANGELOG.md, with the libraries
 * `@changesets/cli` 2.31.1 itself uses (read, assemble-release-plan, apply-release-plan) and one
 * correction.
 *
 * The correction. Changesets gives a package a major release when a peer dependency gets a minor
 * one, because at 0.x a minor leaves the peer range (`^0.1.0` does not admit 0.2.0). Our packages
 * take `@proto/atom` (and collections, query) as peers and all share one version (the `fixed`
 * group), so every minor release would become 1.0.0. Until 1.0 the group is released at the
 * highest bump its changesets declare; the peer ranges stay `workspace:^`, which pnpm publishes
 * as `^<the new version>`, so a consumer still gets one matching set. From 1.0 on the correction
 * does nothing (a minor of 1.x stays inside `^1.x`), and this is plain `changeset version`.
 *
 * See RELEASING.md for the whole release.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The changesets libraries, resolved from the pinned CLI (pnpm does not hoist them).
const fromCli = createRequire(
  createRequire(join(root, 'package.json')).resolve('@changesets/cli/package.json'),
);
const load = (name) => {
  const module = fromCli(name);
  return module.default ?? module;
};
const readChangesets = load('@changesets/read');
const assembleReleasePlan = load('@changesets/assemble-release-plan');
const applyReleasePlan = load('@changesets/apply-release-plan');
const { read: readConfig } = fromCli('@changesets/config');
const { readPreState } = fromCli('@changesets/pre');
const { getPackages } = createRequire(fromCli.resolve('@changesets/config'))('@manypkg/get-packages');

const ORDER = ['none', 'patch', 'minor', 'major'];

const packages = await getPackages(root);
const config = await readConfig(root, packages);
const [changesets, preState] = await Promise.all([readChangesets(root), readPreState(root)]);
if (preState !== undefined) {
  console.error('version-packages: changesets is in pre mode; this script does normal releases only');
  process.exit(1);
}
if (changesets.length === 0) {
  console.log('version-packages: no unreleased changesets');
  process.exit(0);
}
const plan = assembleReleasePlan(changesets, packages, config, undefined, undefined);

/** The highest bump any changeset declares for one of `names`. */
const declared = (names) => {
  let highest = 'none';
  for (const changeset of changesets) {
    for (const release of changeset.releases) {
      if (names.includes(release.name) && ORDER.indexOf(release.type) > ORDER.indexOf(highest))
        highest = release.type;
    }
  }
  return highest;
};
const groupOf = (name) => config.fixed.find((group) => group.includes(name)) ?? [name];

for (const release of plan.releases) {
  const wanted = declared(groupOf(release.name));
  if (release.type !== 'major' || wanted === 'major' || !release.oldVersion.startsWith('0.')) continue;
  const [major = 0, minor = 0, patch = 0] = release.oldVersion.split('.').map(Number);
  const type = wanted === 'none' ? 'patch' : wanted;
  release.type = type;
  release.newVersion = type === 'minor' ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
}

// The last argument is where the `changelog` module of the config resolves from (the CLI's dist).
await applyReleasePlan(
  plan,
  packages,
  config,
  undefined,
  join(dirname(fromCli.resolve('@changesets/cli/package.json')), 'dist'),
);
for (const release of plan.releases.filter((r) => r.type !== 'none')) {
  console.log(
    `version-packages: ${release.name} ${release.oldVersion} → ${release.newVersion} (${release.type})`,
  );
}
console.log('version-packages: CHANGELOG.md and package.json updated; review, then run pnpm install');
