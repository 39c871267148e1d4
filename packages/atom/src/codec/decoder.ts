/**
 * The value decoder: rebuilds a value from a frame body with an explicit stack, validating
 * structure as it goes (tags, counts against remaining bytes, nesting depth).
 */
import { sparseArray } from '../arrays.js';
import type { AtomPointer } from '../storage/backend.js';
import { corrupt } from './failures.js';
import { Reader } from './reader.js';
import {
  MAX_ARRAY_LENGTH,
  MAX_DEPTH,
  TAG_ARRAY,
  TAG_BIGINT_NEG,
  TAG_BIGINT_POS,
  TAG_BYTES,
  TAG_DATE,
  TAG_FALSE,
  TAG_FLOAT,
  TAG_HOLES,
  TAG_NINT,
  TAG_NULL,
  TAG_OBJECT,
  TAG_POINTER,
  TAG_SEGMENT,
  TAG_SMALL_INT,
  TAG_STRING,
  TAG_TRUE,
  TAG_UINT,
  TAG_UNDEFINED,
} from './tags.js';

/** Wraps an error thrown by the caller's reference hook so it passes through unchanged. */
export class HookFailure {
  constructor(readonly error: unknown) {}
}

/** The reference hook of `DecodeOptions`. */
export type PointerHook = (pointer: AtomPointer) => unknown;

type Container = unknown[] | Record<string, unknown>;

/**
 * The key slot of an array frame that switched to sparse construction (see `SPARSE_HOLES`):
 * its items are assigned by index instead of pushed.
 */
const SPARSE = 1;

/**
 * Holes an array may take in its fast form. V8 backs a holey array of up to 1024 slots with
 * storage for every slot (and resizing `length` allocates up to ~32M slots), so a few bytes
 * declaring a run of holes could make the decoder allocate without bound. Past this many holes
 * the array is rebuilt in V8's dictionary form, whose memory follows the elements present:
 * decoding costs memory in proportion to the input, whatever length it declares.
 */
const SPARSE_HOLES = 16;

/**
 * Called for a segment at `[start, end)` of the reader's bytes when segments are kept encoded;
 * returns what stands for the value (a `LazyValue`).
 */
export type SegmentHook = (start: number, end: number) => unknown;

/**
 * Decodes one value at the reader's position; the reader ends just after it. Segments go to
 * `segment` when given, else are decoded in place; `inSegment` rejects nested segments.
 */
