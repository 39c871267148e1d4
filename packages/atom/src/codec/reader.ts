/**
 * Bounds-checked reads over a frame body. Every read checks the remaining bytes before it
 * touches or allocates anything, and every malformed input throws `corrupt`.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { corrupt } from './failures.js';
import { MAX_BIGINT_BYTES, MAX_POINTER_LENGTH } from './tags.js';
import type { FastBuffer } from './writer.js';

/** The largest valid Date time value, in ms either side of the epoch. */
const MAX_TIME = 8.64e15;
/** Short ASCII strings are built with `String.fromCharCode`; longer ones through `utf8Slice`. */
const SHORT_STRING = 16;
/** ASCII is detected by a byte loop up to this length; longer strings go to `isUtf8`. */
const ASCII_SCAN_LIMIT = 64;
/** UTF-16 strings are built this many code units at a time. */
const UTF16_CHUNK = 4096;

/** Object keys up to this many ASCII bytes are interned through `keyCache`. */
const CACHED_KEY_LIMIT = 32;
/** Slots in `keyCache`; a power of two. */
const KEY_CACHE_SIZE = 4096;

const fromCharCode = String.fromCharCode;

/**
 * Recently decoded short ASCII keys by a hash of their bytes. Handing V8 the same string for
 * the same key lets property stores hit its caches instead of interning a fresh string each
 * time; collection nodes repeat the same few keys in every record.
 */
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

/** Builds a string of `length` (<= SHORT_STRING) ASCII bytes starting at `at`. */
function shortAscii(b: Uint8Array, at: number, length: number): string {
  // Unrolled: one fromCharCode call is several times cheaper than concatenation or apply, and
  // gives a flat string (two calls joined would make a cons string, flattened on first compare).
  switch (length) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[at]!);
    case 2:
      return fromCharCode(b[at]!, b[at + 1]!);
    case 3:
      return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!);
    case 4:
      return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
    case 5:
      return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!);
    case 6:
      return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!);
    case 7:
      return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!, b[at + 6]!);
    case 8:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
      );
    case 9:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
      );
    case 10:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
      );
    case 11:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
      );
    case 12:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
        b[at + 11]!,
      );
    case 13:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
        b[at + 11]!,
        b[at + 12]!,
      );
    case 14:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
        b[at + 11]!,
        b[at + 12]!,
        b[at + 13]!,
      );
    case 15:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
        b[at + 11]!,
        b[at + 12]!,
        b[at + 13]!,
        b[at + 14]!,
      );
    case 16:
      return fromCharCode(
        b[at]!,
        b[at + 1]!,
        b[at + 2]!,
        b[at + 3]!,
        b[at + 4]!,
        b[at + 5]!,
        b[at + 6]!,
        b[at + 7]!,
        b[at + 8]!,
        b[at + 9]!,
        b[at + 10]!,
        b[at + 11]!,
        b[at + 12]!,
        b[at + 13]!,
        b[at + 14]!,
        b[at + 15]!,
      );
    default:
      // Callers pass at most SHORT_STRING bytes; anything longer is still built correctly.
      return shortAscii(b, at, 16) + shortAscii(b, at + 16, length - 16);
  }
}

