/**
 * Deliberately broken backends for testing the suite itself: each wraps the memory backend and
 * breaks one promise of the contract. A suite that passes a mutant has a blind spot.
 */
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { hasReason, StorageError } from '@proto/atom/storage';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import type { ConformanceHarness } from '../src/index.js';

/** Replaces some methods of a backend, keeping the rest. */
export type Breakage = (inner: StorageBackend) => Partial<StorageBackend>;

/** A harness over the memory backend with `breakage` applied to every backend it opens. */
export function mutantHarness(
  name: string,
  breakage: Breakage,
  knownGaps?: readonly string[],
): ConformanceHarness {
  return {
    name,
    createLocation: () => createMemoryLocation(),
    open: async (location) => {
      const inner = await openMemoryBackend({ location: location as MemoryLocation });
      const broken: StorageBackend = {
        name: inner.name,
        capabilities: inner.capabilities,
        writeAtoms: (atoms) => inner.writeAtoms(atoms),
        readAtom: (pointer) => inner.readAtom(pointer),
        readAtomSync: (pointer) => (inner.readAtomSync as (p: AtomPointer) => Uint8Array)(pointer),
        readRoot: () => inner.readRoot(),
        compareAndSetRoot: (expected, next) => inner.compareAndSetRoot(expected, next),
        reclaim: (options) => (inner.reclaim as NonNullable<StorageBackend['reclaim']>)(options),
        close: () => inner.close(),
      };
      return Object.assign(broken, breakage(inner));
    },
    ...(knownGaps === undefined ? {} : { knownGaps }),
  };
}

/** The correct memory backend, through the same wrapper. */
export const soundHarness: ConformanceHarness = mutantHarness('sound', () => ({}));

