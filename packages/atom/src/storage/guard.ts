/**
 * The lifecycle guard the kernel wraps around every backend: it enforces "open once, no use
 * after close", makes `close()` idempotent and waits for work in flight, checks what the
 * backend returns, and turns stray exceptions into typed `StorageError`s.
 */
import { isProtoError, StorageError } from '../errors.js';
import type {
  AtomPointer,
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from './backend.js';

const GUARDED = Symbol.for('@proto/storage-guarded');

function layerOf(backend: StorageBackend): string {
  return `storage:${backend.name}`;
}

function wrap(backend: StorageBackend, operation: string, error: unknown): unknown {
  if (isProtoError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new StorageError({
    layer: layerOf(backend),
    reason: 'io',
    message: `${operation} failed: ${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`,
    cause: error,
    retryable: code === 'EAGAIN' || code === 'EBUSY',
  });
}

function checkPointer(backend: StorageBackend, pointer: unknown): AtomPointer {
  if (typeof pointer !== 'string' || pointer.length === 0 || pointer.length > 255) {
    throw new StorageError({
      layer: 'atom',
      reason: 'invalid-argument',
      message: `backend ${backend.name} used an invalid pointer ${JSON.stringify(pointer)}; pointers are non-empty strings of at most 255 characters`,
    });
  }
  return pointer;
}

/** True when `backend` is already wrapped by `guardBackend`. */
export function isGuarded(backend: StorageBackend): boolean {
  return (backend as unknown as Record<symbol, unknown>)[GUARDED] === true;
}

/**
 * Wraps a backend so that every call after `close()` rejects with reason `closed`, `close()`
 * waits for calls in flight and can be called any number of times, pointers passed in are
 * checked, and non-ProtoBase exceptions become `StorageError` with reason `io`.
 * Wrapping an already guarded backend returns it unchanged.
 */
export function guardBackend(backend: StorageBackend): StorageBackend {
  checkShape(backend);
  if (isGuarded(backend)) return backend;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  const closedError = (operation: string) =>
    new StorageError({
      layer: layerOf(backend),
      reason: 'closed',
      message: `${operation} called after close(); open the location again`,
    });

  function run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (closing !== undefined) return Promise.reject(closedError(operation));
    let promise: Promise<T>;
    try {
      promise = body();
    } catch (error) {
      return Promise.reject(wrap(backend, operation, error));
    }
    const tracked = promise.then(
      (value) => value,
      (error: unknown) => {
        throw wrap(backend, operation, error);
      },
    );
    inFlight.add(tracked);
    const forget = () => inFlight.delete(tracked);
    tracked.then(forget, forget);
    return tracked;
  }

  const capabilities: StorageCapabilities = Object.freeze({ ...backend.capabilities });
  // A batched read of the backend's own, or one derived from concurrent single reads.
  const readMany = typeof backend.readAtoms === 'function' ? backend.readAtoms.bind(backend) : undefined;
  const guarded: StorageBackend = {
    name: backend.name,
    capabilities,
    writeAtoms(atoms) {
      return run('writeAtoms', async () => {
        if (!Array.isArray(atoms)) throw invalid('writeAtoms expects an array of Uint8Array');
        for (const atom of atoms) {
          if (!(atom instanceof Uint8Array)) throw invalid('writeAtoms expects an array of Uint8Array');
          if (atom.byteLength > capabilities.maxAtomBytes) {
            throw new StorageError({
              layer: layerOf(backend),
              reason: 'too-large',
              message: `atom of ${atom.byteLength} bytes exceeds this backend's maximum of ${capabilities.maxAtomBytes}; split the value into smaller atoms (use a collection)`,
            });
          }
        }
        if (atoms.length === 0) return [];
        const pointers = await backend.writeAtoms(atoms);
        if (pointers.length !== atoms.length) {
          throw new StorageError({
            layer: layerOf(backend),
            reason: 'io',
            message: `writeAtoms returned ${pointers.length} pointers for ${atoms.length} atoms`,
          });
        }
        for (const pointer of pointers) checkPointer(backend, pointer);
        return pointers;
      });
    },
    readAtom(pointer) {
      return run('readAtom', () => backend.readAtom(checkPointer(backend, pointer)));
    },
    readAtoms(pointers) {
      return run('readAtoms', async () => {
        if (!Array.isArray(pointers)) throw invalid('readAtoms expects an array of pointers');
        for (const pointer of pointers) checkPointer(backend, pointer);
        if (pointers.length === 0) return [];
        const atoms =
          readMany === undefined
            ? await Promise.all(pointers.map((p) => backend.readAtom(p)))
            : await readMany(pointers);
        if (atoms.length !== pointers.length) {
          throw new StorageError({
            layer: layerOf(backend),
            reason: 'io',
            message: `readAtoms returned ${atoms.length} atoms for ${pointers.length} pointers`,
          });
        }
        return atoms;
      });
    },
    readRoot() {
      return run('readRoot', () => backend.readRoot());
    },
    compareAndSetRoot(expected, next) {
      return run('compareAndSetRoot', () => {
        if (expected !== null) checkPointer(backend, expected);
        return backend.compareAndSetRoot(expected, checkPointer(backend, next));
      });
    },
    close() {
      if (closing === undefined) {
        closing = (async () => {
          await Promise.allSettled([...inFlight]);
          try {
            await backend.close();
          } catch (error) {
            throw wrap(backend, 'close', error);
          }
        })();
      }
      return closing;
    },
  };
  if (capabilities.syncReads) {
    if (typeof backend.readAtomSync !== 'function') {
      throw invalid(`backend ${backend.name} declares syncReads but has no readAtomSync`);
    }
    const readSync = backend.readAtomSync.bind(backend);
    guarded.readAtomSync = (pointer) => {
      if (closing !== undefined) throw closedError('readAtomSync');
      try {
        return readSync(checkPointer(backend, pointer));
      } catch (error) {
        throw wrap(backend, 'readAtomSync', error);
      }
    };
  }
  if (!capabilities.syncReads && backend.readAtomsBlocking !== undefined) {
    if (typeof backend.readAtomsBlocking !== 'function') {
      throw invalid(`backend ${backend.name} has a readAtomsBlocking that is not a function`);
    }
    const readBlocking = backend.readAtomsBlocking.bind(backend);
    guarded.readAtomsBlocking = (pointers) => {
      if (closing !== undefined) throw closedError('readAtomsBlocking');
      if (!Array.isArray(pointers)) throw invalid('readAtomsBlocking expects an array of pointers');
      for (const pointer of pointers) checkPointer(backend, pointer);
      if (pointers.length === 0) return [];
      let atoms: readonly Uint8Array[];
      try {
        atoms = readBlocking(pointers);
      } catch (error) {
        throw wrap(backend, 'readAtomsBlocking', error);
      }
      if (!Array.isArray(atoms) || atoms.length !== pointers.length) {
        throw new StorageError({
          layer: layerOf(backend),
          reason: 'io',
          message: `readAtomsBlocking returned ${Array.isArray(atoms) ? atoms.length : 'no array of'} atoms for ${pointers.length} pointers`,
        });
      }
      return atoms;
    };
  }
  if (capabilities.reclaim) {
    if (typeof backend.reclaim !== 'function') {
      throw invalid(`backend ${backend.name} declares reclaim but has no reclaim()`);
    }
    const reclaim = backend.reclaim.bind(backend);
    guarded.reclaim = (options?: ReclaimOptions): Promise<ReclaimReport> =>
      run('reclaim', async () => {
        const keep = options?.keep;
        if (keep !== undefined) {
          if (!Array.isArray(keep)) throw invalid('reclaim keep must be an array of pointers');
          for (const pointer of keep) checkPointer(backend, pointer);
        }
        return reclaim(options);
      });
  }
  if (capabilities.multiProcess) {
    const watch =
      typeof backend.watchRoot === 'function'
        ? backend.watchRoot.bind(backend)
        : pollRoot(backend, () => closing !== undefined);
    guarded.watchRoot = (onChange) => {
      if (closing !== undefined) throw closedError('watchRoot');
      let stopped = false;
      const stop = watch(() => {
        if (!stopped && closing === undefined) onChange();
      });
      return () => {
        if (stopped) return;
        stopped = true;
        stop();
      };
    };
  }
  Object.defineProperty(guarded, GUARDED, { value: true });
  return guarded;
}

/** How often a derived `watchRoot` reads the root of a backend that has none of its own. */
const ROOT_POLL_MS = 100;

/** A `watchRoot` for a multi-process backend without one: reads the root on an unref'd timer. */
function pollRoot(backend: StorageBackend, closed: () => boolean): (onChange: () => void) => () => void {
  return (onChange) => {
    // Undefined until the first read, which always reports: a commit made before it is not missed.
    let last: AtomPointer | null | undefined;
    let reading = false;
    const timer = setInterval(() => {
      if (reading || closed()) return;
      reading = true;
      backend.readRoot().then(
        (root) => {
          reading = false;
          if (root !== last) onChange();
          last = root;
        },
        () => {
          reading = false;
          onChange(); // the reader finds out what failed
        },
      );
    }, ROOT_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  };
}

const PRIMITIVES = ['writeAtoms', 'readAtom', 'readRoot', 'compareAndSetRoot', 'close'] as const;
const BOOLEAN_CAPABILITIES = ['durable', 'persistent', 'syncReads', 'multiProcess', 'reclaim'] as const;

/**
 * Throws `invalid-argument` unless `backend` has the shape of the contract: a name, the
 * capabilities record and every required primitive. (Without this check a wrong argument, such
 * as a forgotten `await` on the backend's open function, fails later as an `io` error.)
 */
function checkShape(backend: unknown): asserts backend is StorageBackend {
  const what =
    backend === null
      ? 'null'
      : Array.isArray(backend)
        ? 'an array'
        : typeof backend === 'object'
          ? ''
          : typeof backend;
  if (what !== '')
    throw invalid(`expected a storage backend, got ${what}; pass the backend an open function resolved`);
  const candidate = backend as Record<string, unknown>;
  if (typeof candidate.then === 'function')
    throw invalid("expected a storage backend, got a promise; await the backend's open function first");
  const missing: string[] = PRIMITIVES.filter((name) => typeof candidate[name] !== 'function');
  if (typeof candidate.name !== 'string') missing.unshift('name');
  const capabilities = candidate.capabilities as Record<string, unknown> | null | undefined;
  if (typeof capabilities !== 'object' || capabilities === null) missing.push('capabilities');
  else {
    for (const name of BOOLEAN_CAPABILITIES)
      if (typeof capabilities[name] !== 'boolean') missing.push(`capabilities.${name}`);
    const max = capabilities.maxAtomBytes;
    if (typeof max !== 'number' || !(max > 0)) missing.push('capabilities.maxAtomBytes');
    if (capabilities.checkedReads !== undefined && typeof capabilities.checkedReads !== 'boolean')
      missing.push('a boolean capabilities.checkedReads');
  }
  if (missing.length > 0) {
    throw invalid(
      `expected a storage backend, got an object without ${missing.join(', ')}; a backend implements the contract in @proto/atom/storage`,
    );
  }
}

function invalid(message: string): StorageError {
  return new StorageError({ layer: 'atom', reason: 'invalid-argument', message });
}
