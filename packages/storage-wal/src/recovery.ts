/**
 * Recovery: finding the last complete commit without reading the whole database.
 *
 * The search starts at the end of the last segment and scans backwards for a commit trailer
 * (the magic 'PWCE' preceded by the record length), checking each candidate's own checksum.
 * The first sound commit record found is then checked against what it covers: the records
 * between the previous commit (or the segment start) and the commit must frame exactly (only
 * atom records, ending where the commit starts) and match the commit's range checksum. Only
 * the last commit needs this check, because every earlier commit's range was synced before
 * the next commit record was written.
 *
 * If the last commit record is sound but its range is not, the crash hit while that commit
 * was being synced (it was never acknowledged): recovery goes on to the commit before it,
 * which must then pass every check. A gap of more than one commit means damage in
 * acknowledged data, and recovery fails with `corrupt`. Everything after the chosen commit is
 * the torn tail.
 */
import { crc32 } from 'node:zlib';
import { corruptError } from './errors.js';
import {
  type Commit,
  type CommitLocation,
  checkRecord,
  decodeCommit,
  HEADER_BYTES,
  MAX_COMMIT_RECORD_BYTES,
  RECORD_MAGIC,
  RecordType,
  readHeader,
  SEGMENT_DATA_START,
  TRAILER_MAGIC_BYTES,
  trailerLength,
} from './format.js';
import { readFully, type WalFileSystem } from './fs.js';

const CHUNK_BYTES = 1 << 20;
const MIN_COMMIT_RECORD_BYTES = HEADER_BYTES + 46 + 8;

/** What recovery needs to know about a segment. */
export interface SegmentView {
  readonly id: number;
  readonly file: string;
  readonly fd: number;
  /** Bytes in the file (the search starts here). */
  readonly size: number;
}

export interface FoundCommit {
  readonly commit: Commit;
  readonly location: CommitLocation;
}

export interface RecoveryContext {
  readonly files: WalFileSystem;
  readonly salt: number;
  /** The live segments, ascending. */
  readonly segments: readonly SegmentView[];
}

function readExact(
  context: RecoveryContext,
  segment: SegmentView,
  position: number,
  length: number,
): Uint8Array {
  const bytes = new Uint8Array(length);
  const n = readFully(context.files, segment.fd, bytes, 0, length, position);
  return n === length ? bytes : bytes.subarray(0, n);
}

/** Reads and checks the commit record at `location`; a string says what is wrong. */
export function readCommitAt(
  context: RecoveryContext,
  segment: SegmentView,
  offset: number,
  length: number,
): FoundCommit | string {
  if (length < MIN_COMMIT_RECORD_BYTES || length > MAX_COMMIT_RECORD_BYTES)
    return 'implausible commit length';
  if (offset < SEGMENT_DATA_START || offset + length > segment.size) return 'commit lies outside the segment';
  const record = readExact(context, segment, offset, length);
  if (record.byteLength !== length) return 'commit record cut short';
  const problem = checkRecord(record, RecordType.commit, context.salt);
  if (problem !== undefined) return problem;
  const commit = decodeCommit(record);
  if (typeof commit === 'string') return commit;
  if (commit.segmentId !== segment.id) return 'commit record names another segment';
  return { commit, location: { segmentId: segment.id, offset, length } };
}

/** The last sound commit record in `segment` ending at or before `end`, by a backward scan. */
export function scanBackward(
  context: RecoveryContext,
  segment: SegmentView,
  end: number,
): FoundCommit | undefined {
  const floor = SEGMENT_DATA_START;
  let hi = Math.min(end, segment.size);
  while (hi - floor >= MIN_COMMIT_RECORD_BYTES) {
    const windowStart = Math.max(floor, hi - CHUNK_BYTES);
    const window = Buffer.from(readExact(context, segment, windowStart, hi - windowStart));
    let from = window.byteLength - TRAILER_MAGIC_BYTES.byteLength;
    while (from >= 0) {
      const at = window.lastIndexOf(TRAILER_MAGIC_BYTES, from);
      if (at < 0) break;
      const recordEnd = windowStart + at + TRAILER_MAGIC_BYTES.byteLength;
      const length =
        at >= 4
          ? trailerLength(window, at + 4)
          : trailerLength(readExact(context, segment, recordEnd - 8, 8), 8);
      const found = readCommitAt(context, segment, recordEnd - length, length);
      if (typeof found !== 'string') return found;
      from = at - 1;
    }
    if (windowStart === floor) break;
    // Magic strings that start before the window and end inside it are found in the next one.
    hi = windowStart + TRAILER_MAGIC_BYTES.byteLength - 1;
  }
  return undefined;
}

