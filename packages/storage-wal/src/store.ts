/**
 * The open WAL database: segments, the append path, group commit, reads and close.
 *
 * Writes are positional appends to the last segment, made synchronously (they land in the page
 * cache in microseconds); only the durability barrier (fdatasync) is asynchronous. Calls to
 * `compareAndSetRoot` queue; one flush at a time takes the whole queue, decides each
 * compare-and-set in arrival order against the root as the earlier ones leave it, writes one
 * commit record for the batch, syncs once and then settles every call in the batch. Calls that
 * arrive during the sync form the next batch.
 *
 * Failures: a failed write is undone by truncating the file back, so the call rejects with
 * `io` and the backend keeps working. A failed sync (or an undo that fails) puts the backend in
 * a failed state: acknowledged commits are on disk, but the page cache can no longer be
 * trusted, so every later write rejects with `io` until the database is closed and reopened
 * (recovery then checks the tail). A failed commit sync also truncates the tail back to the
 * last acknowledged commit, since the lost writes would otherwise still be read from the page
 * cache after a reopen. Reads keep working.
 */
import { crc32 } from 'node:zlib';
import type { AtomPointer, StorageBackend, StorageCapabilities } from '@proto/atom/storage';
import { StorageError } from '@proto/atom/storage';
import { corruptError, ioError, LAYER, notFoundError } from './errors.js';
import {
  type CommitLocation,
  checkRecord,
  encodeAtoms,
  encodeCommit,
  formatPointer,
  HEADER_BYTES,
  parsePointer,
  RecordType,
  SEGMENT_DATA_START,
} from './format.js';
import { readFully, type WalFileSystem, writeFully } from './fs.js';
import type { DirectoryLock } from './lock.js';
import type { Segment, SegmentSet } from './segments.js';

/** The committed state recovery found. */
export interface Recovered {
  readonly root: AtomPointer | null;
  readonly seq: number;
  readonly lastCommit: CommitLocation | null;
  /** Where the bytes the next commit covers start in the tail segment. */
  readonly rangeStart: number;
}

