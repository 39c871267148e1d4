/**
 * The option and value types of the public codec API.
 */
import type { AtomPointer } from '../storage/backend.js';
import type { LazyValue } from './lazy.js';

/** Options of `encodeValue` and `encodeAtom`. */
export interface EncodeOptions {
  /**
   * Called for every object that is not a plain value (array, plain object, Date,
   * Uint8Array): return the pointer under which it is stored, or undefined to reject it.
   */
  readonly reference?: (value: object) => AtomPointer | undefined;
  /**
   * The object space the frame is written for. A `LazyValue` decoded with the same origin is
   * copied as its stored bytes; any other `LazyValue` is encoded from its value.
   */
  readonly origin?: unknown;
  /**
   * Called for each `LazyValue` written as a segment (encoded or copied), with the span of its
   * value in the frame that is returned; `LazyValue.bind` can then record where it is stored.
   */
  readonly segment?: (value: LazyValue, start: number, end: number) => void;
}

/** Options of `decodeValue` and `decodeAtom`. */
export interface DecodeOptions {
  /**
   * Turns a stored pointer back into an in-memory reference. Default: throw CodecError
   * 'invalid-argument' saying a reference hook is needed.
   */
  readonly reference?: (pointer: AtomPointer) => unknown;
  /**
   * When given, segments are not decoded: each becomes a `LazyValue` tagged with this origin,
   * decoded on first use. Without it, segments decode in place like any value.
   */
  readonly origin?: unknown;
  /**
   * False skips the frame's checksum, for bytes a checksum of their own has just verified
   * (a storage backend with `checkedReads`). The header and the whole structure are still
   * validated: malformed bytes still throw `corrupt`, never crash. Default true.
   */
  readonly checksum?: boolean;
}

/** The value types the codec round-trips, for documentation and generics. */
export type PlainValue =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Uint8Array
  | readonly PlainValue[]
  | { readonly [key: string]: PlainValue };
