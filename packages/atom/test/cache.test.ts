import {
  Atom,
  AtomRef,
  type AtomSlot,
  ObjectSpace,
  registerAtomType,
  resolveSlot,
  type StorageBackend,
} from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';

/** A small tree node for exercising atom loading. */
class Box extends Atom {
  static readonly typeName = 'test.cache.box';
  constructor(
    readonly label: string,
    readonly children: readonly AtomSlot<Box>[],
  ) {
    super();
  }
  get atomType(): string {
    return Box.typeName;
  }
  toPayload(): unknown {
    return { label: this.label, children: this.children };
  }
}
registerAtomType(Box.typeName, (payload) => {
  const p = payload as { label: string; children: AtomSlot<Box>[] };
  return new Box(p.label, p.children);
});

/** Wraps a backend and counts reads per pointer. */
function counting(backend: StorageBackend) {
  const reads = new Map<string, number>();
  const count = (p: string) => reads.set(p, (reads.get(p) ?? 0) + 1);
  const wrapped: StorageBackend = {
    name: backend.name,
    capabilities: { ...backend.capabilities, reclaim: false },
    writeAtoms: (atoms) => backend.writeAtoms(atoms),
    readAtom: (p) => {
      count(p);
      return backend.readAtom(p);
    },
    readAtomSync: (p) => {
      count(p);
      return (backend.readAtomSync as (p: string) => Uint8Array)(p);
    },
    readRoot: () => backend.readRoot(),
    compareAndSetRoot: (e, n) => backend.compareAndSetRoot(e, n),
    close: () => backend.close(),
  };
  return { backend: wrapped, reads, total: () => [...reads.values()].reduce((a, b) => a + b, 0) };
}

/**
 * A backend whose reads hand back each atom with its frame checksum changed (byte 4, the first
 * byte of the frame's CRC32): what a kernel that checks frames must reject. `checkedReads` says
 * whether the wrapper claims to check a checksum of its own.
 */
function tampering(backend: StorageBackend, checkedReads: boolean): StorageBackend {
  const tamper = (bytes: Uint8Array) => {
    const copy = Uint8Array.from(bytes);
    copy[4] = (copy[4] as number) ^ 0xff;
    return copy;
  };
  return {
    name: backend.name,
    capabilities: { ...backend.capabilities, reclaim: false, checkedReads },
    writeAtoms: (atoms) => backend.writeAtoms(atoms),
    readAtom: async (p) => tamper(await backend.readAtom(p)),
    readAtomSync: (p) => tamper((backend.readAtomSync as (p: string) => Uint8Array)(p)),
    readRoot: () => backend.readRoot(),
    compareAndSetRoot: (e, n) => backend.compareAndSetRoot(e, n),
    close: () => backend.close(),
  };
}

async function buildTree(location: ReturnType<typeof createMemoryLocation>, leaves: number) {
  const space = await ObjectSpace.open(await openMemoryBackend({ location }));
  const children = Array.from({ length: leaves }, (_, i) => new Box(`leaf-${i}`, []));
  await space.database('t').transact((tx) => tx.set('tree', new Box('root', children)));
  await space.close();
}

describe('atom: caches', () => {
  it('serves atoms written by a commit without reading them back', async () => {
    const { backend, total } = counting(await openMemoryBackend());
    const space = await ObjectSpace.open(backend);
    const db = space.database('t');
    await db.transact((tx) => tx.set('tree', new Box('root', [new Box('a', []), new Box('b', [])])));
    const tree = db.begin().get<Box>('tree') as Box;
    expect(tree.children.map((c) => resolveSlot(c).label)).toEqual(['a', 'b']);
    expect(total()).toBe(0);
    await space.close();
  });

  it('stays within its entry bound however many atoms are read', async () => {
    const location = createMemoryLocation();
    await buildTree(location, 300);
    const space = await ObjectSpace.open(await openMemoryBackend({ location }), { cache: { maxAtoms: 40 } });
    const tree = space.database('t').begin().get<Box>('tree') as Box;
    const labels = tree.children.map((c) => resolveSlot(c).label);
    expect(labels[299]).toBe('leaf-299');
    expect(space.stats().cachedAtoms).toBeLessThanOrEqual(40);
    expect(tree.children[0]).toBeInstanceOf(AtomRef);
    expect(resolveSlot(tree.children[0] as AtomSlot<Box>).label).toBe('leaf-0');
    await space.close();
  });

  it('loads a missing atom once however many readers ask at the same time', async () => {
    const location = createMemoryLocation();
    await buildTree(location, 3);
    const { backend, reads } = counting(await openMemoryBackend({ location }));
    const space = await ObjectSpace.open(backend);
    const tree = space.database('t').begin().get<Box>('tree') as Box;
    const ref = tree.children[1] as AtomRef<Box>;
    space.evictCaches();
    const loaded = await Promise.all(Array.from({ length: 10 }, () => ref.load()));
    expect(new Set(loaded).size).toBe(1);
    expect(loaded[0]?.label).toBe('leaf-1');
    expect(reads.get(ref.pointer)).toBe(1);
    await space.close();
  });

  it('checks each frame checksum unless the backend checks a checksum of its own on every read', async () => {
    const location = createMemoryLocation();
    await buildTree(location, 5);
    // The backend checks its own: the frame's checksum is not checked again (here it is
    // wrong, so reading proves it was skipped); the structure is still decoded and validated.
    const trusting = await ObjectSpace.open(tampering(await openMemoryBackend({ location }), true));
    const tree = trusting.database('t').begin().get<Box>('tree') as Box;
    expect(tree.children.map((c) => resolveSlot(c).label)).toEqual(
      Array.from({ length: 5 }, (_, i) => `leaf-${i}`),
    );
    await trusting.close();
    // Without the claim, the kernel checks the frame: the same bytes fail as corrupt (the
    // first atom read, at open).
    await expect(ObjectSpace.open(tampering(await openMemoryBackend({ location }), false))).rejects.toThrow(
      /checksum mismatch/,
    );
  });

  it('reads nodes again after eviction with the same contents', async () => {
    const location = createMemoryLocation();
    await buildTree(location, 5);
    const { backend, total } = counting(await openMemoryBackend({ location }));
    const space = await ObjectSpace.open(backend);
    const db = space.database('t');
    const first = (db.begin().get<Box>('tree') as Box).children.map((c) => resolveSlot(c).label);
    const readsBefore = total();
    space.evictCaches();
    const second = (db.begin().get<Box>('tree') as Box).children.map((c) => resolveSlot(c).label);
    expect(second).toEqual(first);
    expect(total()).toBeGreaterThan(readsBefore);
    await space.close();
  });
});
