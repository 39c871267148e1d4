/**
 * The frame around every encoded body:
 *
 * ```
 * offset 0  2 bytes  magic 'p' 'b'
 *        2  1 byte   format version (1)
 *        3  1 byte   kind: 'V' value, 'A' atom
 *        4  4 bytes  CRC32 (LE) of bytes 0..3 followed by the body
 *        8  ...      body
 * ```
 *
 * The checksum catches truncation, trailing bytes and flipped bits before the body is parsed.
 */
import { crc32 } from 'node:zlib';
import { corrupt, invalidArgument } from './failures.js';
import { Reader } from './reader.js';
import { CRC_OFFSET, FORMAT_VERSION, HEADER_SIZE, KIND_ATOM, KIND_VALUE, MAGIC_0, MAGIC_1 } from './tags.js';
import type { ByteWriter } from './writer.js';

function checksum(bytes: Uint8Array, end: number): number {
  return crc32(bytes.subarray(HEADER_SIZE, end), crc32(bytes.subarray(0, CRC_OFFSET)));
}

function hex(value: number, width: number): string {
  return `0x${value.toString(16).padStart(width, '0')}`;
}

/** Fills in the header of the frame `out` holds and returns an exact-size copy of it. */
export function sealFrame(out: ByteWriter, kind: number): Uint8Array {
  const buf = out.buf;
  buf[0] = MAGIC_0;
  buf[1] = MAGIC_1;
  buf[2] = FORMAT_VERSION;
  buf[3] = kind;
  buf.writeUInt32LE(checksum(buf, out.pos), CRC_OFFSET);
  const frame = new Uint8Array(out.pos);
  frame.set(buf.subarray(0, out.pos));
  return frame;
}

/** Recomputes the checksum of a frame whose body was written in place. */
export function resealFrame(frame: Uint8Array): void {
  const crc = checksum(frame, frame.length);
  frame[CRC_OFFSET] = crc & 0xff;
  frame[CRC_OFFSET + 1] = (crc >>> 8) & 0xff;
  frame[CRC_OFFSET + 2] = (crc >>> 16) & 0xff;
  frame[CRC_OFFSET + 3] = crc >>> 24;
}

/** A verified frame: its kind and a reader positioned at the start of its body. */
export interface OpenFrame {
  readonly kind: typeof KIND_VALUE | typeof KIND_ATOM;
  readonly reader: Reader;
}

/**
 * Checks the header and (unless `verify` is false: the bytes were checked by a checksum of
 * their own) the checksum of `bytes`; throws `corrupt` when any check fails.
 */
export function openFrame(bytes: Uint8Array, verify = true): OpenFrame {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidArgument(
      `expected the frame as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  const length = bytes.length;
  if (length < HEADER_SIZE) throw corrupt(`${length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
    throw corrupt(`bad magic ${hex(bytes[0]!, 2)} ${hex(bytes[1]!, 2)}; not a ProtoBase atom or value`, 0);
  }
  if (bytes[2] !== FORMAT_VERSION) {
    throw corrupt(`unknown format version ${bytes[2]}; this build reads version ${FORMAT_VERSION}`, 2);
  }
  const kind = bytes[3];
  if (kind !== KIND_VALUE && kind !== KIND_ATOM) throw corrupt(`unknown frame kind ${hex(kind!, 2)}`, 3);
  if (!verify) return { kind, reader: new Reader(bytes, HEADER_SIZE) };
  const stored =
    (bytes[CRC_OFFSET]! | (bytes[CRC_OFFSET + 1]! << 8) | (bytes[CRC_OFFSET + 2]! << 16)) +
    bytes[CRC_OFFSET + 3]! * 0x1000000;
  const computed = checksum(bytes, length);
  if (stored !== computed) {
    throw corrupt(
      `checksum mismatch (stored ${hex(stored, 8)}, computed ${hex(computed, 8)}); the frame was truncated or changed`,
    );
  }
  return { kind, reader: new Reader(bytes, HEADER_SIZE) };
}

/** Throws `corrupt` unless the reader consumed the whole frame. */
export function expectEnd(reader: Reader): void {
  if (reader.pos !== reader.end) {
    throw corrupt(`${reader.end - reader.pos} trailing bytes after the value`, reader.pos);
  }
}
