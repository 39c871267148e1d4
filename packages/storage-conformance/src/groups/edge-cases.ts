/**
 * Edge cases of the primitives: empty and huge batches, empty and huge atoms, the size limit,
 * reading before committing, a brand-new location.
 */
import type { AtomPointer } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectBytes, expectRejects, expectStored, patternBytes } from '../assertions.js';
import { commitNode, remember, walkChain, writeOne } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

const MiB = 1024 * 1024;
const MANY = 10_000;

export const edgeCases: ScenarioGroup = {
  name: 'edge',
  title: 'edge cases',
  scenarios: [
    {
      key: 'edge.new-location-root-null',
      title: 'a new location has a null root',
      async run({ backend }) {
        assert.isNull(await backend.readRoot());
      },
    },
    {
      key: 'edge.empty-batch',
      title: 'writing an empty batch resolves [] and changes nothing',
      async run({ backend }) {
        const root = await commitNode(backend, null, 'root');
        assert.deepStrictEqual([...(await backend.writeAtoms([]))], []);
        assert.strictEqual(await backend.readRoot(), root);
        assert.deepStrictEqual(await walkChain(backend, root), ['root']);
      },
    },
    {
      key: 'edge.zero-length-atom',
      title: 'a zero-length atom is stored, read back and can be committed as the root',
      async run({ backend }) {
        const atoms = [new Uint8Array(0), patternBytes(9, 1), new Uint8Array(0)];
        const pointers = await backend.writeAtoms(atoms);
        await expectStored(backend, remember(new Map(), pointers, atoms), 'batch');
        const empty = pointers[0] as AtomPointer;
        assert.isTrue(await backend.compareAndSetRoot(null, empty), 'commit an empty atom as the root');
        assert.strictEqual(await backend.readRoot(), empty);
        expectBytes(await backend.readAtom(empty), new Uint8Array(0), 'the empty root atom');
      },
    },
    {
      key: 'edge.many-atoms-one-batch',
      title: `a batch of ${MANY} atoms returns ${MANY} distinct pointers in order`,
      timeout: 120_000,
      async run({ backend }) {
        const atoms = Array.from({ length: MANY }, (_, i) => patternBytes(8 + (i % 40), i));
        const pointers = await backend.writeAtoms(atoms);
        assert.strictEqual(pointers.length, MANY, 'pointers returned');
        assert.strictEqual(new Set(pointers).size, MANY, 'distinct pointers');
        await expectStored(backend, remember(new Map(), pointers, atoms), 'batch');
      },
    },
    {
      key: 'edge.large-atom',
      title: 'an atom of maxAtomBytes (or 8 MiB, whichever is smaller) round-trips',
      timeout: 120_000,
      async run({ backend, capabilities }) {
        const size = Math.min(capabilities.maxAtomBytes, 8 * MiB);
        const large = patternBytes(size, 42);
        const small = patternBytes(10, 43);
        const pointers = await backend.writeAtoms([small, large]);
        const root = pointers[1] as AtomPointer;
        assert.isTrue(await backend.compareAndSetRoot(null, root), 'commit the large atom');
        expectBytes(await backend.readAtom(root), large, `atom of ${size} bytes`);
        expectBytes(
          await backend.readAtom(pointers[0] as AtomPointer),
          small,
          'small atom in the same batch',
        );
      },
    },
    {
      key: 'edge.one-byte-over-max-rejected',
      title: 'a batch holding an atom one byte over maxAtomBytes rejects with too-large and commits nothing',
      requires: { maxAtomBytesAtMost: 256 * MiB },
      timeout: 120_000,
      async run({ backend, capabilities }) {
        const root = await commitNode(backend, null, 'root');
        const over = new Uint8Array(capabilities.maxAtomBytes + 1);
        await expectRejects(backend.writeAtoms([patternBytes(10, 1), over]), 'too-large', 'oversized batch');
        assert.strictEqual(await backend.readRoot(), root, 'root after the refused batch');
        const after = patternBytes(10, 2);
        const pointer = await writeOne(backend, after);
        expectBytes(await backend.readAtom(pointer), after, 'a write after the refused batch');
      },
    },
    {
      key: 'edge.read-your-writes-before-commit',
      title: 'atoms are readable as soon as writeAtoms resolves, before any commit',
      async run({ backend }) {
        const atoms = Array.from({ length: 16 }, (_, i) => patternBytes(100 + i, i));
        const results = await Promise.all(
          atoms.map(async (atom, i) => {
            const pointer = await writeOne(backend, atom);
            expectBytes(await backend.readAtom(pointer), atom, `atom ${i} right after its write`);
            return pointer;
          }),
        );
        assert.strictEqual(results.length, atoms.length);
        assert.isNull(await backend.readRoot(), 'nothing was committed');
      },
    },
    {
      key: 'edge.concurrent-batches',
      title: 'concurrent writeAtoms calls all succeed with distinct pointers',
      async run({ backend }) {
        const batches = Array.from({ length: 32 }, (_, b) =>
          Array.from({ length: 16 }, (_, i) => patternBytes(20, b * 16 + i)),
        );
        const results = await Promise.all(batches.map((batch) => backend.writeAtoms(batch)));
        const written = new Map<AtomPointer, Uint8Array>();
        for (const [b, pointers] of results.entries())
          remember(written, pointers, batches[b] as Uint8Array[]);
        assert.strictEqual(written.size, 32 * 16, 'distinct pointers');
        await expectStored(backend, written, 'concurrent batches');
      },
    },
  ],
};