/** Each mutant, and the scenario that must catch it. */
export const mutants: readonly { readonly key: string; readonly bug: string; readonly breakage: Breakage }[] =
  [
    {
      key: 'integrity.read-atoms-batch',
      bug: 'readAtoms answers in storage order, not in the order asked',
      breakage: (inner) => ({
        readAtoms: async (pointers) =>
          Promise.all([...new Set(pointers)].sort().map((p) => inner.readAtom(p))),
      }),
    },
    {
      key: 'integrity.read-atoms-unknown-pointer',
      bug: 'readAtoms skips the pointers it does not know',
      breakage: (inner) => ({
        readAtoms: async (pointers) =>
          (await Promise.all(pointers.map((p) => inner.readAtom(p).catch(() => undefined)))).filter(
            (b): b is Uint8Array => b !== undefined,
          ),
      }),
    },
    {
      key: 'integrity.read-atoms-blocking',
      bug: 'readAtomsBlocking answers each pointer once, in storage order',
      breakage: (inner) => ({
        capabilities: { ...inner.capabilities, syncReads: false },
        readAtomsBlocking: (pointers) =>
          [...new Set(pointers)].sort().map((p) => (inner.readAtomSync as (p: AtomPointer) => Uint8Array)(p)),
      }),
    },
    {
      key: 'integrity.read-atoms-blocking-unknown-pointer',
      bug: 'readAtomsBlocking skips the pointers it does not know',
      breakage: (inner) => ({
        capabilities: { ...inner.capabilities, syncReads: false },
        readAtomsBlocking: (pointers) =>
          pointers.flatMap((p) => {
            try {
              return [(inner.readAtomSync as (p: AtomPointer) => Uint8Array)(p)];
            } catch {
              return [];
            }
          }),
      }),
    },
    {
      key: 'cas.wrong-expected-returns-false',
      bug: 'compare-and-set ignores expected',
      breakage: (inner) => ({
        compareAndSetRoot: async (_expected, next) => inner.compareAndSetRoot(await inner.readRoot(), next),
      }),
    },
    {
      key: 'cas.race-exactly-one-wins',
      bug: 'compare-and-set checks, yields, then sets',
      breakage: (inner) => ({
        compareAndSetRoot: async (expected, next) => {
          if ((await inner.readRoot()) !== expected) return false;
          await new Promise<void>((resolve) => setImmediate(resolve));
          return inner.compareAndSetRoot(await inner.readRoot(), next);
        },
      }),
    },
    {
      key: 'cas.concurrent-writers-lose-no-commit',
      bug: 'compare-and-set checks, yields, then sets',
      breakage: (inner) => ({
        compareAndSetRoot: async (expected, next) => {
          if ((await inner.readRoot()) !== expected) return false;
          await new Promise<void>((resolve) => setImmediate(resolve));
          return inner.compareAndSetRoot(await inner.readRoot(), next);
        },
      }),
    },
    {
      key: 'cas.same-root-again',
      bug: 'compare-and-set reports false when the root does not change (rows-affected style)',
      breakage: (inner) => ({
        compareAndSetRoot: async (expected, next) =>
          expected !== next && inner.compareAndSetRoot(expected, next),
      }),
    },
    {
      key: 'integrity.sent-buffer-mutation-ignored',
      bug: 'keeps the caller’s buffer instead of a copy',
      breakage: (inner) => {
        const kept = new Map<AtomPointer, Uint8Array>();
        return {
          writeAtoms: async (atoms) => {
            const pointers = await inner.writeAtoms(atoms);
            for (const [i, pointer] of pointers.entries()) kept.set(pointer, atoms[i] as Uint8Array);
            return pointers;
          },
          readAtom: async (pointer) => kept.get(pointer) ?? inner.readAtom(pointer),
        };
      },
    },
    {
      key: 'integrity.returned-buffer-mutation-ignored',
      bug: 'hands out the same buffer on every read',
      breakage: (inner) => {
        const cache = new Map<AtomPointer, Uint8Array>();
        return {
          readAtom: async (pointer) => {
            const bytes = cache.get(pointer) ?? (await inner.readAtom(pointer));
            cache.set(pointer, bytes);
            return bytes;
          },
        };
      },
    },
    {
      key: 'integrity.views-stored-exactly',
      bug: 'stores the whole underlying ArrayBuffer of a view',
      breakage: (inner) => ({
        writeAtoms: (atoms) => inner.writeAtoms(atoms.map((atom) => new Uint8Array(atom.buffer))),
      }),
    },
    {
      key: 'integrity.unknown-pointer-not-found',
      bug: 'returns empty bytes for an unknown pointer',
      breakage: (inner) => ({
        readAtom: (pointer) =>
          inner.readAtom(pointer).catch((error: unknown) => {
            if (hasReason(error, 'not-found')) return new Uint8Array(0);
            throw error;
          }),
      }),
    },
    {
      key: 'integrity.sync-reads-agree',
      bug: 'readAtomSync returns bytes of another atom',
      breakage: (inner) => ({
        readAtomSync: (pointer) =>
          (inner.readAtomSync as (p: AtomPointer) => Uint8Array)(pointer).subarray(1),
      }),
    },
    {
      key: 'edge.zero-length-atom',
      bug: 'stores a zero-length atom as one zero byte',
      breakage: (inner) => ({
        writeAtoms: (atoms) =>
          inner.writeAtoms(atoms.map((atom) => (atom.byteLength === 0 ? new Uint8Array(1) : atom))),
      }),
    },
    {
      key: 'edge.many-atoms-one-batch',
      bug: 'returns the pointers of a large batch out of order',
      breakage: (inner) => ({
        writeAtoms: async (atoms) => {
          const pointers = [...(await inner.writeAtoms(atoms))];
          return pointers.length > 1000 ? pointers.reverse() : pointers;
        },
      }),
    },
    {
      key: 'edge.read-your-writes-before-commit',
      bug: 'atoms become readable only after a commit',
      breakage: (inner) => {
        const committed = new Set<AtomPointer>();
        const pending = new Set<AtomPointer>();
        return {
          writeAtoms: async (atoms) => {
            const pointers = await inner.writeAtoms(atoms);
            for (const pointer of pointers) pending.add(pointer);
            return pointers;
          },
          readAtom: async (pointer) => {
            if (pending.has(pointer) && !committed.has(pointer)) throw new Error('not committed yet');
            return inner.readAtom(pointer);
          },
          compareAndSetRoot: async (expected, next) => {
            const ok = await inner.compareAndSetRoot(expected, next);
            if (ok) for (const pointer of pending) committed.add(pointer);
            return ok;
          },
        };
      },
    },
    {
      key: 'lifecycle.capabilities-declared',
      bug: 'declares a fractional maxAtomBytes',
      breakage: (inner) => ({
        capabilities: { ...inner.capabilities, maxAtomBytes: inner.capabilities.maxAtomBytes + 0.5 },
      }),
    },
    {
      key: 'reclaim.keeps-live-graph',
      bug: 'reclaim miscounts live atoms',
      breakage: (inner) => ({
        reclaim: async (options) => {
          const report = await (inner.reclaim as NonNullable<StorageBackend['reclaim']>)(options);
          return { ...report, liveAtoms: report.liveAtoms + 1 };
        },
      }),
    },
    {
      key: 'reclaim.keeps-what-keep-reaches',
      bug: 'reclaim ignores options.keep',
      breakage: (inner) => ({
        reclaim: (options) =>
          (inner.reclaim as NonNullable<StorageBackend['reclaim']>)(
            options?.onProgress === undefined ? {} : { onProgress: options.onProgress },
          ),
      }),
    },
    {
      key: 'reclaim.reports-progress',
      bug: 'reclaim reports done before scanning',
      breakage: (inner) => ({
        reclaim: (options) =>
          (inner.reclaim as NonNullable<StorageBackend['reclaim']>)({
            onProgress: (progress) => {
              options?.onProgress?.(progress.phase === 'scan' ? { ...progress, phase: 'done' } : progress);
            },
          }),
      }),
    },
  ];

