// Scaffolds package.json, tsconfig.json and vitest.config.ts for a package (used once per package).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const [dir, name, deps = '', peers = '', subpaths = ''] = process.argv.slice(2);
mkdirSync(`${dir}/src`, { recursive: true });
mkdirSync(`${dir}/test`, { recursive: true });
const entry = (src) => ({
  '@proto/source': `./src/${src}.ts`,
  types: `./dist/${src}.d.ts`,
  default: `./dist/${src}.js`,
});
const exportsMap = { '.': entry('index') };
for (const s of subpaths.split(',').filter(Boolean)) exportsMap[`./${s}`] = entry(s);
exportsMap['./internal/*'] = null;
exportsMap['./package.json'] = './package.json';
const dependencies = {};
const peerDependencies = {};
const devDependencies = {};
for (const d of deps.split(',').filter(Boolean)) dependencies[d] = 'workspace:*';
for (const d of peers.split(',').filter(Boolean)) {
  peerDependencies[d] = 'workspace:^';
  devDependencies[d] = 'workspace:*';
}
const pkg = {
  name,
  version: '0.1.0',
  description: '',
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  files: ['dist', 'src', 'LICENSE', 'README.md', 'CHANGELOG.md'],
  exports: exportsMap,
  engines: { node: '>=20.19' },
  scripts: { build: 'tsc -b', typecheck: 'tsc -b', test: 'vitest run' },
  ...(Object.keys(dependencies).length ? { dependencies } : {}),
  ...(Object.keys(peerDependencies).length ? { peerDependencies } : {}),
  ...(Object.keys(devDependencies).length ? { devDependencies } : {}),
};
if (!existsSync(`${dir}/package.json`))
  writeFileSync(`${dir}/package.json`, `${JSON.stringify(pkg, null, 2)}\n`);
const refs = [...deps.split(','), ...peers.split(',')]
  .filter(Boolean)
  .map((d) => ({ path: `../${d.replace('@proto/', '')}` }));
writeFileSync(
  `${dir}/tsconfig.json`,
  `${JSON.stringify({ extends: '../../tooling/tsconfig/base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'], references: refs }, null, 2)}\n`,
);
writeFileSync(
  `${dir}/vitest.config.ts`,
  `import { protoProject } from '../../tooling/vitest/preset.ts';\n\nexport default protoProject('${name.replace('@proto/', '')}');\n`,
);
