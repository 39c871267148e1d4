/**
 * `space.verify()` reads every atom reachable from the root from storage and reports each one
 * that does not load, with the atom referring to it, going on with the rest; a space opened
 * `{ readOnly: true }` writes nothing, not even the checkpoint `close()` would write.
 */
import { type AtomPointer, ObjectSpace, type StorageBackend, StorageError } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { Dictionary, List } from '../src/index.js';

/** A backend whose reads of chosen atoms fail the way a checksum mismatch does; counts writes. */
function damaging(inner: StorageBackend) {
  const damaged = new Set<AtomPointer>();
  const written: AtomPointer[] = [];
  let roots = 0;
  const check = (pointer: AtomPointer) => {
    if (damaged.has(pointer))
      throw new StorageError({
        layer: 'storage-test',
        reason: 'corrupt',
        message: `atom ${pointer}: checksum mismatch at offset 42`,
      });
  };
  const readSync = inner.readAtomSync?.bind(inner);
  const readBlocking = inner.readAtomsBlocking?.bind(inner);
  const backend: StorageBackend = {
    name: inner.name,
    capabilities: inner.capabilities,
    writeAtoms: async (atoms) => {
      const pointers = await inner.writeAtoms(atoms);
      written.push(...pointers);
      return pointers;
    },
    readAtom: async (pointer) => {
      check(pointer);
      return inner.readAtom(pointer);
    },
    ...(readSync === undefined
      ? {}
      : {
          readAtomSync: (pointer: AtomPointer) => {
            check(pointer);
            return readSync(pointer);
          },
        }),
    ...(readBlocking === undefined
      ? {}
      : {
          readAtomsBlocking: (pointers: readonly AtomPointer[]) => {
            for (const pointer of pointers) check(pointer);
            return readBlocking(pointers);
          },
        }),
    ...(inner.reclaim === undefined ? {} : { reclaim: inner.reclaim.bind(inner) }),
    readRoot: () => inner.readRoot(),
    compareAndSetRoot: (expected, next) => {
      roots++;
      return inner.compareAndSetRoot(expected, next);
    },
    close: () => inner.close(),
  };
  return { backend, damaged, written, roots: () => roots };
}

async function filled(historyLimit = 8) {
  const location = createMemoryLocation();
  const wrapped = damaging(await openMemoryBackend({ location }));
  const space = await ObjectSpace.open(wrapped.backend, { historyLimit });
  const db = space.database('shop');
  await db.transact((tx) => {
    tx.set(
      'orders',
      Dictionary.from(Array.from({ length: 5000 }, (_, i) => [i, { n: i }] as [number, unknown])),
    );
    tx.set('notes', List.from(['x'.repeat(5000), 'short'])); // a value stored out of line
  });
  await space.checkpoint();
  for (let i = 0; i < 5; i++)
    await db.transact((tx) =>
      tx.set('orders', tx.get<Dictionary<number, unknown>>('orders')?.set(i, 'changed')),
    );
  return { space, wrapped, location };
}

describe('space.verify', () => {
  it('finds nothing wrong in a sound space and reads each reachable atom once, from storage', async () => {
    const { space, wrapped } = await filled();
    const progress: number[] = [];
    const report = await space.verify({ onProgress: (p) => progress.push(p.atoms) });
    expect(report.problems).toEqual([]);
    expect(report.truncated).toBe(false);
    expect(report.sequence).toBe(space.sequence);
    // Every atom ever written is still reachable (history is kept): each was read once.
    expect(report.atoms).toBe(new Set(wrapped.written).size);
    expect(progress.at(-1)).toBe(report.atoms);
    await space.close();
  });

  it('reports a damaged atom with its parent and the backend message, and checks the rest', async () => {
    const { space, wrapped } = await filled();
    const sound = await space.verify();
    // Damage one atom in the middle of the first commit's writes: a leaf of `orders`.
    const victim = wrapped.written[Math.floor(wrapped.written.length / 4)] as AtomPointer;
    wrapped.damaged.add(victim);
    const report = await space.verify();
    expect(report.problems).toHaveLength(1);
    const [problem] = report.problems;
    expect(problem?.pointer).toBe(victim);
    expect(problem?.reason).toBe('corrupt');
    expect(problem?.message).toContain('offset 42');
    expect(problem?.parent).toBeDefined();
    // The walk went on: only the victim (a leaf, no children) is missing from the count.
    expect(report.atoms).toBe(sound.atoms - 1);
    await space.close();
  });

  it('stops at maxProblems and says so', async () => {
    const { space, wrapped } = await filled();
    for (const pointer of wrapped.written.slice(0, 40)) wrapped.damaged.add(pointer);
    const report = await space.verify({ maxProblems: 3 });
    expect(report.problems).toHaveLength(3);
    expect(report.truncated).toBe(true);
    await expect(space.verify({ maxProblems: 0 })).rejects.toMatchObject({ reason: 'invalid-argument' });
    await space.close();
  });
});

describe('ObjectSpace.open({ readOnly: true })', () => {
  it('reads everything, rejects commits, checkpoints and reclaim, and close writes nothing', async () => {
    const { space, location } = await filled();
    // Leave delta commits pending: a normal close would checkpoint them.
    const expected = [
      ...(space
        .database('shop')
        .read((tx) => tx.get<Dictionary<number, unknown>>('orders'))
        ?.entries() ?? []),
    ];
    await space.close();
    const wrapped = damaging(await openMemoryBackend({ location }));
    const rootBefore = await wrapped.backend.readRoot();
    const reader = await ObjectSpace.open(wrapped.backend, { readOnly: true });
    const db = reader.database('shop');
    expect([...(db.read((tx) => tx.get<Dictionary<number, unknown>>('orders'))?.entries() ?? [])]).toEqual(
      expected,
    );
    await expect(db.transact((tx) => tx.set('x', 1))).rejects.toMatchObject({ reason: 'unsupported' });
    await expect(reader.checkpoint()).rejects.toMatchObject({ reason: 'unsupported' });
    await expect(reader.reclaim()).rejects.toMatchObject({ reason: 'unsupported' });
    // A transaction that writes nothing still commits.
    await db.transact((tx) => tx.get('orders'));
    await reader.close();
    expect(wrapped.written).toEqual([]);
    expect(wrapped.roots()).toBe(0);
    const again = await openMemoryBackend({ location });
    expect(await again.readRoot()).toBe(rootBefore);
    await again.close();
  });
});