/**
 * Checks that the records covered by `found` reached the disk intact: they frame exactly as
 * atom records from the range start to the commit, and their checksum matches.
 */
export function checkRange(
  context: RecoveryContext,
  segment: SegmentView,
  found: FoundCommit,
): string | undefined {
  const { commit, location } = found;
  const prev = commit.prev;
  const expectedStart =
    prev !== null && prev.segmentId === segment.id ? prev.offset + prev.length : SEGMENT_DATA_START;
  if (commit.rangeStart !== expectedStart) return 'commit range does not start after the previous commit';
  const end = location.offset;
  let crc = 0;
  let position = commit.rangeStart;
  let nextHeader = commit.rangeStart;
  const header = new Uint8Array(HEADER_BYTES);
  let headerFill = 0;
  while (position < end) {
    const chunk = readExact(context, segment, position, Math.min(CHUNK_BYTES, end - position));
    if (chunk.byteLength === 0) return 'commit range cut short';
    crc = crc32(chunk, crc);
    let i = nextHeader - position;
    while (i < chunk.byteLength) {
      const take = Math.min(HEADER_BYTES - headerFill, chunk.byteLength - i);
      header.set(chunk.subarray(i, i + take), headerFill);
      headerFill += take;
      i += take;
      if (headerFill < HEADER_BYTES) break;
      headerFill = 0;
      const parsed = readHeader(header);
      if (parsed.magic !== RECORD_MAGIC || parsed.type !== RecordType.atom) {
        return `no atom record at offset ${nextHeader} inside the commit range`;
      }
      nextHeader += HEADER_BYTES + parsed.length;
      i = nextHeader - position;
    }
    position += chunk.byteLength;
  }
  if (headerFill !== 0 || nextHeader !== end)
    return 'records in the commit range do not end where the commit starts';
  if (crc !== commit.rangeCrc) return 'commit range checksum mismatch';
  return undefined;
}

/**
 * The last complete commit, or null for a database that was never committed to. Throws
 * `corrupt` when the damage is in acknowledged data.
 */
export function findLastCommit(context: RecoveryContext): FoundCommit | null {
  // The newest commit record that is sound itself but whose range is not. Either the commit
  // being synced when the crash came (never acknowledged; sequence = the answer's + 1), or a
  // copy of an old commit record inside some atom's bytes (lower sequence), which the range
  // check rejects because it does not sit on a record boundary.
  let failure: { found: FoundCommit; segment: SegmentView; problem: string } | undefined;
  for (let i = context.segments.length - 1; i >= 0; i--) {
    const segment = context.segments[i];
    if (segment === undefined) continue;
    let end = segment.size;
    for (;;) {
      const candidate = scanBackward(context, segment, end);
      if (candidate === undefined) break;
      const problem = checkRange(context, segment, candidate);
      if (problem === undefined) {
        if (failure !== undefined && failure.found.commit.seq > candidate.commit.seq + 1)
          throw damaged(failure);
        return candidate;
      }
      if (failure === undefined || candidate.commit.seq > failure.found.commit.seq) {
        failure = { found: candidate, segment, problem };
      }
      end = candidate.location.offset + candidate.location.length - 1;
    }
  }
  if (failure !== undefined && failure.found.commit.seq > 1) throw damaged(failure);
  return null;
}

function damaged(failure: { found: FoundCommit; segment: SegmentView; problem: string }) {
  const { found, segment, problem } = failure;
  return corruptError(
    segment.file,
    found.commit.rangeStart,
    `${problem} (commit ${found.commit.seq} at offset ${found.location.offset}), and no intact earlier commit follows on from it`,
  );
}