export function decodeBody(
  reader: Reader,
  reference: PointerHook,
  segment: SegmentHook | null,
  inSegment = false,
): unknown {
  // The stack, as parallel arrays: the container, the items it still expects, for objects the
  // key whose value is being read (null for arrays, SPARSE for sparse ones), and for arrays
  // the declared length and the holes taken so far.
  const containers: Container[] = [];
  const remaining: number[] = [];
  const keys: (string | null | typeof SPARSE)[] = [];
  const lengths: number[] = [];
  const holes: number[] = [];
  let depth = 0;
  for (;;) {
    if (depth > 0 && typeof keys[depth - 1] === 'string') keys[depth - 1] = reader.key();
    const at = reader.pos;
    const tag = reader.byte();
    let value: unknown;
    if (tag >= TAG_SMALL_INT) {
      value = tag - TAG_SMALL_INT;
    } else {
      switch (tag) {
        case TAG_STRING:
          value = reader.string();
          break;
        case TAG_UNDEFINED:
          value = undefined;
          break;
        case TAG_NULL:
          value = null;
          break;
        case TAG_FALSE:
          value = false;
          break;
        case TAG_TRUE:
          value = true;
          break;
        case TAG_UINT:
          value = reader.varint();
          break;
        case TAG_NINT: {
          const magnitude = reader.varint();
          if (magnitude === 0) throw corrupt('negative integer of magnitude 0', at);
          value = -magnitude;
          break;
        }
        case TAG_FLOAT:
          value = reader.float64();
          break;
        case TAG_BIGINT_POS:
        case TAG_BIGINT_NEG:
          value = reader.bigint(tag === TAG_BIGINT_NEG);
          break;
        case TAG_DATE:
          value = new Date(reader.time());
          break;
        case TAG_BYTES:
          value = reader.byteString();
          break;
        case TAG_ARRAY: {
          const length = reader.varint();
          if (length > MAX_ARRAY_LENGTH) throw corrupt(`array length ${length}`, at);
          if (length === 0) {
            value = [];
            break;
          }
          if (depth >= MAX_DEPTH) throw corrupt(`nesting deeper than ${MAX_DEPTH}`, at);
          // The leading items that need no stack (strings, small integers, pointers, segments:
          // a leaf's keys and values, a branch's children) are read in a tight loop; the
          // first other item hands the rest of the array to the general loop below.
          const array: unknown[] = [];
          const done = leadingItems(reader, array, length, reference, segment, inSegment);
          if (done === length) {
            value = array;
            break;
          }
          containers[depth] = array;
          remaining[depth] = length - done;
          keys[depth] = null;
          lengths[depth] = length;
          holes[depth] = 0;
          depth++;
          continue;
        }
        case TAG_OBJECT: {
          const count = reader.varint();
          // Each entry takes at least two bytes (key header, value tag).
          if (count > (reader.end - reader.pos) / 2) throw corrupt(`object of ${count} entries`, at);
          if (count === 0) {
            value = {};
            break;
          }
          if (depth >= MAX_DEPTH) throw corrupt(`nesting deeper than ${MAX_DEPTH}`, at);
          containers[depth] = {};
          remaining[depth] = count;
          keys[depth] = '';
          depth++;
          continue;
        }
        case TAG_HOLES: {
          const count = reader.varint();
          const top = depth - 1;
          if (top < 0 || typeof keys[top] === 'string') throw corrupt('holes outside an array', at);
          const left = remaining[top]!;
          if (count === 0 || count > left) throw corrupt(`run of ${count} holes`, at);
          let array = containers[top] as unknown[];
          const taken = holes[top]! + count;
          holes[top] = taken;
          if (keys[top] === null && taken > SPARSE_HOLES) {
            // Rebuild in the sparse form, keeping the holes taken so far.
            const sparse = sparseArray(lengths[top]!);
            for (let i = 0; i < array.length; i++) if (i in array) sparse[i] = array[i];
            containers[top] = array = sparse;
            keys[top] = SPARSE;
          }
          if (keys[top] === null) array.length += count;
          if (count < left) {
            remaining[top] = left - count;
            continue;
          }
          // The run ends the array: it is the value just completed.
          value = array;
          depth = top;
          break;
        }
        case TAG_POINTER:
          value = pointerValue(reader, reference);
          break;
        case TAG_SEGMENT:
          if (inSegment) throw corrupt('segment inside a segment', at);
          value = segmentValue(reader, reference, segment);
          break;
        default:
          throw corrupt(`unknown tag 0x${tag.toString(16).padStart(2, '0')}`, at);
      }
    }
    // Attach the value to its container; completed containers attach to theirs in turn.
    for (;;) {
      if (depth === 0) return value;
      const top = depth - 1;
      const container = containers[top]!;
      const key = keys[top]!;
      if (key === null) {
        (container as unknown[]).push(value);
      } else if (key === SPARSE) {
        (container as unknown[])[lengths[top]! - remaining[top]!] = value;
      } else if (key === '__proto__') {
        // Assignment would replace the prototype; an own data property is what was stored.
        Object.defineProperty(container, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        (container as Record<string, unknown>)[key] = value;
      }
      const left = remaining[top]! - 1;
      if (left > 0) {
        remaining[top] = left;
        break;
      }
      value = container;
      depth = top;
    }
  }
}

/**
 * Reads items of an array of `length` into `array` while they are strings, small integers,
 * pointers or (outside a segment) segments, and returns how many it read. Stops before any
 * other item (or a malformed one) and leaves it to `decodeBody`, which validates it.
 */
function leadingItems(
  reader: Reader,
  array: unknown[],
  length: number,
  reference: PointerHook,
  segment: SegmentHook | null,
  inSegment: boolean,
): number {
  const bytes = reader.bytes;
  let done = 0;
  while (done < length && reader.pos < reader.end) {
    const tag = bytes[reader.pos]!;
    if (tag >= TAG_SMALL_INT) {
      reader.pos++;
      array.push(tag - TAG_SMALL_INT);
    } else if (tag === TAG_STRING) {
      reader.pos++;
      array.push(reader.string());
    } else if (tag === TAG_POINTER) {
      reader.pos++;
      array.push(pointerValue(reader, reference));
    } else if (tag === TAG_SEGMENT && !inSegment) {
      reader.pos++;
      array.push(segmentValue(reader, reference, segment));
    } else break;
    done++;
  }
  return done;
}

/** The pointer after a `TAG_POINTER` at the reader's position, through the reference hook. */
function pointerValue(reader: Reader, reference: PointerHook): unknown {
  const pointer = reader.pointer();
  try {
    return reference(pointer);
  } catch (error) {
    throw new HookFailure(error);
  }
}

/**
 * The segment after a `TAG_SEGMENT` at the reader's position: what `segment` makes of its span
 * when given, else its value decoded in place. The reader ends just after it.
 */
function segmentValue(reader: Reader, reference: PointerHook, segment: SegmentHook | null): unknown {
  const size = reader.uint32();
  reader.need(size);
  const start = reader.pos;
  const end = start + size;
  const value = segment !== null ? segment(start, end) : decodeSegment(reader.bytes, start, end, reference);
  reader.pos = end;
  return value;
}

/** Decodes the value of the segment `bytes[start..end)`, which must hold exactly one value. */
export function decodeSegment(
  bytes: Uint8Array,
  start: number,
  end: number,
  reference: PointerHook,
): unknown {
  const reader = new Reader(bytes, start, end);
  const value = decodeBody(reader, reference, null, true);
  if (reader.pos !== end)
    throw corrupt(`${end - reader.pos} bytes left in a segment after its value`, reader.pos);
  return value;
}
