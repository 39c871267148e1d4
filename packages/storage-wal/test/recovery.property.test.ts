import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AtomPointer } from '@proto/atom/storage';
import { openWalBackend } from '@proto/storage-wal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noSyncFs, patternBytes, segmentFiles, tempDir, writtenEnd } from './helpers.js';

/**
 * Model: a history of commits (each a batch of atoms, then a compare-and-set, possibly several
 * racing in one flush) followed by a torn tail. Whatever byte the file is cut at, or whatever
 * garbage is appended, the database opens at the newest commit that lies wholly before the
 * damage, with every atom of that commit and the commits before it intact.
 */
const history = fc.record({
  commits: fc.array(fc.array(fc.nat({ max: 700 }), { minLength: 0, maxLength: 4 }), {
    minLength: 1,
    maxLength: 8,
  }),
  cutFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  garbage: fc.uint8Array({ maxLength: 300 }),
  segmentBytes: fc.constantFrom(1024, 4096, 1 << 20),
});

describe('storage-wal: recovery (property)', () => {
  it('opens at the newest commit wholly before a cut or garbage tail, with all its atoms', async () => {
    const root = tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(history, async ({ commits, cutFraction, garbage, segmentBytes }) => {
        const dir = join(root, `run-${run++}`);
        const backend = await openWalBackend({ path: dir, fs: noSyncFs, segmentBytes });
        let current: AtomPointer | null = null;
        const states: {
          root: AtomPointer | null;
          atoms: Map<AtomPointer, Uint8Array>;
          files: Map<string, number>;
        }[] = [];
        const atoms = new Map<AtomPointer, Uint8Array>();
        for (const [k, sizes] of commits.entries()) {
          const batch = [...sizes.map((size, i) => patternBytes(size, k * 10 + i)), patternBytes(8, -k)];
          const pointers = await backend.writeAtoms(batch);
          for (const [i, pointer] of pointers.entries()) atoms.set(pointer, batch[i] as Uint8Array);
          const next = pointers.at(-1) as AtomPointer;
          expect(await backend.compareAndSetRoot(current, next)).toBe(true);
          current = next;
          const sizesNow = new Map(segmentFiles(dir).map((name) => [name, writtenEnd(join(dir, name))]));
          states.push({ root: current, atoms: new Map(atoms), files: sizesNow });
        }
        await backend.close();

        // Damage the newest segment: cut it somewhere after its header, then append garbage.
        const newest = segmentFiles(dir).at(-1) as string;
        const bytes = readFileSync(join(dir, newest));
        const cut = 32 + Math.floor(cutFraction * (bytes.byteLength - 32));
        const damaged = join(root, `damaged-${run}`);
        mkdirSync(damaged);
        for (const name of [...segmentFiles(dir), 'MANIFEST'])
          copyFileSync(join(dir, name), join(damaged, name));
        writeFileSync(join(damaged, newest), Buffer.concat([bytes.subarray(0, cut), garbage]));

        // The damage starts where the damaged file first differs from the original: garbage that
        // happens to repeat the bytes it replaced re-completes them (issue 9, finding 7: one
        // garbage byte equal to the byte cut off left the file whole). The expected state is the
        // newest whose view of the newest segment ends at or before that point.
        let intact = cut;
        while (
          intact - cut < garbage.length &&
          intact < bytes.length &&
          garbage[intact - cut] === bytes[intact]
        )
          intact++;
        const expected = [...states].reverse().find((state) => (state.files.get(newest) ?? 0) <= intact);
        const reopened = await openWalBackend({ path: damaged, fs: noSyncFs, segmentBytes });
        try {
          expect(await reopened.readRoot()).toBe(expected?.root ?? null);
          for (const [pointer, content] of expected?.atoms ?? []) {
            expect(reopened.readAtomSync?.(pointer)).toEqual(content);
          }
        } finally {
          await reopened.close();
        }
      }),
      {
        numRuns: 60,
        // The counterexample CI met (seed 423557286): the garbage byte repeats the byte cut off.
        examples: [
          [
            {
              commits: [[]],
              cutFraction: 0.9903846153846154,
              garbage: new Uint8Array([69]),
              segmentBytes: 1024,
            },
          ],
        ],
      },
    );
  });
});
