/**
 * The live segment files of one database: lazily opened descriptors, header checks, creation
 * of new segment files and the switch to a new tail segment.
 */
import { join } from 'node:path';
import { isProtoError } from '@proto/atom/storage';
import { corruptError, errorCode, ioError } from './errors.js';
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  FORMAT_VERSION,
  SEGMENT_DATA_START,
  segmentFileName,
} from './format.js';
import { closeQuietly, readFully, type WalFileSystem, writeFully } from './fs.js';
import { FILE_MODE, writeManifest } from './manifest.js';

export interface Segment {
  readonly id: number;
  readonly file: string;
  fd: number | undefined;
  /** Valid bytes: reads beyond are `not-found`; the tail's appends go here. */
  size: number;
  /**
   * The file's length, at least `size`. The tail's file is grown ahead of its appends (see
   * `WalStore.grow`), so `[size, allocated)` is a hole of zeros that no record covers.
   */
  allocated: number;
}

export class SegmentSet {
  private readonly byId = new Map<number, Segment>();
  private readonly ids: number[] = [];
  private nextId: number;

  constructor(
    readonly files: WalFileSystem,
    readonly dir: string,
    readonly salt: number,
    readonly readOnly: boolean,
    live: readonly number[],
    /** The highest segment id seen anywhere (live or leftover): new ids start above it. */
    highestId: number,
  ) {
    for (const id of live) this.add(id);
    this.nextId = highestId + 1;
  }

  /** Live segment ids, ascending; the last is the tail. */
  get order(): readonly number[] {
    return this.ids;
  }

  get(id: number): Segment | undefined {
    return this.byId.get(id);
  }

  /** Live segments, ascending. */
  all(): Segment[] {
    return this.ids.map((id) => this.byId.get(id) as Segment);
  }

  tail(): Segment {
    const id = this.ids[this.ids.length - 1];
    const segment = id === undefined ? undefined : this.byId.get(id);
    if (segment === undefined) throw new Error('the database has no segment yet');
    return segment;
  }

  private add(id: number): Segment {
    const segment: Segment = {
      id,
      file: join(this.dir, segmentFileName(id)),
      fd: undefined,
      size: 0,
      allocated: 0,
    };
    this.byId.set(id, segment);
    this.ids.push(id);
    return segment;
  }

  /** The segment's descriptor, opening the file and checking its header on first use. */
  fdOf(segment: Segment): number {
    if (segment.fd !== undefined) return segment.fd;
    let fd: number;
    try {
      fd = this.files.open(segment.file, this.readOnly ? 'r' : 'r+');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw corruptError(segment.file, 0, 'segment file named by the manifest is missing');
      }
      throw ioError('opening', segment.file, error);
    }
    try {
      const header = new Uint8Array(SEGMENT_DATA_START);
      const n = readFully(this.files, fd, header, 0, header.byteLength, 0);
      const decoded = decodeSegmentHeader(header.subarray(0, n));
      if (typeof decoded === 'string') throw corruptError(segment.file, 0, decoded);
      if (decoded.version !== FORMAT_VERSION) {
        throw corruptError(segment.file, 0, `segment format version ${decoded.version} is not supported`);
      }
      if (decoded.segmentId !== segment.id || decoded.salt !== this.salt) {
        throw corruptError(segment.file, 0, 'segment header belongs to another segment or database');
      }
      segment.size = this.files.size(fd);
      segment.allocated = segment.size;
    } catch (error) {
      closeQuietly(this.files, fd);
      if (isProtoError(error)) throw error;
      throw ioError('reading', segment.file, error);
    }
    segment.fd = fd;
    return fd;
  }

  /**
   * Creates a segment file under a fresh id, with its header written (not synced), without
   * making it live. Compaction fills such files and then names them in the manifest.
   */
  create(): Segment {
    const id = this.nextId++;
    const file = join(this.dir, segmentFileName(id));
    const header = encodeSegmentHeader(id, this.salt);
    let fd: number;
    try {
      fd = this.files.open(file, 'wx+', FILE_MODE);
    } catch (error) {
      throw ioError('creating', file, error);
    }
    try {
      writeFully(this.files, fd, header, 0, header.byteLength, 0);
    } catch (error) {
      closeQuietly(this.files, fd);
      try {
        this.files.unlink(file);
      } catch {
        // removed at the next open: it is not in the manifest
      }
      throw ioError('writing', file, error);
    }
    return { id, file, fd, size: header.byteLength, allocated: header.byteLength };
  }

  /**
   * Makes a new segment the tail at once (appends go there from now on) and returns the
   * previous tail; `publishTail` must complete before a commit is written into it.
   */
  beginTail(): { segment: Segment; previous: Segment | undefined } {
    const previous = this.ids.length === 0 ? undefined : this.tail();
    const created = this.create();
    const segment = this.add(created.id);
    segment.fd = created.fd;
    segment.size = created.size;
    segment.allocated = created.allocated;
    return { segment, previous };
  }

  /** Makes the new tail durable and names it in the manifest. */
  async publishTail(segment: Segment, previous: Segment | undefined): Promise<void> {
    try {
      // Atoms appended to the old tail after its last commit may be referenced by commits in
      // the new one, whose range check does not cover them: make them durable first. The hole
      // it was grown by goes, so that only the tail segment ever has one.
      if (previous?.fd !== undefined) {
        if (previous.allocated > previous.size) {
          this.files.truncate(previous.fd, previous.size);
          previous.allocated = previous.size;
        }
        await this.files.sync(previous.fd);
      }
      await this.files.sync(this.fdOf(segment));
      await this.files.syncDir(this.dir);
    } catch (error) {
      throw ioError('syncing new segment', segment.file, error);
    }
    await writeManifest(this.files, this.dir, { salt: this.salt, segments: [...this.ids] });
  }

  closeAll(): void {
    for (const segment of this.byId.values()) {
      if (segment.fd === undefined) continue;
      closeQuietly(this.files, segment.fd);
      segment.fd = undefined;
    }
  }
}
