/**
 * Offline compaction: copies every atom reachable from the current root into new segment
 * files and switches to them atomically, freeing the space of everything else.
 *
 * Pointers name a segment and an offset, so copied atoms get new pointers: atoms are copied
 * children first, and each parent is rewritten (`rewriteReferences`) to point at its
 * children's new places. The switch is the manifest: new segments are written under fresh
 * ids, synced, and only then named by a new manifest (written to a temp file, synced, renamed,
 * directory synced); the old segments are deleted afterwards. A crash before the rename leaves
 * the old database (the new files are removed at the next open); a crash after it leaves the
 * new one (the old files are removed at the next open).
 */

import { crc32 } from 'node:zlib';
import { atomReferences, rewriteReferences } from '@proto/atom/codec';
import type { AtomPointer, ReclaimOptions, ReclaimReport } from '@proto/atom/storage';
import { isProtoError, StorageError } from '@proto/atom/storage';
import { ioError, LAYER } from './errors.js';
import { encodeAtoms, encodeCommit, formatPointer, HEADER_BYTES, SEGMENT_DATA_START } from './format.js';
import { closeQuietly, type WalFileSystem, writeFully } from './fs.js';
import { readManifest, writeManifest } from './manifest.js';
import { openStore } from './open.js';
import type { Segment, SegmentSet } from './segments.js';
import type { WalStore } from './store.js';

/** Options of `compactWal`. */
export interface CompactOptions extends ReclaimOptions {
  /** The file layer; `nodeFileSystem` by default. */
  readonly fs?: WalFileSystem;
  /** Size of the new segment files; default 64 MiB. */
  readonly segmentBytes?: number;
}

/** What `compactWal` did; `root` is the root pointer after compaction (pointers move). */
export interface CompactReport extends ReclaimReport {
  readonly root: AtomPointer | null;
}

const PROGRESS_EVERY = 1024;
const WRITE_BUFFER_BYTES = 1 << 20;

/**
 * Compacts the database in directory `path`, which must not be open anywhere (it takes the
 * lock, and rejects with `locked` otherwise). Atoms must be frames of `@proto/atom/codec`, so
 * that their references can be traced. Safe to crash at any point: the database then opens
 * with the same root and contents, before or after compaction. Reports progress through
 * `onProgress` (`scan`, `copy`, `switch`, `cleanup`, `done`).
 *
 * @example
 * const report = await compactWal('./data/db', { onProgress: (p) => console.log(p.phase, p.done, p.total) });
 * console.log(`${report.bytesBefore} -> ${report.bytesAfter} bytes, ${report.liveAtoms} atoms kept`);
 */
export async function compactWal(path: string, options: CompactOptions = {}): Promise<CompactReport> {
  const store = await openStore(
    {
      path,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
    },
    { mustExist: true },
  );
  let report: CompactReport;
  try {
    report = await compactStore(store, options.onProgress ?? (() => {}));
  } catch (error) {
    store.closeFiles();
    try {
      store.releaseLock();
    } catch {
      // report the compaction failure; a stale lock is taken over at the next open
    }
    throw error;
  }
  store.closeFiles();
  store.releaseLock();
  return report;
}

type Progress = NonNullable<ReclaimOptions['onProgress']>;

async function compactStore(store: WalStore, onProgress: Progress): Promise<CompactReport> {
  const segments = store.segments;
  const oldSegments = segments.all();
  let bytesBefore = 0;
  for (const segment of oldSegments) {
    segments.fdOf(segment);
    bytesBefore += segment.size;
  }
  const root = store.currentRoot();

  // scan: every atom reachable from the root, children before parents
  const order = root === null ? [] : trace(store, root, onProgress);
  onProgress({ phase: 'scan', done: order.length, total: order.length });

  // copy, then switch: the manifest rename is the commit point
  const writer = new SegmentWriter(segments, store.segmentBytes);
  let created: Segment[];
  let newRoot: AtomPointer | null;
  try {
    newRoot = copy(store, root, order, writer, onProgress);
    created = await writer.finish();
    onProgress({ phase: 'copy', done: order.length, total: order.length });
    onProgress({ phase: 'switch', done: 0, total: 1 });
    await writeManifest(segments.files, segments.dir, {
      salt: segments.salt,
      segments: created.map((segment) => segment.id),
    });
  } catch (error) {
    // Unless the rename happened, the new files are unnamed leftovers: remove them now rather
    // than at the next open (best effort; after a real crash the next open does it).
    if (!switched(segments)) writer.discard();
    throw error;
  }
  onProgress({ phase: 'switch', done: 1, total: 1 });

  // cleanup: the old segments are no longer named; a crash here leaves them for the next open
  store.closeFiles();
  for (const [i, segment] of oldSegments.entries()) {
    try {
      segments.files.unlink(segment.file);
    } catch (error) {
      throw ioError('deleting old segment', segment.file, error, 'it is deleted at the next open');
    }
    onProgress({ phase: 'cleanup', done: i + 1, total: oldSegments.length });
  }
  try {
    await segments.files.syncDir(segments.dir);
  } catch (error) {
    throw ioError('syncing', segments.dir, error);
  }
  const bytesAfter = created.reduce((sum, segment) => sum + segment.size, 0);
  onProgress({ phase: 'done', done: order.length, total: order.length });
  return { liveAtoms: order.length, bytesBefore, bytesAfter, root: newRoot };
}

