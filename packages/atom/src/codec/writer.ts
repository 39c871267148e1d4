/**
 * The growable output buffer of an encode: one Node Buffer that doubles when full, with the
 * primitive writes (varints, float64, strings, bigints, raw bytes) the encoder is built from.
 */
import { Buffer, constants } from 'node:buffer';
import { tooLarge } from './failures.js';
import { TAG_BIGINT_NEG, TAG_BIGINT_POS, TAG_FLOAT, TAG_NINT, TAG_SMALL_INT, TAG_UINT } from './tags.js';

/**
 * Node's `Buffer` where the program reading these types has Node's types, plain `Uint8Array`
 * where it has not. The codec's buffers are internal, but their type reaches the published
 * `.d.ts` files through the decoder's; importing it from Node's buffer module there would make
 * every consumer install `@types/node`. Inside this package, built with Node's types, it is
 * exactly `Buffer`.
 */
type NodeBuffer = typeof globalThis extends { Buffer: { allocUnsafeSlow(size: number): infer B } }
  ? B
  : Uint8Array;

/**
 * Node's fast string paths. `utf8Write`/`utf8Slice` are the methods `buffer.write` and
 * `buffer.toString` dispatch to; calling them directly skips the argument juggling.
 */
export type FastBuffer = NodeBuffer & {
  utf8Write(value: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
};

interface WellFormedString {
  isWellFormed(): boolean;
}

/** True when `value` has no lone surrogates, i.e. UTF-8 can carry it without loss. */
export function isWellFormed(value: string): boolean {
  return (value as unknown as WellFormedString).isWellFormed();
}

/** The number of bytes `varint(value)` writes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(value / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** Strings up to this many UTF-16 units try the byte-per-char loop before `utf8Write`. */
const ASCII_LOOP_LIMIT = 63;
/** Strings longer than this are measured first instead of reserving 3 bytes per unit. */
const MEASURE_LIMIT = 4096;

/** Allocates a buffer outside Node's shared pool, so it can be kept and reused. */
function allocate(size: number): FastBuffer {
  return Buffer.allocUnsafeSlow(size) as FastBuffer;
}

/** An append-only byte buffer. `pos` is the number of bytes written so far. */
export class ByteWriter {
  buf: FastBuffer;
  pos = 0;

  constructor(capacity: number) {
    this.buf = allocate(capacity);
  }

  /** Makes room for `count` more bytes. */
  ensure(count: number): void {
    if (this.pos + count > this.buf.length) this.grow(count);
  }

  private grow(count: number): void {
    const needed = this.pos + count;
    if (needed > constants.MAX_LENGTH) {
      throw tooLarge(
        `encoded value needs ${needed} bytes, more than the ${constants.MAX_LENGTH} a buffer can hold`,
      );
    }
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = allocate(Math.min(capacity, constants.MAX_LENGTH));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(value: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = value;
  }

  /** Two bytes at once: a tag and a one-byte operand. */
  byte2(first: number, second: number): void {
    this.ensure(2);
    const buf = this.buf;
    buf[this.pos] = first;
    buf[this.pos + 1] = second;
    this.pos += 2;
  }

  /** A number: a small-int tag, a varint for other safe integers, float64 for the rest (-0 included). */
  number(value: number): void {
    if ((value | 0) === value) {
      if (value >= 0) {
        if (value < 0x80) {
          if (value === 0 && 1 / value < 0) {
            this.byte(TAG_FLOAT);
            this.float64(value);
          } else {
            this.byte(TAG_SMALL_INT + value);
          }
          return;
        }
        this.byte(TAG_UINT);
        this.varint(value);
        return;
      }
      this.byte(TAG_NINT);
      this.varint(-value);
      return;
    }
    if (Number.isSafeInteger(value)) {
      this.byte(value > 0 ? TAG_UINT : TAG_NINT);
      this.varint(Math.abs(value));
      return;
    }
    this.byte(TAG_FLOAT);
    this.float64(value);
  }

  /** An unsigned LEB128 integer; `value` is a non-negative integer <= 2^53 - 1. */
  varint(value: number): void {
    this.ensure(8);
    this.pos = this.varintAt(value, this.pos);
  }

  /** Writes a varint at `at` (capacity already ensured) and returns the offset after it. */
  private varintAt(value: number, at: number): number {
    const buf = this.buf;
    while (value > 0x7fffffff) {
      buf[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    while (value > 0x7f) {
      buf[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[at++] = value;
    return at;
  }

  float64(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A varint byte count, then the bytes. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  /** A uint32 LE. */
  uint32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value, this.pos);
    this.pos += 4;
  }

  /** `source[start..end)` as it is, no length. */
  copy(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    this.ensure(count);
    const buf = this.buf;
    let at = this.pos;
    if (count <= 64) {
      // Short runs: a loop beats creating a view for `set`.
      for (let i = start; i < end; i++) buf[at++] = source[i]!;
    } else {
      buf.set(source.subarray(start, end), at);
    }
    this.pos += count;
  }

  /** The bytes as they are, no length. */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A bigint: sign tag, varint magnitude byte count, magnitude big-endian (none for zero). */
  bigint(value: bigint): void {
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    if (magnitude === 0n) {
      this.byte2(TAG_BIGINT_POS, 0);
      return;
    }
    let hex = magnitude.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    const size = hex.length / 2;
    this.byte(negative ? TAG_BIGINT_NEG : TAG_BIGINT_POS);
    this.varint(size);
    this.ensure(size);
    this.buf.write(hex, this.pos, size, 'hex');
    this.pos += size;
  }

  /**
   * A string: a varint header `byteLength * 2 + form`, then the bytes. Form 0 is UTF-8 (every
   * well-formed string); form 1 is UTF-16LE code units, used only for strings with lone
   * surrogates, which UTF-8 cannot carry. A `tag` >= 0 is written first.
   */
  string(value: string, tag = -1): void {
    const length = value.length;
    if (length <= ASCII_LOOP_LIMIT) {
      // Header 2 * length <= 126 fits one byte.
      this.ensure(length + 2);
      const buf = this.buf;
      let start = this.pos;
      if (tag >= 0) buf[start++] = tag;
      let at = start + 1;
      let i = 0;
      for (; i < length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) break;
        buf[at++] = unit;
      }
      if (i === length) {
        buf[start] = length * 2;
        this.pos = at;
        return;
      }
    }
    if (tag >= 0) this.byte(tag);
    if (!isWellFormed(value)) {
      this.utf16(value);
      return;
    }
    const reserved = length > MEASURE_LIMIT ? Buffer.byteLength(value, 'utf8') : length * 3;
    const headerRoom = varintSize(reserved * 2);
    this.ensure(headerRoom + reserved);
    const body = this.pos + headerRoom;
    const written = this.buf.utf8Write(value, body, reserved);
    const headerSize = varintSize(written * 2);
    if (headerSize !== headerRoom) this.buf.copyWithin(this.pos + headerSize, body, body + written);
    this.pos = this.varintAt(written * 2, this.pos) + written;
  }

  private utf16(value: string): void {
    const length = value.length;
    this.varint(length * 4 + 1);
    this.ensure(length * 2);
    const buf = this.buf;
    let at = this.pos;
    for (let i = 0; i < length; i++) {
      const unit = value.charCodeAt(i);
      buf[at++] = unit & 0xff;
      buf[at++] = unit >>> 8;
    }
    this.pos = at;
  }
}
