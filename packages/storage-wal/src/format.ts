/**
 * The on-disk record format and the pointer format.
 *
 * Every segment file is a sequence of records, each a 16-byte header and a payload:
 *
 *   offset 0  u32 magic 'PWAL'    4  u8 type    5..7 zero    8  u32 payload length
 *   offset 12 u32 crc32 over header bytes 0..11 and the payload, seeded with the database salt
 *
 * A segment starts with a `segment` record (format version, segment id, salt), followed by
 * `atom` records (payload = the atom's bytes) and `commit` records. A commit record carries the
 * new root (as UTF-16 code units), its sequence number, where the previous commit is, and the
 * crc32 of the bytes `[rangeStart, commit offset)` of this segment (everything written since
 * the previous commit), so that recovery can check that what the commit depends on reached the
 * disk. Its last 8 bytes are a
 * trailer (record length, magic 'PWCE') so recovery can find it scanning backwards.
 * All integers are little-endian.
 */
import { crc32 } from 'node:zlib';

export const FORMAT_VERSION = 1;
/** 'PWAL' read as a little-endian u32. */
export const RECORD_MAGIC = 0x4c415750;
/** 'PWCE' read as a little-endian u32: the last 4 bytes of every commit record. */
export const TRAILER_MAGIC = 0x45435750;
export const TRAILER_MAGIC_BYTES: Uint8Array = new Uint8Array([0x50, 0x57, 0x43, 0x45]);
export const HEADER_BYTES = 16;

export const RecordType = { segment: 1, atom: 2, commit: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const SEGMENT_PAYLOAD_BYTES = 16;
/** Where the first atom of every segment starts. */
export const SEGMENT_DATA_START = HEADER_BYTES + SEGMENT_PAYLOAD_BYTES;
const COMMIT_FIXED_BYTES = 46;
const TRAILER_BYTES = 8;
/** A root pointer is at most 255 UTF-16 code units, stored as such (2 bytes each). */
export const MAX_COMMIT_RECORD_BYTES = HEADER_BYTES + COMMIT_FIXED_BYTES + 2 * 255 + TRAILER_BYTES;

export interface RecordHeader {
  readonly magic: number;
  readonly type: number;
  readonly length: number;
  readonly crc: number;
}

export function readHeader(bytes: Uint8Array, at = 0): RecordHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES);
  return {
    magic: view.getUint32(0, true),
    type: view.getUint8(4),
    length: view.getUint32(8, true),
    crc: view.getUint32(12, true),
  };
}

function recordCrc(record: Uint8Array, seed: number): number {
  const head = crc32(record.subarray(0, 12), seed >>> 0);
  return crc32(record.subarray(HEADER_BYTES), head);
}

/** Fills the header of `record` (whose payload is already in place) and its checksum. */
function seal(record: Uint8Array, type: RecordType, seed: number): Uint8Array {
  const view = new DataView(record.buffer, record.byteOffset, HEADER_BYTES);
  view.setUint32(0, RECORD_MAGIC, true);
  view.setUint8(4, type);
  view.setUint32(8, record.byteLength - HEADER_BYTES, true);
  view.setUint32(12, recordCrc(record, seed), true);
  return record;
}

/**
 * Checks a whole record (header and payload) in `record`: magic, type, length and checksum.
 * Returns why it fails, or undefined when it is sound.
 */
