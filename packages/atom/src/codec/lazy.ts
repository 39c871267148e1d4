/**
 * `LazyValue`: a value that a decoded atom keeps in its encoded form until it is first used.
 *
 * An encoder writes a `LazyValue` as a segment (`TAG_SEGMENT`: a byte count, then the value),
 * so a decoder given an `origin` can step over it without looking inside, and an encoder given
 * the same `origin` can copy the bytes back unchanged instead of encoding the value again.
 * Collection leaves wrap their values this way: loading a leaf decodes only its keys, and
 * rewriting a leaf after one change re-encodes only the changed value.
 */
import { decodeSegment, type PointerHook } from './decoder.js';
import { decodeFailure } from './guard.js';

/** Marks a value that is not decoded yet. */
const PENDING: unique symbol = Symbol('pending');

export class LazyValue {
  /** @internal The decoded value, or `PENDING`. */
  value: unknown;
  /** @internal The frame holding the segment; undefined for a value not stored yet. */
  bytes: Uint8Array | undefined;
  /** @internal Where the segment's value starts and ends in `bytes`. */
  start: number;
  /** @internal */
  end: number;
  /** @internal Turns pointers inside the segment into references when it is decoded. */
  reference: PointerHook | undefined;
  /** @internal The object space the bytes belong to (their pointers are only valid there). */
  origin: unknown;

  /** @internal Use `LazyValue.of` or the decoder. */
  constructor(
    value: unknown,
    bytes: Uint8Array | undefined,
    start: number,
    end: number,
    reference: PointerHook | undefined,
    origin: unknown,
  ) {
    this.value = value;
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.reference = reference;
    this.origin = origin;
  }

  /** Wraps a value to be written as a segment. A `LazyValue` is returned as it is. */
  static of(value: unknown): LazyValue {
    return value instanceof LazyValue ? value : new LazyValue(value, undefined, 0, 0, undefined, undefined);
  }

  /** @internal A segment found by the decoder at `bytes[start..end)`. */
  static stored(
    bytes: Uint8Array,
    start: number,
    end: number,
    reference: PointerHook,
    origin: unknown,
  ): LazyValue {
    return new LazyValue(PENDING, bytes, start, end, reference, origin);
  }

  /**
   * @internal Records that the value was stored at `bytes[start..end)` (a frame written to
   * `origin`), so that writing it there again copies those bytes. The value stays decoded.
   */
  bind(bytes: Uint8Array, start: number, end: number, origin: unknown): void {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.origin = origin;
  }

  /**
   * The value, decoded on the first call. Throws `CodecError` 'corrupt' if the segment's bytes
   * do not hold exactly one value (the frame's checksum passed, so this means a writer bug).
   */
  get(): unknown {
    const value = this.value;
    return value === PENDING ? this.decode() : value;
  }

  /** True when the value was decoded from storage rather than given to `of`. */
  get isStored(): boolean {
    return this.bytes !== undefined;
  }

  /** The size of the stored segment's value in bytes; `undefined` before it is stored. */
  get storedBytes(): number | undefined {
    return this.bytes === undefined ? undefined : this.end - this.start;
  }

  /**
   * True when `other` is this value or both are stored segments of the same bytes: the same
   * value, whichever frame (or decoding of a frame) holds it. Never decodes; `false` when
   * either is not stored (compare the values themselves then).
   */
  sameStored(other: LazyValue): boolean {
    if (other === this) return true;
    const a = this.bytes;
    const b = other.bytes;
    if (a === undefined || b === undefined) return false;
    const n = this.end - this.start;
    if (n !== other.end - other.start) return false;
    if (a === b && this.start === other.start) return true;
    for (let i = 0; i < n; i++) if (a[this.start + i] !== b[other.start + i]) return false;
    return true;
  }

  /** @internal True when the stored bytes may be copied into a frame of `origin`. */
  storedIn(origin: unknown): boolean {
    return this.bytes !== undefined && origin !== undefined && origin === this.origin;
  }

  private decode(): unknown {
    let value: unknown;
    try {
      value = decodeSegment(this.bytes as Uint8Array, this.start, this.end, this.reference as PointerHook);
    } catch (error) {
      throw decodeFailure(error);
    }
    this.value = value;
    return value;
  }
}