interface PendingSet {
  readonly expected: AtomPointer | null;
  readonly next: AtomPointer;
  /** True when it arrived while a commit was syncing (other commits overlap it). */
  readonly overlapped: boolean;
  readonly resolve: (won: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** How far ahead of its appends the tail's file is grown. */
const PREALLOCATE_BYTES = 1 << 20;

export class WalStore implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  readonly segments: SegmentSet;
  readonly segmentBytes: number;
  readonly readOnly: boolean;
  /** Whether a commit that nothing overlaps syncs on the calling thread (`WalOptions.syncOn`). */
  readonly inlineSync: boolean;
  private lock: DirectoryLock | undefined;

  /** The durable root. */
  private root: AtomPointer | null;
  private seq: number;
  private lastCommit: CommitLocation | null;
  /** Where the bytes the next commit record covers start (in the tail segment), and their crc. */
  private rangeStart: number;
  private rangeCrc = 0;

  private readonly queue: PendingSet[] = [];
  private draining: Promise<void> | undefined;
  private rolloverWanted = false;
  /** True while a commit's fdatasync runs. */
  private syncing = false;
  private failure: StorageError | undefined;
  private closed = false;

  constructor(init: {
    segments: SegmentSet;
    lock: DirectoryLock | undefined;
    readOnly: boolean;
    recovered: Recovered;
    segmentBytes: number;
    maxAtomBytes: number;
    inlineSync: boolean;
  }) {
    this.segments = init.segments;
    this.lock = init.lock;
    this.readOnly = init.readOnly;
    this.segmentBytes = init.segmentBytes;
    this.inlineSync = init.inlineSync;
    this.root = init.recovered.root;
    this.seq = init.recovered.seq;
    this.lastCommit = init.recovered.lastCommit;
    this.rangeStart = init.recovered.rangeStart;
    this.name = `wal:${init.segments.dir}`;
    this.capabilities = Object.freeze({
      durable: true,
      persistent: true,
      syncReads: true,
      multiProcess: false,
      maxAtomBytes: init.maxAtomBytes,
      reclaim: false,
      // Every atom record's crc32 (salted per segment) is checked on read.
      checkedReads: true,
    });
    if (!this.readOnly && this.segments.tail().size >= this.segmentBytes) this.rolloverWanted = true;
  }

  private get files(): WalFileSystem {
    return this.segments.files;
  }

  private get dir(): string {
    return this.segments.dir;
  }

  /** Starts a new tail segment; the drain loop writes no commit until it is published. */
  private async startSegment(): Promise<void> {
    const { segment, previous } = this.segments.beginTail();
    this.rangeStart = SEGMENT_DATA_START;
    this.rangeCrc = 0;
    await this.segments.publishTail(segment, previous);
  }

  // -------------------------------------------------------------------------------------------
  // the StorageBackend primitives

  async writeAtoms(atoms: readonly Uint8Array[]): Promise<readonly AtomPointer[]> {
    this.checkWritable('writeAtoms');
    for (const atom of atoms) {
      if (atom.byteLength > this.capabilities.maxAtomBytes) {
        throw new StorageError({
          layer: LAYER,
          reason: 'too-large',
          message: `atom of ${atom.byteLength} bytes exceeds the maximum of ${this.capabilities.maxAtomBytes}; split the value into smaller atoms`,
        });
      }
    }
    if (atoms.length === 0) return [];
    const { bytes, at } = encodeAtoms(atoms, this.segments.salt);
    const segment = this.segments.tail();
    const position = segment.size;
    this.append(segment, bytes, position);
    this.rangeCrc = crc32(bytes, this.rangeCrc);
    if (segment.size >= this.segmentBytes && !this.rolloverWanted) {
      this.rolloverWanted = true;
      this.schedule();
    }
    return at.map((offset, i) =>
      formatPointer({ segmentId: segment.id, offset: position + offset, length: atoms[i]?.byteLength ?? 0 }),
    );
  }

  /**
   * Appends `bytes` at `position` or leaves the file as it was, up to its length past
   * `position` (or fails the backend). A write past the length the file was grown to first
   * grows it `PREALLOCATE_BYTES` further (not past the segment bound unless the write is).
   */
  private append(segment: Segment, bytes: Uint8Array, position: number): void {
    const fd = this.segments.fdOf(segment);
    const end = position + bytes.byteLength;
    const allocated = segment.allocated;
    try {
      if (end > allocated) this.grow(segment, fd, end);
      writeFully(this.files, fd, bytes, 0, bytes.byteLength, position);
    } catch (error) {
      try {
        // Cut the partial write off, then give the file back the length it had (a hole).
        this.files.truncate(fd, position);
        if (allocated > position) this.files.truncate(fd, allocated);
        segment.allocated = allocated;
      } catch (undoError) {
        throw this.fail(
          ioError(
            'appending to',
            segment.file,
            error,
            `undoing the partial write failed too (${String(undoError)})`,
          ),
        );
      }
      throw ioError(
        'appending to',
        segment.file,
        error,
        'nothing was written; free space or fix the disk and retry',
      );
    }
    segment.size = position + bytes.byteLength;
  }

  /**
   * Grows the file (a hole, read as zeros) to past `end`. An fdatasync after an append that
   * makes the file longer must also journal the file's new length; one after a write inside
   * the file's length does not, and is cheaper: on ext4 about 110-140 µs instead of 155-190 µs
   * for a 400-byte write and sync (`apps/bench/README.md`). Growing into a hole costs no
   * writes; fdatasync still makes the blocks a later write allocates durable with its data.
   * Recovery cuts the hole off with the torn tail; rollover and close cut it off too.
   */
  private grow(segment: Segment, fd: number, end: number): void {
    const target = Math.max(end, Math.min(end + PREALLOCATE_BYTES, this.segmentBytes));
    this.files.truncate(fd, target);
    segment.allocated = target;
  }

  readAtomSync(pointer: AtomPointer): Uint8Array {
    if (this.closed) throw closedError('readAtomSync');
    const location = parsePointer(pointer);
    if (location === undefined) throw notFoundError(pointer, 'not a pointer issued by the wal backend');
    const segment = this.segments.get(location.segmentId);
    if (segment === undefined) {
      throw notFoundError(
        pointer,
        `segment ${location.segmentId} is not part of ${this.dir} (compacted away?)`,
      );
    }
    const fd = this.segments.fdOf(segment);
    const end = location.offset + HEADER_BYTES + location.length;
    if (location.offset < SEGMENT_DATA_START || end > segment.size) {
      throw notFoundError(pointer, `beyond the end of ${segment.file}`);
    }
    const record = new Uint8Array(HEADER_BYTES + location.length);
    let n: number;
    try {
      n = readFully(this.files, fd, record, 0, record.byteLength, location.offset);
    } catch (error) {
      throw ioError('reading', segment.file, error);
    }
    if (n !== record.byteLength) throw corruptError(segment.file, location.offset, 'atom record cut short');
    const problem = checkRecord(record, RecordType.atom, this.segments.salt);
    if (problem !== undefined)
      throw corruptError(segment.file, location.offset, `atom ${pointer}: ${problem}`);
    return record.subarray(HEADER_BYTES);
  }

  async readAtom(pointer: AtomPointer): Promise<Uint8Array> {
    return this.readAtomSync(pointer);
  }

  async readRoot(): Promise<AtomPointer | null> {
    if (this.closed) throw closedError('readRoot');
    return this.root;
  }

  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    try {
      this.checkWritable('compareAndSetRoot');
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ expected, next, overlapped: this.syncing, resolve, reject });
      this.schedule();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    if (!this.readOnly && this.failure === undefined) this.trimTail();
    this.closeFiles();
    const lock = this.lock;
    this.lock = undefined;
    lock?.release();
  }

  // -------------------------------------------------------------------------------------------
  // group commit

  private schedule(): void {
    if (this.draining !== undefined) return;
    // Start on the next turn of the event loop so that calls made together share the flush.
    this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once no flush or rollover is running or queued. */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.failure !== undefined) {
          for (const pending of this.queue.splice(0)) pending.reject(this.failedError('compareAndSetRoot'));
          break;
        }
        if (this.rolloverWanted) {
          this.rolloverWanted = false;
          const segments = this.segments.order.length;
          try {
            await this.startSegment();
          } catch (error) {
            // Not switched yet (the new file could not be created): keep appending to the old
            // segment and try again later. Switched but not durable: stop writing.
            if (this.segments.order.length !== segments) this.fail(error as StorageError);
          }
          continue;
        }
        const batch = this.queue.splice(0);
        if (batch.length === 0) break;
        await this.flush(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async flush(batch: readonly PendingSet[]): Promise<void> {
    let root = this.root;
    let changed = false;
    const results = batch.map((pending) => {
      if (pending.expected !== root) return false;
      root = pending.next;
      changed = true;
      return true;
    });
    if (!changed || root === null) {
      for (const pending of batch) pending.resolve(false);
      return;
    }
    const segment = this.segments.tail();
    const position = segment.size;
    const unacknowledgedStart = this.rangeStart;
    const record = encodeCommit(
      {
        segmentId: segment.id,
        seq: this.seq + 1,
        root,
        prev: this.lastCommit,
        rangeStart: this.rangeStart,
        rangeCrc: this.rangeCrc,
      },
      this.segments.salt,
    );
    try {
      this.append(segment, record, position);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    // Appends made while the sync runs belong to the next commit's range.
    this.lastCommit = { segmentId: segment.id, offset: position, length: record.byteLength };
    this.rangeStart = segment.size;
    this.rangeCrc = 0;
    // A lone commit (its caller awaited the commit before) syncs on this thread; see `syncOn`.
    const inline =
      this.inlineSync && batch.length === 1 && this.queue.length === 0 && batch[0]?.overlapped === false;
    this.syncing = true;
    try {
      await this.files.sync(this.segments.fdOf(segment), inline);
    } catch (error) {
      const failure = this.fail(
        ioError(
          'syncing',
          segment.file,
          error,
          `the commit is not acknowledged; close and reopen the database${this.cutUnacknowledged(segment, unacknowledgedStart)}`,
        ),
      );
      for (const pending of batch) pending.reject(failure);
      return;
    } finally {
      this.syncing = false;
    }
    this.root = root;
    this.seq += 1;
    if (segment.size >= this.segmentBytes) this.rolloverWanted = true;
    batch.forEach((pending, i) => {
      pending.resolve(results[i] === true);
    });
  }

  /**
   * After a failed fdatasync, cuts the tail back to where the unacknowledged bytes start. Linux
   * may have dropped those writes (the pages are marked clean after a writeback error) while
   * reads still return them, so a reopen in the same boot would find the commit, build on it,
   * and a later power loss would take it from under commits acknowledged since. Returns a note
   * for the error message when the cut fails too.
   */
  private cutUnacknowledged(segment: Segment, start: number): string {
    try {
      this.files.truncate(this.segments.fdOf(segment), start);
      segment.size = start;
      segment.allocated = start;
      return '';
    } catch (error) {
      return ` (cutting off the unacknowledged tail failed too: ${String(error)})`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // state

  /** Enters the failed state (the first failure is kept) and returns the error to throw. */
  private fail(error: StorageError): StorageError {
    this.failure ??= error;
    return error;
  }

  private failedError(operation: string): StorageError {
    return new StorageError({
      layer: LAYER,
      reason: 'io',
      message: `${operation} rejected: ${this.dir} stopped accepting writes after an earlier failure (${this.failure?.message}); acknowledged commits are safe on disk, close and reopen the database to continue`,
      cause: this.failure,
    });
  }

  private checkWritable(operation: string): void {
    if (this.closed) throw closedError(operation);
    if (this.readOnly) {
      throw new StorageError({
        layer: LAYER,
        reason: 'unsupported',
        message: `${operation} on ${this.dir}, which was opened with { readOnly: true }; open it without readOnly to write`,
      });
    }
    if (this.failure !== undefined) throw this.failedError(operation);
  }

  /**
   * Cuts the hole the tail was grown by off at close. Not synced: the hole is harmless either
   * way, and recovery cuts it off too.
   */
  private trimTail(): void {
    const segment = this.segments.tail();
    if (segment.fd === undefined || segment.allocated <= segment.size) return;
    try {
      this.files.truncate(segment.fd, segment.size);
      segment.allocated = segment.size;
    } catch {
      // the hole stays; the next open cuts it off with the torn tail
    }
  }

  /** The committed root, as recovered or last made durable. */
  currentRoot(): AtomPointer | null {
    return this.root;
  }

  currentSeq(): number {
    return this.seq;
  }

  closeFiles(): void {
    this.segments.closeAll();
  }

  /** Releases the lock without closing files (compaction closes them itself). */
  releaseLock(): void {
    const lock = this.lock;
    this.lock = undefined;
    this.closed = true;
    lock?.release();
  }
}

function closedError(operation: string): StorageError {
  return new StorageError({
    layer: LAYER,
    reason: 'closed',
    message: `${operation} called after close(); open the database again`,
  });
}