/** A cursor over `bytes[pos..end)`. Offsets in error messages are from the frame start. */
export class Reader {
  readonly bytes: Uint8Array;
  readonly buf: FastBuffer;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, pos: number, end = bytes.length) {
    this.bytes = bytes;
    this.buf = (
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    ) as FastBuffer;
    this.pos = pos;
    this.end = end;
  }

  /** Throws unless `count` more bytes are available. */
  need(count: number): void {
    if (count > this.end - this.pos) {
      throw corrupt(`${count} bytes needed but only ${this.end - this.pos} remain`, this.pos);
    }
  }

  byte(): number {
    if (this.pos >= this.end) throw corrupt('unexpected end of frame', this.pos);
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 integer of at most 8 bytes, minimal form, <= 2^53 - 1. */
  varint(): number {
    const bytes = this.bytes;
    const end = this.end;
    let at = this.pos;
    if (at >= end) throw corrupt('unexpected end of frame in a varint', at);
    let byte = bytes[at++]!;
    if (byte < 0x80) {
      this.pos = at;
      return byte;
    }
    let value = byte & 0x7f;
    let scale = 0x80;
    for (let count = 1; ; count++) {
      if (at >= end) throw corrupt('unexpected end of frame in a varint', at);
      if (count === 8) throw corrupt('varint longer than 8 bytes', this.pos);
      byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0) throw corrupt('varint not in minimal form', this.pos);
        break;
      }
      scale *= 0x80;
    }
    if (value > Number.MAX_SAFE_INTEGER) throw corrupt('varint above 2^53 - 1', this.pos);
    this.pos = at;
    return value;
  }

  /** A uint32 LE. */
  uint32(): number {
    this.need(4);
    const b = this.bytes;
    const at = this.pos;
    this.pos = at + 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
  }

  float64(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A Date time value: NaN or an integer within the Date range. */
  time(): number {
    const at = this.pos;
    const time = this.float64();
    if (Number.isNaN(time)) return time;
    if (!Number.isInteger(time) || Math.abs(time) > MAX_TIME) throw corrupt(`invalid Date time ${time}`, at);
    return time;
  }

  /** A bigint magnitude (varint size, big-endian bytes, no leading zero byte). */
  bigint(negative: boolean): bigint {
    const start = this.magnitude(negative);
    if (start === this.pos) return 0n;
    const magnitude = BigInt(`0x${this.buf.toString('hex', start, this.pos)}`);
    return negative ? -magnitude : magnitude;
  }

  /** Validates and skips a bigint magnitude; returns where its bytes start. */
  magnitude(negative: boolean): number {
    const at = this.pos;
    const size = this.varint();
    // Checked by the scanner too, so that a frame atomReferences accepts also decodes.
    if (size > MAX_BIGINT_BYTES)
      throw corrupt(
        `bigint of ${size} bytes, above the ${MAX_BIGINT_BYTES} a JavaScript bigint can hold`,
        at,
      );
    this.need(size);
    const start = this.pos;
    if (size === 0 ? negative : this.bytes[start] === 0) throw corrupt('bigint not in canonical form', at);
    this.pos = start + size;
    return start;
  }

  /** A copy of a varint-length byte string that shares no memory with the frame. */
  byteString(): Uint8Array {
    const size = this.varint();
    this.need(size);
    const copy = new Uint8Array(size);
    copy.set(this.bytes.subarray(this.pos, this.pos + size));
    this.pos += size;
    return copy;
  }

  /** Skips a varint-length byte string. */
  skipByteString(): void {
    const size = this.varint();
    this.need(size);
    this.pos += size;
  }

  /** A string (see `ByteWriter.string` for the layout). */
  string(): string {
    const b = this.bytes;
    const at = this.pos;
    // Fast path: a one-byte header and a short ASCII body.
    const header = at < this.end ? b[at]! : 1;
    if ((header & 1) === 0 && header <= 2 * SHORT_STRING) {
      const size = header >>> 1;
      const start = at + 1;
      if (size <= this.end - start) {
        let bits = 0;
        for (let i = start; i < start + size; i++) bits |= b[i]!;
        if (bits < 0x80) {
          this.pos = start + size;
          return shortAscii(b, start, size);
        }
      }
    }
    return this.anyString();
  }

  private anyString(): string {
    const at = this.pos;
    const header = this.varint();
    const size = Math.floor(header / 2);
    this.need(size);
    const start = this.pos;
    this.pos = start + size;
    if (header % 2 === 0) {
      this.checkUtf8(start, size, at);
      return this.buf.utf8Slice(start, start + size);
    }
    if (size % 2 === 1) throw corrupt('UTF-16 string with an odd byte count', at);
    return this.utf16(start, size / 2);
  }

  /** Validates and skips a string. */
  skipString(): void {
    const at = this.pos;
    const header = this.varint();
    const size = Math.floor(header / 2);
    this.need(size);
    const start = this.pos;
    this.pos = start + size;
    if (header % 2 === 0) this.checkUtf8(start, size, at);
    else if (size % 2 === 1) throw corrupt('UTF-16 string with an odd byte count', at);
  }

  /** An object key: a string, served from `keyCache` when short and ASCII. */
  key(): string {
    const b = this.bytes;
    const at = this.pos;
    const header = at < this.end ? b[at]! : 1;
    // A one-byte header of a non-empty UTF-8 string within the cache limit.
    if ((header & 1) === 0 && header !== 0 && header <= 2 * CACHED_KEY_LIMIT) {
      const size = header >>> 1;
      const start = at + 1;
      const last = start + size - 1;
      if (size <= this.end - start) {
        // A cheap hash of length and a few bytes; a collision only costs a miss.
        const slot =
          (size * 7 + b[start]! * 31 + b[last]! * 131 + b[start + (size >>> 1)]! * 1031) &
          (KEY_CACHE_SIZE - 1);
        const cached = keyCache[slot];
        if (cached !== undefined && cached.length === size) {
          let i = 0;
          while (i < size && cached.charCodeAt(i) === b[start + i]) i++;
          if (i === size) {
            this.pos = start + size;
            return cached;
          }
        }
        let bits = 0;
        for (let i = start; i <= last; i++) bits |= b[i]!;
        if (bits < 0x80) {
          this.pos = start + size;
          const key =
            size <= SHORT_STRING ? shortAscii(b, start, size) : this.buf.utf8Slice(start, start + size);
          keyCache[slot] = key;
          return key;
        }
      }
    }
    return this.string();
  }

  /** A pointer: a string of 1 to 255 UTF-16 code units. */
  pointer(): string {
    const at = this.pos;
    const pointer = this.string();
    if (pointer.length === 0 || pointer.length > MAX_POINTER_LENGTH) {
      throw corrupt(`pointer of ${pointer.length} characters`, at);
    }
    return pointer;
  }

  private checkUtf8(start: number, size: number, at: number): void {
    const b = this.bytes;
    if (size <= ASCII_SCAN_LIMIT) {
      let bits = 0;
      for (let i = start; i < start + size; i++) bits |= b[i]!;
      if (bits < 0x80) return;
    }
    if (!isUtf8(b.subarray(start, start + size))) throw corrupt('string is not valid UTF-8', at);
  }

  private utf16(start: number, units: number): string {
    const b = this.bytes;
    const chunk = new Uint16Array(Math.min(units, UTF16_CHUNK));
    let result = '';
    for (let done = 0; done < units; ) {
      const count = Math.min(units - done, UTF16_CHUNK);
      for (let i = 0; i < count; i++) {
        const at = start + (done + i) * 2;
        chunk[i] = b[at]! | (b[at + 1]! << 8);
      }
      result += fromCharCode.apply(null, chunk.subarray(0, count) as unknown as number[]);
      done += count;
    }
    return result;
  }
}