/** Copies `order` (children first), rewriting references; returns the new root pointer. */
function copy(
  store: WalStore,
  root: AtomPointer | null,
  order: readonly AtomPointer[],
  writer: SegmentWriter,
  onProgress: Progress,
): AtomPointer | null {
  const moved = new Map<AtomPointer, AtomPointer>();
  for (const [i, pointer] of order.entries()) {
    let bytes = store.readAtomSync(pointer);
    if (references(pointer, bytes).length > 0) {
      bytes = rewriteReferences(bytes, (child) => {
        const target = moved.get(child);
        if (target === undefined) throw new Error(`child ${child} of ${pointer} was not copied first`);
        return target;
      });
    }
    moved.set(pointer, writer.append(bytes));
    if ((i + 1) % PROGRESS_EVERY === 0) onProgress({ phase: 'copy', done: i + 1, total: order.length });
  }
  const newRoot = root === null ? null : (moved.get(root) ?? null);
  if (newRoot !== null) writer.commit(newRoot, store.currentSeq() + 1);
  return newRoot;
}

/** Whether the manifest on disk already names the compacted segments (the rename happened). */
function switched(segments: SegmentSet): boolean {
  try {
    const manifest = readManifest(segments.files, segments.dir);
    return manifest !== undefined && !manifest.segments.some((id) => segments.get(id) !== undefined);
  } catch {
    return true; // cannot tell: leave the files to the next open, which knows
  }
}

function references(pointer: AtomPointer, bytes: Uint8Array): AtomPointer[] {
  try {
    return atomReferences(bytes);
  } catch (error) {
    throw new StorageError({
      layer: LAYER,
      reason: isProtoError(error) ? error.reason : 'corrupt',
      message: `compaction cannot trace the references of atom ${pointer}: ${error instanceof Error ? error.message : String(error)}; compaction needs atoms encoded by @proto/atom/codec`,
      cause: error,
    });
  }
}

/** Every atom reachable from `root`, each once, children before parents (iterative DFS). */
function trace(store: WalStore, root: AtomPointer, onProgress: Progress): AtomPointer[] {
  const order: AtomPointer[] = [];
  const seen = new Set<AtomPointer>([root]);
  const stack: { pointer: AtomPointer; children: AtomPointer[]; next: number }[] = [
    { pointer: root, children: references(root, store.readAtomSync(root)), next: 0 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    const child = top.children[top.next];
    if (child !== undefined) {
      top.next += 1;
      if (seen.has(child)) continue;
      seen.add(child);
      stack.push({ pointer: child, children: references(child, store.readAtomSync(child)), next: 0 });
      continue;
    }
    stack.pop();
    order.push(top.pointer);
    if (order.length % PROGRESS_EVERY === 0) onProgress({ phase: 'scan', done: order.length });
  }
  return order;
}

/** Writes copied atoms into new segment files, buffering writes, rolling over by size. */
class SegmentWriter {
  private readonly created: Segment[] = [];
  private current: Segment | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** crc of the current segment's records after its header: the commit's range. */
  private rangeCrc = 0;

  constructor(
    private readonly segments: SegmentSet,
    private readonly segmentBytes: number,
  ) {}

  append(atom: Uint8Array): AtomPointer {
    let segment = this.current;
    const recordBytes = HEADER_BYTES + atom.byteLength;
    if (
      segment === undefined ||
      (segment.size > SEGMENT_DATA_START && segment.size + recordBytes > this.segmentBytes)
    ) {
      segment = this.startSegment();
    }
    const { bytes } = encodeAtoms([atom], this.segments.salt);
    const offset = segment.size;
    this.push(bytes);
    return formatPointer({ segmentId: segment.id, offset, length: atom.byteLength });
  }

  commit(root: AtomPointer, seq: number): void {
    const segment = this.current ?? this.startSegment();
    this.flush();
    const record = encodeCommit(
      {
        segmentId: segment.id,
        seq,
        root,
        prev: null,
        rangeStart: SEGMENT_DATA_START,
        rangeCrc: this.rangeCrc,
      },
      this.segments.salt,
    );
    this.push(record);
  }

  /** Writes what is buffered and syncs every new segment and the directory. */
  async finish(): Promise<Segment[]> {
    if (this.current === undefined) this.startSegment();
    this.flush();
    for (const segment of this.created) {
      try {
        await this.segments.files.sync(segment.fd as number);
      } catch (error) {
        throw ioError('syncing', segment.file, error);
      }
    }
    try {
      await this.segments.files.syncDir(this.segments.dir);
    } catch (error) {
      throw ioError('syncing', this.segments.dir, error);
    }
    for (const segment of this.created) {
      // Already synced: closing cannot lose anything.
      closeQuietly(this.segments.files, segment.fd as number);
      segment.fd = undefined;
    }
    return this.created;
  }

  /** Closes and deletes every file this writer created (best effort). */
  discard(): void {
    for (const segment of this.created) {
      if (segment.fd !== undefined) closeQuietly(this.segments.files, segment.fd);
      segment.fd = undefined;
      try {
        this.segments.files.unlink(segment.file);
      } catch {
        // not named by the manifest: the next open removes it
      }
    }
  }

  private push(bytes: Uint8Array): void {
    const segment = this.current as Segment;
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    segment.size += bytes.byteLength;
    if (this.pendingBytes >= WRITE_BUFFER_BYTES) this.flush();
  }

  private startSegment(): Segment {
    this.flush();
    const segment = this.segments.create();
    this.created.push(segment);
    this.current = segment;
    this.rangeCrc = 0;
    return segment;
  }

  private flush(): void {
    const segment = this.current;
    if (segment === undefined || this.pendingBytes === 0) return;
    const bytes = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const part of this.pending) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    const position = segment.size - this.pendingBytes;
    try {
      writeFully(this.segments.files, segment.fd as number, bytes, 0, bytes.byteLength, position);
    } catch (error) {
      throw ioError('writing', segment.file, error);
    }
    this.rangeCrc = crc32(bytes, this.rangeCrc);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
