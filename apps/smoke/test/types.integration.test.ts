import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installConsumer, run, scratch, smokeDir, tarballOf } from './setup/consumer.ts';

const work = scratch('types');
afterAll(() => work.dispose());

const bin = (name: string) => join(smokeDir, 'node_modules', '.bin', name);

/** The strictest settings a consumer may use: library `.d.ts` files are checked too. */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    skipLibCheck: false,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    // No DOM and no Node globals: what the published types need, they must bring.
    lib: ['ES2023'],
    noEmit: true,
  },
};

/** Installs `folders`' tarballs, copies the fixture, and returns tsc's output (empty when clean). */
function compileConsumer(name: string, folders: string[], fixture: string, skipPeers = false): string {
  const packed = inject('packed');
  const app = installConsumer(
    work.dir,
    name,
    folders.map((folder) => tarballOf(packed, folder)),
    { skipPeers },
  );
  // Nothing here may bring Node's types in behind the test's back.
  expect(existsSync(join(app, 'node_modules', '@types', 'node'))).toBe(false);
  copyFileSync(new URL(`../fixture/types/${fixture}`, import.meta.url), join(app, fixture));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ ...CONSUMER_TSCONFIG, files: [fixture] }, null, 2),
  );
  try {
    return run(bin('tsc'), ['-p', 'tsconfig.json'], app);
  } catch (error) {
    return (error as Error).message;
  }
}

interface AttwProblem {
  readonly kind: string;
  readonly entrypoint?: string;
  readonly resolutionKind?: string;
}

describe('smoke: published types', () => {
  // Issue 9, finding 9: dist/codec/writer.d.ts imported node:buffer, so a strict consumer
  // without @types/node could not compile any import of @proto/atom.
  it('compiles a strict consumer of every public subpath when @types/node is not installed', () => {
    // vitest, the conformance suite's peer, is left out: its declarations do not import it.
    const output = compileConsumer(
      'portable',
      ['atom', 'storage-memory', 'collections', 'query', 'storage-conformance'],
      'portable.ts',
      true,
    );
    expect(output).toBe('');
  });

  it('compiles a strict consumer of the Node-only backends when only their declared dependencies are installed', () => {
    // Their declarations name no Node type, so they declare no @types/node either.
    const output = compileConsumer(
      'backends',
      ['atom', 'storage-wal', 'storage-sqlite', 'storage-postgres'],
      'backends.ts',
    );
    expect(output).toBe('');
  });

  it('passes publint and attw on every packed package', () => {
    const reports: Record<string, { publint: string[]; attw: string[] }> = {};
    for (const { name, tarball } of inject('packed')) {
      const publint = run(bin('publint'), ['run', tarball, '--level', 'suggestion', '--strict'], work.dir);
      // attw exits non-zero on a problem; its JSON report is on stdout either way.
      let attw: string;
      try {
        attw = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], work.dir);
      } catch (error) {
        const message = (error as Error).message;
        attw = message.slice(message.indexOf('{'));
      }
      const { analysis } = JSON.parse(attw) as { analysis: { problems: AttwProblem[] } };
      reports[name] = {
        publint: publint.includes('All good!') ? [] : [publint],
        attw: analysis.problems
          // ESM only: the packages offer no CommonJS or node10 resolution, by design.
          .filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs')
          .map((p) => `${p.kind} ${p.entrypoint ?? ''} ${p.resolutionKind ?? ''}`),
      };
    }
    const clean = { publint: [], attw: [] };
    expect(reports).toEqual(Object.fromEntries(Object.keys(reports).map((name) => [name, clean])));
  });
});
