/**
 * Guarantee 4, integrity: a read returns exactly the bytes written, whatever the caller does
 * with its buffers afterwards; an unknown pointer is `not-found`, never other bytes.
 */
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectBytes, expectRejects, expectStored, expectThrows, patternBytes } from '../assertions.js';
import { remember, writeOne } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

/** A pointer no backend issues: not-found, whatever the pointer format. */
const FOREIGN_POINTER = 'proto-conformance:no-such-atom';

/** A pointer issued by a busier location, so plausible in format but unknown here. */
async function pointerFromElsewhere(
  createLocation: () => Promise<unknown>,
  open: (location: unknown) => Promise<StorageBackend>,
): Promise<AtomPointer> {
  const elsewhere = await open(await createLocation());
  const pointers = await elsewhere.writeAtoms(Array.from({ length: 200 }, (_, i) => patternBytes(64, i)));
  await elsewhere.close();
  return pointers.at(-1) as AtomPointer;
}

/** The backend's `readAtomsBlocking` (the scenarios that use it require it). */
function blockingReadOf(backend: StorageBackend): NonNullable<StorageBackend['readAtomsBlocking']> {
  return (backend.readAtomsBlocking as NonNullable<StorageBackend['readAtomsBlocking']>).bind(backend);
}

export const integrity: ScenarioGroup = {
  name: 'integrity',
  title: 'integrity',
  scenarios: [
    {
      key: 'integrity.bytes-round-trip',
      title: 'reads return exactly the bytes written, for every byte value and many sizes',
      async run({ backend }) {
        const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
        const atoms = [
          everyByte,
          everyByte.slice().reverse(),
          ...[1, 2, 3, 7, 255, 256, 4096, 65_537].map((size) => patternBytes(size, size)),
        ];
        const pointers = await backend.writeAtoms(atoms);
        await expectStored(backend, remember(new Map(), pointers, atoms), 'round trip');
      },
    },
    {
      key: 'integrity.read-atoms-batch',
      title: 'readAtoms returns the bytes of many atoms in the order asked, repeats included, and [] for []',
      async run({ backend }) {
        assert.isFunction(backend.readAtoms, 'the guard gives every backend a readAtoms');
        const readAtoms = (backend.readAtoms as NonNullable<typeof backend.readAtoms>).bind(backend);
        const atoms = Array.from({ length: 300 }, (_, i) => patternBytes(1 + ((i * 37) % 700), i));
        const pointers = await backend.writeAtoms(atoms);
        // Reversed, with repeats: the answer follows the question, not the storage order.
        const asked = [...pointers].reverse();
        asked.push(pointers[5] as AtomPointer, pointers[5] as AtomPointer);
        const read = await readAtoms(asked);
        assert.strictEqual(read.length, asked.length, 'one atom per pointer asked');
        read.forEach((bytes, i) => {
          const index = pointers.indexOf(asked[i] as AtomPointer);
          expectBytes(bytes, atoms[index] as Uint8Array, `readAtoms answer ${i}`);
        });
        assert.deepEqual(await readAtoms([]), [], 'an empty batch');
      },
    },
    {
      key: 'integrity.read-atoms-unknown-pointer',
      title: 'readAtoms rejects with not-found when any pointer is unknown',
      async run({ backend }) {
        const readAtoms = (backend.readAtoms as NonNullable<typeof backend.readAtoms>).bind(backend);
        const known = await writeOne(backend, patternBytes(20, 3));
        await expectRejects(
          readAtoms([known, FOREIGN_POINTER]),
          'not-found',
          'readAtoms with a foreign pointer',
        );
        expectBytes(
          (await readAtoms([known]))[0],
          patternBytes(20, 3),
          'the known atom, after the failed batch',
        );
      },
    },
    {
      key: 'integrity.read-atoms-blocking',
      title: 'readAtomsBlocking returns, without awaiting, the bytes of many atoms in the order asked',
      requires: { syncReads: false, readAtomsBlocking: true },
      async run({ backend }) {
        const read = blockingReadOf(backend);
        const atoms = Array.from({ length: 300 }, (_, i) => patternBytes(1 + ((i * 53) % 900), i));
        const pointers = await backend.writeAtoms(atoms);
        const asked = [...pointers].reverse();
        asked.push(pointers[7] as AtomPointer, pointers[7] as AtomPointer);
        const answer = read(asked);
        assert.isArray(answer, 'an array, not a promise');
        assert.strictEqual(answer.length, asked.length, 'one atom per pointer asked');
        answer.forEach((bytes, i) => {
          const index = pointers.indexOf(asked[i] as AtomPointer);
          expectBytes(bytes, atoms[index] as Uint8Array, `readAtomsBlocking answer ${i}`);
        });
        assert.deepEqual(read([]), [], 'an empty batch');
      },
    },
    {
      key: 'integrity.read-atoms-blocking-unknown-pointer',
      title: 'readAtomsBlocking throws not-found when any pointer is unknown',
      requires: { syncReads: false, readAtomsBlocking: true },
      async run({ backend }) {
        const read = blockingReadOf(backend);
        const known = await writeOne(backend, patternBytes(20, 9));
        expectThrows(
          () => read([known, FOREIGN_POINTER]),
          'not-found',
          'readAtomsBlocking with a foreign pointer',
        );
        expectBytes(read([known])[0], patternBytes(20, 9), 'the known atom, after the failed batch');
      },
    },
    {
      key: 'integrity.sent-buffer-mutation-ignored',
      title: 'changing a buffer after writing it does not change the stored atom',
      async run({ backend }) {
        const original = patternBytes(300, 7);
        const sent = original.slice();
        const pointer = await writeOne(backend, sent);
        sent.fill(0xee);
        expectBytes(await backend.readAtom(pointer), original, 'atom after the sent buffer changed');
      },
    },
    {
      key: 'integrity.returned-buffer-mutation-ignored',
      title: 'changing a buffer returned by readAtom does not change the stored atom',
      async run({ backend }) {
        const original = patternBytes(300, 8);
        const pointer = await writeOne(backend, original);
        const first = await backend.readAtom(pointer);
        first.fill(0xdd);
        expectBytes(await backend.readAtom(pointer), original, 'second read after the first result changed');
      },
    },
    {
      key: 'integrity.views-stored-exactly',
      title: 'a Uint8Array view into a larger buffer stores only the viewed bytes',
      async run({ backend }) {
        const big = patternBytes(1000, 3);
        const view = big.subarray(100, 164);
        const pooled = Buffer.from('small strings share a pooled ArrayBuffer');
        const pointers = await backend.writeAtoms([view, pooled]);
        await expectStored(
          backend,
          new Map([
            [pointers[0] as AtomPointer, big.slice(100, 164)],
            [
              pointers[1] as AtomPointer,
              new TextEncoder().encode('small strings share a pooled ArrayBuffer'),
            ],
          ]),
          'views',
        );
      },
    },
    {
      key: 'integrity.distinct-pointers',
      title: 'distinct atoms get distinct pointers across batches; equal atoms read back equal',
      async run({ backend }) {
        const seen = new Map<AtomPointer, Uint8Array>();
        for (let batch = 0; batch < 10; batch += 1) {
          const atoms = Array.from({ length: 10 }, (_, i) => patternBytes(24, batch * 10 + i));
          const pointers = await backend.writeAtoms(atoms);
          pointers.forEach((pointer, i) => {
            assert.isFalse(seen.has(pointer), `pointer ${pointer} was issued twice for different atoms`);
            seen.set(pointer, atoms[i] as Uint8Array);
          });
        }
        const twice = patternBytes(24, 0);
        const [a, b] = await backend.writeAtoms([twice, twice]);
        await expectStored(
          backend,
          new Map([
            [a as AtomPointer, twice],
            [b as AtomPointer, twice],
          ]),
          'equal atoms',
        );
        await expectStored(backend, seen, 'all atoms');
      },
    },
    {
      key: 'integrity.unknown-pointer-not-found',
      title: 'reading a pointer this location never issued rejects with not-found',
      async run({ backend, open, createLocation }) {
        await backend.writeAtoms([patternBytes(64, 1)]);
        await expectRejects(backend.readAtom(FOREIGN_POINTER), 'not-found', 'a made-up pointer');
        const foreign = await pointerFromElsewhere(createLocation, open);
        await expectRejects(
          backend.readAtom(foreign),
          'not-found',
          `pointer ${foreign} issued by another location`,
        );
      },
    },
    {
      key: 'integrity.sync-reads-agree',
      title: 'readAtomSync returns what readAtom returns, right after the write, and throws not-found',
      requires: { syncReads: true },
      async run({ backend }) {
        const atoms = [new Uint8Array(0), patternBytes(1, 1), patternBytes(5000, 2)];
        const pointers = await backend.writeAtoms(atoms);
        const readSync = backend.readAtomSync?.bind(backend);
        assert.isFunction(readSync, 'readAtomSync on a backend that declares syncReads');
        if (readSync === undefined) return;
        for (const [i, pointer] of pointers.entries()) {
          const sync = readSync(pointer);
          expectBytes(sync, atoms[i] as Uint8Array, `readAtomSync(${pointer})`);
          expectBytes(await backend.readAtom(pointer), sync, `readAtom(${pointer}) against readAtomSync`);
          sync.fill(0xaa);
          expectBytes(
            readSync(pointer),
            atoms[i] as Uint8Array,
            `readAtomSync(${pointer}) after the result changed`,
          );
        }
        expectThrows(() => readSync(FOREIGN_POINTER), 'not-found', 'readAtomSync of a made-up pointer');
      },
    },
  ],
};
