/**
 * A backend seen as a second process would see it: the same location behind a wrapper that
 * says `multiProcess` (so a space re-reads the root and follows other writers) and whose
 * `close()` leaves the location open for the other. For tests of two spaces on one backend.
 */
import type { StorageBackend } from '@proto/atom/storage';

/** `backend` as one of two spaces on it sees it (see the module comment). */
export function shared(backend: StorageBackend): StorageBackend {
  return {
    name: backend.name,
    capabilities: { ...backend.capabilities, multiProcess: true, reclaim: false },
    writeAtoms: (atoms) => backend.writeAtoms(atoms),
    readAtom: (p) => backend.readAtom(p),
    readAtomSync: (p) => (backend.readAtomSync as (p: string) => Uint8Array)(p),
    ...(backend.readAtomsBlocking === undefined
      ? {}
      : { readAtomsBlocking: backend.readAtomsBlocking.bind(backend) }),
    readRoot: () => backend.readRoot(),
    compareAndSetRoot: (e, n) => backend.compareAndSetRoot(e, n),
    close: async () => undefined,
  };
}
