/**
 * Walks a frame body without building values: validates it exactly as the decoder does and
 * reports each pointer with its byte span. The basis of `atomReferences` and
 * `rewriteReferences`.
 */
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

/** Receives a pointer and the span `[start, end)` of its encoding (tag included). */
export type PointerVisitor = (pointer: string, start: number, end: number) => void;

/** Receives a segment: where its length field is, and the span `[start, end)` of its value. */
export type SegmentVisitor = (lengthAt: number, start: number, end: number) => void;

/**
 * Validates one value at the reader's position, calling `visit` for each pointer in order and
 * `segment` for each segment before the pointers inside it.
 */
export function scanBody(
  reader: Reader,
  visit: PointerVisitor,
  segment?: SegmentVisitor,
  inSegment = false,
): void {
  // Per open container: the items it still expects, and whether it is an object.
  const remaining: number[] = [];
  const isObject: boolean[] = [];
  let depth = 0;
  for (;;) {
    if (depth > 0 && isObject[depth - 1]) reader.skipString();
    const at = reader.pos;
    const tag = reader.byte();
    if (tag < TAG_SMALL_INT) {
      switch (tag) {
        case TAG_UNDEFINED:
        case TAG_NULL:
        case TAG_FALSE:
        case TAG_TRUE:
          break;
        case TAG_UINT:
          reader.varint();
          break;
        case TAG_NINT:
          if (reader.varint() === 0) throw corrupt('negative integer of magnitude 0', at);
          break;
        case TAG_FLOAT:
          reader.need(8);
          reader.pos += 8;
          break;
        case TAG_BIGINT_POS:
        case TAG_BIGINT_NEG:
          reader.magnitude(tag === TAG_BIGINT_NEG);
          break;
        case TAG_STRING:
          reader.skipString();
          break;
        case TAG_DATE:
          reader.time();
          break;
        case TAG_BYTES:
          reader.skipByteString();
          break;
        case TAG_ARRAY:
        case TAG_OBJECT: {
          const count = reader.varint();
          if (tag === TAG_ARRAY ? count > MAX_ARRAY_LENGTH : count > (reader.end - reader.pos) / 2) {
            throw corrupt(`${tag === TAG_ARRAY ? 'array length' : 'object entry count'} ${count}`, at);
          }
          if (count === 0) break;
          if (depth >= MAX_DEPTH) throw corrupt(`nesting deeper than ${MAX_DEPTH}`, at);
          remaining[depth] = count;
          isObject[depth] = tag === TAG_OBJECT;
          depth++;
          continue;
        }
        case TAG_HOLES: {
          const count = reader.varint();
          const top = depth - 1;
          if (top < 0 || isObject[top]) throw corrupt('holes outside an array', at);
          const left = remaining[top]!;
          if (count === 0 || count > left) throw corrupt(`run of ${count} holes`, at);
          // Counts as one item below, so take one fewer here.
          remaining[top] = left - count + 1;
          break;
        }
        case TAG_POINTER: {
          const pointer = reader.pointer();
          visit(pointer, at, reader.pos);
          break;
        }
        case TAG_SEGMENT: {
          if (inSegment) throw corrupt('segment inside a segment', at);
          const lengthAt = reader.pos;
          const size = reader.uint32();
          reader.need(size);
          const start = reader.pos;
          const end = start + size;
          segment?.(lengthAt, start, end);
          const inner = new Reader(reader.bytes, start, end);
          scanBody(inner, visit, undefined, true);
          if (inner.pos !== end) throw corrupt('segment longer than its value', inner.pos);
          reader.pos = end;
          break;
        }
        default:
          throw corrupt(`unknown tag 0x${tag.toString(16).padStart(2, '0')}`, at);
      }
    }
    // One item done; close every container it completes.
    for (;;) {
      if (depth === 0) return;
      const left = remaining[depth - 1]! - 1;
      if (left > 0) {
        remaining[depth - 1] = left;
        break;
      }
      depth--;
    }
  }
}
