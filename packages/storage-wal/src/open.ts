/**
 * Opening a database directory: create it if needed, take the lock, read (or write the first)
 * manifest, remove leftovers of interrupted rollovers and compactions, find the last commit and
 * cut off the torn tail after it.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { isProtoError, StorageError } from '@proto/atom/storage';
import { corruptError, errorCode, invalidArgument, ioError, LAYER } from './errors.js';
import { parseSegmentFileName, SEGMENT_DATA_START } from './format.js';
import { nodeFileSystem, type WalFileSystem } from './fs.js';
import { acquireLock, removeStaleLockLeftovers } from './lock.js';
import {
  DIRECTORY_MODE,
  MANIFEST_FILE,
  MANIFEST_TEMP_FILE,
  readManifest,
  writeManifest,
} from './manifest.js';
import { findLastCommit } from './recovery.js';
import { SegmentSet } from './segments.js';
import { type Recovered, WalStore } from './store.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_ATOM_BYTES = 64 * 1024 * 1024;
const MAX_ATOM_BYTES_LIMIT = 256 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 1024;

/** Options of `openWalBackend`. */
export interface WalOptions {
  /** The database directory. Created (mode 0700) if missing, unless `readOnly`. */
  readonly path: string;
  /** The file layer; `nodeFileSystem` by default. Tests inject failures through it. */
  readonly fs?: WalFileSystem;
  /** A segment file is closed and a new one started once it grows past this. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** The largest atom accepted. Default 64 MiB, at most 256 MiB. */
  readonly maxAtomBytes?: number;
  /**
   * Open without the lock and without repairing anything: reads see the state committed when
   * it was opened; writes reject with `unsupported`. A writer may hold the database meanwhile
   * (but its compaction would remove the segments this reader uses).
   */
  readonly readOnly?: boolean;
  /**
   * Where a commit that nothing overlaps makes its fdatasync. `'auto'` (the default): a commit
   * whose compare-and-set arrived while no other commit was syncing, with nothing queued
   * behind it (a caller that awaits each commit, as a request handler does), syncs on the
   * calling thread, blocking the event loop for the sync (as better-sqlite3 does for every
   * commit) and saving the two thread hand-offs of an asynchronous sync (about 90 µs a commit
   * on a 2-core VM, `apps/bench/README.md`); commits that overlap others sync in the thread pool
   * while the next group is prepared. `'thread-pool'`: every sync in the thread pool, so the
   * event loop never waits for the disk.
   */
  readonly syncOn?: 'auto' | 'thread-pool';
}

function noDatabase(dir: string): StorageError {
  return new StorageError({
    layer: LAYER,
    reason: 'not-found',
    message: `no database at ${dir}; open it once without readOnly to create it`,
  });
}

