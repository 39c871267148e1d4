import { encodeAtom } from '@proto/atom/codec';
import { guardBackend, hasReason, isProtoError, StorageError } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import { createMemoryLocation, MemoryBackend, type MemoryFaults, openMemoryBackend } from '../src/index.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

/** Resolves true if `promise` settled before the event loop came round once more. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}

/** A promise the test resolves when it chooses. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}

describe('storage-memory: locations', () => {
  it('keeps atoms and root across close and reopen', async () => {
    const location = createMemoryLocation();
    const first = await openMemoryBackend({ location });
    const [pointer] = await first.writeAtoms([bytes(1, 2, 3)]);
    expect(await first.compareAndSetRoot(null, pointer!)).toBe(true);
    await first.close();
    expect(location).toMatchObject({ atomCount: 1, byteLength: 3, root: pointer, isOpen: false });
    const second = await openMemoryBackend({ location });
    expect(await second.readRoot()).toBe(pointer);
    expect(await second.readAtom(pointer!)).toEqual(bytes(1, 2, 3));
  });

  it('rejects a second open with locked while the location is held, and opens after close', async () => {
    const location = createMemoryLocation();
    const first = await openMemoryBackend({ location });
    expect(location.isOpen).toBe(true);
    const error = await rejection(openMemoryBackend({ location }));
    expect(hasReason(error, 'locked')).toBe(true);
    expect(error).toMatchObject({ layer: 'storage-memory', code: 'PROTO_LOCKED' });
    await first.close();
    await first.close();
    const again = await openMemoryBackend({ location });
    await again.close();
  });

  it('rejects invalid options with invalid-argument', async () => {
    for (const maxAtomBytes of [0, -1, 1.5, Number.NaN]) {
      expect(hasReason(await rejection(openMemoryBackend({ maxAtomBytes })), 'invalid-argument')).toBe(true);
    }
    const fake = { atomCount: 0, byteLength: 0, root: null, isOpen: false };
    expect(hasReason(await rejection(openMemoryBackend({ location: fake })), 'invalid-argument')).toBe(true);
  });

  it('issues compact base-36 pointers that are never reused', async () => {
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location });
    const pointers = await backend.writeAtoms(Array.from({ length: 40 }, (_, i) => bytes(i)));
    expect(pointers.slice(0, 12)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b']);
    await backend.close();
    const reopened = await MemoryBackend.open({ location });
    expect(await reopened.writeAtoms([bytes(0)])).toEqual([(40).toString(36)]);
  });
});

describe('storage-memory: errors', () => {
  it('rejects an unknown pointer with not-found from storage-memory, sync and async', async () => {
    const backend = await MemoryBackend.open();
    const error = await rejection(backend.readAtom('zz'));
    expect(error).toMatchObject({ reason: 'not-found', layer: 'storage-memory', details: { pointer: 'zz' } });
    expect(() => backend.readAtomSync('zz')).toThrow(StorageError);
  });

  it('refuses a root that is not an atom of the location and keeps the old root', async () => {
    const backend = await MemoryBackend.open();
    const [pointer] = await backend.writeAtoms([bytes(1)]);
    await backend.compareAndSetRoot(null, pointer!);
    expect(hasReason(await rejection(backend.compareAndSetRoot(pointer!, 'nope')), 'not-found')).toBe(true);
    expect(await backend.readRoot()).toBe(pointer);
  });

  it('rejects a too-large atom in a batch and stores none of the batch', async () => {
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location, maxAtomBytes: 4 });
    expect(backend.capabilities.maxAtomBytes).toBe(4);
    const error = await rejection(backend.writeAtoms([bytes(1), bytes(1, 2, 3, 4, 5)]));
    expect(error).toMatchObject({ reason: 'too-large', layer: 'storage-memory' });
    expect(location.atomCount).toBe(0);
    expect(await backend.writeAtoms([bytes(1, 2, 3, 4)])).toHaveLength(1);
  });

  it('rejects every call with closed after close, even unguarded', async () => {
    const backend = await MemoryBackend.open();
    const [pointer] = await backend.writeAtoms([bytes(1)]);
    await backend.close();
    for (const call of [
      () => backend.writeAtoms([bytes(2)]),
      () => backend.readAtom(pointer!),
      () => backend.readRoot(),
      () => backend.compareAndSetRoot(null, pointer!),
      () => backend.reclaim(),
    ]) {
      expect(hasReason(await rejection(call()), 'closed')).toBe(true);
    }
    expect(() => backend.readAtomSync(pointer!)).toThrow(/after close/);
  });
});

describe('storage-memory: fault injection', () => {
  it('fails a write when beforeWrite throws, storing nothing', async () => {
    const location = createMemoryLocation();
    const failure = new Error('disk full');
    const seen: number[] = [];
    const backend = await openMemoryBackend({
      location,
      faults: {
        beforeWrite(atoms) {
          seen.push(atoms.length);
          throw failure;
        },
      },
    });
    expect(await rejection(backend.writeAtoms([bytes(1), bytes(2)]))).toBe(failure);
    expect(seen).toEqual([2]);
    expect(location.atomCount).toBe(0);
  });

  it('lets close() wait for a write held in beforeWrite, which then completes', async () => {
    const held = gate();
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location, faults: { beforeWrite: () => held.wait } });
    const writing = backend.writeAtoms([bytes(5)]);
    const closing = backend.close();
    expect(await settledYet(closing)).toBe(false);
    expect(location.isOpen).toBe(true);
    held.open();
    expect(await writing).toEqual(['0']);
    await closing;
    expect(location).toMatchObject({ atomCount: 1, isOpen: false });
  });

  it('fails a commit when beforeSetRoot rejects, leaving the root unchanged', async () => {
    const faults: MemoryFaults = {};
    const backend = guardBackend(await openMemoryBackend({ faults }));
    const [a, b] = await backend.writeAtoms([bytes(1), bytes(2)]);
    faults.beforeSetRoot = async () => {
      throw new Error('fsync failed');
    };
    const error = await rejection(backend.compareAndSetRoot(null, a!));
    expect(isProtoError(error) && error.reason === 'io' && /fsync failed/.test(error.message)).toBe(true);
    expect(await backend.readRoot()).toBeNull();
    delete faults.beforeSetRoot;
    expect(await backend.compareAndSetRoot(null, b!)).toBe(true);
  });

  it('holds a commit at its barrier until the test releases it; later commits and close wait behind it', async () => {
    const barrier = gate();
    const calls: [string | null, string][] = [];
    const backend = guardBackend(
      await openMemoryBackend({
        faults: {
          beforeSetRoot: (expected, next) => {
            calls.push([expected, next]);
            return barrier.wait;
          },
        },
      }),
    );
    const [a, b] = await backend.writeAtoms([bytes(1), bytes(2)]);
    const first = backend.compareAndSetRoot(null, a!);
    const second = backend.compareAndSetRoot(null, b!);
    expect(await settledYet(first)).toBe(false);
    expect(await backend.readRoot()).toBeNull();
    const closing = backend.close();
    expect(await settledYet(second)).toBe(false);
    expect(await settledYet(closing)).toBe(false);
    barrier.open();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    await closing;
    expect(calls).toEqual([[null, a]]);
  });
});

describe('storage-memory: reclaim', () => {
  class Ref {
    constructor(readonly pointer: string) {}
  }
  const reference = (pointer: string) =>
    encodeAtom(
      'test.node',
      { child: new Ref(pointer) },
      { reference: (value) => (value instanceof Ref ? value.pointer : undefined) },
    );

  it('rejects with corrupt and deletes nothing when the root is not a codec frame', async () => {
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location });
    const [root] = await backend.writeAtoms([bytes(1, 2, 3), bytes(4)]);
    await backend.compareAndSetRoot(null, root!);
    expect(await rejection(backend.reclaim())).toMatchObject({ reason: 'corrupt', layer: 'storage-memory' });
    expect(location.atomCount).toBe(2);
  });

  it('rejects with corrupt and deletes nothing when a live atom refers to a missing one', async () => {
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location });
    const [root] = await backend.writeAtoms([reference('missing'), bytes(9)]);
    await backend.compareAndSetRoot(null, root!);
    expect(await rejection(backend.reclaim())).toMatchObject({
      reason: 'corrupt',
      details: { pointer: 'missing' },
    });
    expect(location.atomCount).toBe(2);
  });

  it('waits for a commit held at its barrier and keeps what the new root reaches', async () => {
    const barrier = gate();
    const location = createMemoryLocation();
    const backend = await MemoryBackend.open({ location, faults: { beforeSetRoot: () => barrier.wait } });
    const [leaf] = await backend.writeAtoms([encodeAtom('test.leaf', 1)]);
    const [root] = await backend.writeAtoms([reference(leaf!)]);
    await backend.writeAtoms([encodeAtom('test.garbage', 2)]);
    const committing = backend.compareAndSetRoot(null, root!);
    const reclaiming = backend.reclaim();
    expect(await settledYet(reclaiming)).toBe(false);
    barrier.open();
    expect(await committing).toBe(true);
    expect(await reclaiming).toMatchObject({ liveAtoms: 2 });
    expect(location.atomCount).toBe(2);
    expect(backend.readAtomSync(leaf!)).toEqual(encodeAtom('test.leaf', 1));
  });
});

describe('storage-memory: under the kernel guard', () => {
  it('exposes readAtomSync and reclaim as declared', async () => {
    const backend = guardBackend(await openMemoryBackend());
    expect(backend.capabilities).toEqual({
      durable: false,
      persistent: true,
      syncReads: true,
      multiProcess: false,
      maxAtomBytes: 64 * 1024 * 1024,
      reclaim: true,
    });
    expect(typeof backend.readAtomSync).toBe('function');
    expect(typeof backend.reclaim).toBe('function');
  });
});