export function checkRecord(record: Uint8Array, type: RecordType, seed: number): string | undefined {
  if (record.byteLength < HEADER_BYTES) return 'record header cut short';
  const header = readHeader(record);
  if (header.magic !== RECORD_MAGIC) return 'bad record magic';
  if (header.type !== type) return `record type ${header.type} where type ${type} was expected`;
  if (header.length !== record.byteLength - HEADER_BYTES) return 'record length does not match';
  if (header.crc !== recordCrc(record, seed)) return 'record checksum mismatch';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// segment header

export interface SegmentHeader {
  readonly version: number;
  readonly segmentId: number;
  readonly salt: number;
}

/** The segment header record; its checksum is unsalted so it can be read on its own. */
export function encodeSegmentHeader(segmentId: number, salt: number): Uint8Array {
  const record = new Uint8Array(SEGMENT_DATA_START);
  const view = new DataView(record.buffer);
  view.setUint32(HEADER_BYTES, FORMAT_VERSION, true);
  view.setUint32(HEADER_BYTES + 4, segmentId, true);
  view.setUint32(HEADER_BYTES + 8, salt >>> 0, true);
  return seal(record, RecordType.segment, 0);
}

export function decodeSegmentHeader(record: Uint8Array): SegmentHeader | string {
  if (record.byteLength !== SEGMENT_DATA_START) return 'segment header cut short';
  const problem = checkRecord(record, RecordType.segment, 0);
  if (problem !== undefined) return `segment header: ${problem}`;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  return {
    version: view.getUint32(HEADER_BYTES, true),
    segmentId: view.getUint32(HEADER_BYTES + 4, true),
    salt: view.getUint32(HEADER_BYTES + 8, true),
  };
}

// ---------------------------------------------------------------------------------------------
// atoms

/** Appends the atom records for `atoms` to one buffer; returns it and each record's offset in it. */
export function encodeAtoms(atoms: readonly Uint8Array[], seed: number): { bytes: Uint8Array; at: number[] } {
  let total = 0;
  for (const atom of atoms) total += HEADER_BYTES + atom.byteLength;
  const bytes = new Uint8Array(total);
  const at: number[] = [];
  let cursor = 0;
  for (const atom of atoms) {
    at.push(cursor);
    const record = bytes.subarray(cursor, cursor + HEADER_BYTES + atom.byteLength);
    record.set(atom, HEADER_BYTES);
    seal(record, RecordType.atom, seed);
    cursor += record.byteLength;
  }
  return { bytes, at };
}

// ---------------------------------------------------------------------------------------------
// commits

export interface CommitLocation {
  readonly segmentId: number;
  readonly offset: number;
  /** Total record length, header included. */
  readonly length: number;
}

export interface Commit {
  readonly segmentId: number;
  readonly seq: number;
  readonly root: string;
  readonly prev: CommitLocation | null;
  /** First byte (in this segment) covered by `rangeCrc`; the range ends where this record starts. */
  readonly rangeStart: number;
  readonly rangeCrc: number;
}

export function encodeCommit(commit: Commit, seed: number): Uint8Array {
  // UTF-16 code units, not UTF-8: any string round-trips exactly, lone surrogates included.
  const units = commit.root.length;
  const length = HEADER_BYTES + COMMIT_FIXED_BYTES + 2 * units + TRAILER_BYTES;
  const record = new Uint8Array(length);
  const view = new DataView(record.buffer);
  const p = HEADER_BYTES;
  view.setUint32(p, commit.segmentId, true);
  view.setUint32(p + 4, 0, true);
  view.setBigUint64(p + 8, BigInt(commit.seq), true);
  view.setUint32(p + 16, commit.prev?.segmentId ?? 0, true);
  view.setUint32(p + 20, commit.prev?.length ?? 0, true);
  view.setBigUint64(p + 24, BigInt(commit.prev?.offset ?? 0), true);
  view.setBigUint64(p + 32, BigInt(commit.rangeStart), true);
  view.setUint32(p + 40, commit.rangeCrc >>> 0, true);
  view.setUint16(p + 44, units, true);
  for (let i = 0; i < units; i++)
    view.setUint16(p + COMMIT_FIXED_BYTES + 2 * i, commit.root.charCodeAt(i), true);
  view.setUint32(length - 8, length, true);
  view.setUint32(length - 4, TRAILER_MAGIC, true);
  return seal(record, RecordType.commit, seed);
}

/** Decodes a commit record already checked with `checkRecord`; a string says what is wrong. */
export function decodeCommit(record: Uint8Array): Commit | string {
  if (record.byteLength < HEADER_BYTES + COMMIT_FIXED_BYTES + TRAILER_BYTES) return 'commit record too short';
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const p = HEADER_BYTES;
  const units = view.getUint16(p + 44, true);
  if (HEADER_BYTES + COMMIT_FIXED_BYTES + 2 * units + TRAILER_BYTES !== record.byteLength) {
    return 'commit record length does not match its root';
  }
  const codes: number[] = [];
  for (let i = 0; i < units; i++) codes.push(view.getUint16(p + COMMIT_FIXED_BYTES + 2 * i, true));
  const root = String.fromCharCode(...codes);
  const prevSegment = view.getUint32(p + 16, true);
  return {
    segmentId: view.getUint32(p, true),
    seq: Number(view.getBigUint64(p + 8, true)),
    root,
    prev:
      prevSegment === 0
        ? null
        : {
            segmentId: prevSegment,
            length: view.getUint32(p + 20, true),
            offset: Number(view.getBigUint64(p + 24, true)),
          },
    rangeStart: Number(view.getBigUint64(p + 32, true)),
    rangeCrc: view.getUint32(p + 40, true),
  };
}

/** The record length stored in a commit trailer that ends at `end` in `bytes`. */
export function trailerLength(bytes: Uint8Array, end: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + end - TRAILER_BYTES, 4).getUint32(0, true);
}

// ---------------------------------------------------------------------------------------------
// pointers: "<segment>.<offset>.<length>" in base 36

export interface Location {
  readonly segmentId: number;
  readonly offset: number;
  /** The atom's length (payload only). */
  readonly length: number;
}

export function formatPointer(location: Location): string {
  return `${location.segmentId.toString(36)}.${location.offset.toString(36)}.${location.length.toString(36)}`;
}

const POINTER = /^([0-9a-z]{1,7})\.([0-9a-z]{1,11})\.([0-9a-z]{1,6})$/;

/** Parses a pointer this backend issued; undefined for anything else. */
export function parsePointer(pointer: string): Location | undefined {
  const match = POINTER.exec(pointer);
  if (match === null) return undefined;
  const segmentId = Number.parseInt(match[1] ?? '', 36);
  const offset = Number.parseInt(match[2] ?? '', 36);
  const length = Number.parseInt(match[3] ?? '', 36);
  const location = { segmentId, offset, length };
  // Only the canonical spelling: one pointer per atom, so caches keyed by pointer stay exact.
  if (formatPointer(location) !== pointer || segmentId < 1 || segmentId > 0xffffffff) return undefined;
  return location;
}

/** Segment file name for an id: `seg-0000002a.wal`. */
export function segmentFileName(segmentId: number): string {
  return `seg-${segmentId.toString(16).padStart(8, '0')}.wal`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = /^seg-([0-9a-f]{8})\.wal$/.exec(name);
  return match === null ? undefined : Number.parseInt(match[1] ?? '', 16);
}