/** Harnesses whose backends break a promise only visible across reopen. */
export const reopenMutants: readonly {
  readonly key: string;
  readonly bug: string;
  readonly harness: ConformanceHarness;
}[] = [
  {
    key: 'durability.reopen-keeps-root-and-atoms',
    bug: 'every open starts from an empty location',
    harness: { name: 'amnesiac', createLocation: () => null, open: () => openMemoryBackend() },
  },
  {
    key: 'durability.writes-after-reopen-keep-old-atoms',
    bug: 'restarts its pointer counter on every open, overwriting older atoms',
    harness: plainHarness('reusing-pointers', { reusePointers: true }),
  },
  {
    key: 'lifecycle.exclusive-location',
    bug: 'lets a second backend open a held location',
    harness: plainHarness('no-lock', { reusePointers: false }),
  },
  {
    key: 'lifecycle.watch-root',
    bug: "has a watchRoot that never reports another backend's commits",
    harness: plainHarness('deaf-watch', { reusePointers: false, deafWatch: true }),
  },
];

/**
 * A small unlocked backend over a plain object location, with nothing else wrong unless
 * `reusePointers` makes its pointer counter restart at every open. With `deafWatch` it declares
 * `multiProcess` (backends on one location share it) and has a `watchRoot` that never calls.
 */
function plainHarness(
  name: string,
  options: { reusePointers: boolean; deafWatch?: boolean },
): ConformanceHarness {
  type Store = { atoms: Map<AtomPointer, Uint8Array>; root: AtomPointer | null; next: number };
  return {
    name,
    createLocation: (): Store => ({ atoms: new Map(), root: null, next: 0 }),
    open: async (location) => {
      const store = location as Store;
      if (options.reusePointers) store.next = 0;
      return {
        name,
        capabilities: {
          durable: false,
          persistent: true,
          syncReads: false,
          multiProcess: options.deafWatch === true,
          maxAtomBytes: 1 << 20,
          reclaim: false,
        },
        writeAtoms: async (atoms) =>
          atoms.map((atom) => {
            const pointer = `p${store.next++}`;
            store.atoms.set(pointer, atom.slice());
            return pointer;
          }),
        readAtom: async (pointer) => {
          const bytes = store.atoms.get(pointer);
          if (bytes === undefined)
            throw new StorageError({ layer: name, reason: 'not-found', message: `no atom ${pointer}` });
          return bytes.slice();
        },
        readRoot: async () => store.root,
        compareAndSetRoot: async (expected, next) => {
          if (store.root !== expected) return false;
          store.root = next;
          return true;
        },
        ...(options.deafWatch === true ? { watchRoot: () => () => {} } : {}),
        close: async () => {},
      };
    },
  };
}