/** Opens a store; `mustExist` fails with `not-found` instead of creating a database. */
export async function openStore(
  options: WalOptions,
  internal: { mustExist?: boolean } = {},
): Promise<WalStore> {
  const settings = validate(options);
  const files = options.fs ?? nodeFileSystem;
  const dir = resolve(options.path);
  const readOnly = options.readOnly === true;
  const mustExist = readOnly || internal.mustExist === true;
  if (!mustExist) {
    try {
      await createDirectory(files, dir);
    } catch (error) {
      throw ioError('creating directory', dir, error);
    }
  }
  let key: string;
  try {
    key = files.realpath(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw noDatabase(dir);
    throw ioError('resolving', dir, error);
  }
  const lock = readOnly ? undefined : await acquireLock(files, dir, key);
  let segments: SegmentSet | undefined;
  try {
    let names = listDirectory(files, dir);
    const leftovers = names.flatMap((name) => {
      const id = parseSegmentFileName(name);
      return id === undefined ? [] : [id];
    });
    let manifest = readManifest(files, dir);
    if (manifest === undefined) {
      if (mustExist) throw noDatabase(dir);
      if (leftovers.length > 0) {
        throw corruptError(
          join(dir, MANIFEST_FILE),
          0,
          'manifest missing while segment files exist (nothing was deleted); restore MANIFEST from a backup',
        );
      }
      manifest = { salt: randomBytes(4).readUInt32LE(0), segments: [] };
      // Writing the manifest goes through the temp file and renames it away: a temp file left by
      // an interrupted creation is gone now and must not be removed again.
      await writeManifest(files, dir, manifest);
      names = names.filter((name) => name !== MANIFEST_TEMP_FILE);
    }
    if (!readOnly) await removeLeftovers(files, dir, names, new Set(manifest.segments));
    segments = new SegmentSet(
      files,
      dir,
      manifest.salt,
      readOnly,
      manifest.segments,
      Math.max(0, ...leftovers, ...manifest.segments),
    );
    if (segments.order.length === 0 && !readOnly) {
      const { segment } = segments.beginTail();
      await segments.publishTail(segment, undefined);
    }
    const recovered = await recover(segments);
    return new WalStore({ segments, lock, readOnly, recovered, ...settings });
  } catch (error) {
    segments?.closeAll();
    try {
      lock?.release();
    } catch {
      // report why the open failed; a lock left behind is taken over at the next open
    }
    throw error;
  }
}

/** Finds the last commit and cuts off everything after it (unacknowledged work). */
async function recover(segments: SegmentSet): Promise<Recovered> {
  const empty: Recovered = { root: null, seq: 0, lastCommit: null, rangeStart: SEGMENT_DATA_START };
  if (segments.order.length === 0) return empty; // read-only open of a database without segments
  // Segments open lazily: the backward search rarely leaves the last one.
  const views = segments.all().map((segment) => ({
    id: segment.id,
    file: segment.file,
    get fd() {
      return segments.fdOf(segment);
    },
    get size() {
      segments.fdOf(segment);
      return segment.size;
    },
  }));
  let found: ReturnType<typeof findLastCommit>;
  try {
    found = findLastCommit({ files: segments.files, salt: segments.salt, segments: views });
  } catch (error) {
    if (isProtoError(error)) throw error;
    throw ioError('recovering', segments.dir, error);
  }
  const commitSegment = found?.location.segmentId ?? 0;
  const commitEnd = found === null ? 0 : found.location.offset + found.location.length;
  const tail = segments.tail();
  for (const segment of segments.all()) {
    let keep: number | undefined;
    if (segment.id > commitSegment) keep = SEGMENT_DATA_START;
    else if (segment === tail) keep = commitEnd;
    if (keep === undefined) continue;
    const fd = segments.fdOf(segment);
    if (segment.size === keep) continue;
    if (!segments.readOnly) {
      try {
        segments.files.truncate(fd, keep);
        await segments.files.sync(fd);
      } catch (error) {
        throw ioError('truncating the torn tail of', segment.file, error);
      }
    }
    segment.size = keep;
    if (!segments.readOnly) segment.allocated = keep;
  }
  segments.fdOf(tail);
  if (found === null) return empty;
  return {
    root: found.commit.root,
    seq: found.commit.seq,
    lastCommit: found.location,
    rangeStart: commitSegment === tail.id ? commitEnd : SEGMENT_DATA_START,
  };
}

function validate(options: WalOptions): {
  segmentBytes: number;
  maxAtomBytes: number;
  inlineSync: boolean;
} {
  if (typeof options?.path !== 'string' || options.path.length === 0) {
    throw invalidArgument('openWalBackend needs { path }: the database directory');
  }
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES) {
    throw invalidArgument(`segmentBytes must be an integer of at least ${MIN_SEGMENT_BYTES}`);
  }
  const maxAtomBytes = options.maxAtomBytes ?? DEFAULT_MAX_ATOM_BYTES;
  if (!Number.isSafeInteger(maxAtomBytes) || maxAtomBytes < 1 || maxAtomBytes > MAX_ATOM_BYTES_LIMIT) {
    throw invalidArgument(`maxAtomBytes must be an integer between 1 and ${MAX_ATOM_BYTES_LIMIT}`);
  }
  const syncOn = options.syncOn ?? 'auto';
  if (syncOn !== 'auto' && syncOn !== 'thread-pool') {
    throw invalidArgument(`syncOn must be 'auto' or 'thread-pool', got ${String(syncOn)}`);
  }
  return { segmentBytes, maxAtomBytes, inlineSync: syncOn === 'auto' };
}

/**
 * Creates `dir` and its missing parents, then syncs the parent of each directory it created: a
 * new directory's name is durable only once its parent is synced, and until then a power loss
 * can take the whole database with it, acknowledged commits included.
 */
async function createDirectory(files: WalFileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; !directoryExists(files, at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  if (missing.length === 0) return;
  files.mkdir(dir, DIRECTORY_MODE);
  for (const created of missing.reverse()) await files.syncDir(dirname(created));
}

function directoryExists(files: WalFileSystem, path: string): boolean {
  try {
    files.readdir(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function listDirectory(files: WalFileSystem, dir: string): string[] {
  try {
    return files.readdir(dir);
  } catch (error) {
    throw ioError('listing', dir, error);
  }
}

/** Deletes segment files the manifest does not name, a stale manifest temp file and lock leftovers. */
async function removeLeftovers(
  files: WalFileSystem,
  dir: string,
  names: readonly string[],
  live: ReadonlySet<number>,
): Promise<void> {
  let removed = false;
  for (const name of names) {
    const id = parseSegmentFileName(name);
    if ((id !== undefined && !live.has(id)) || name === MANIFEST_TEMP_FILE) {
      try {
        files.unlink(join(dir, name));
      } catch (error) {
        throw ioError('removing leftover', join(dir, name), error);
      }
      removed = true;
    }
  }
  removeStaleLockLeftovers(files, dir, names);
  if (removed) {
    try {
      await files.syncDir(dir);
    } catch (error) {
      throw ioError('syncing', dir, error);
    }
  }
}
