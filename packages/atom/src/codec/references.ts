/**
 * Pointer-level access to frames for storage backends: listing the pointers a frame holds
 * (liveness tracing) and rewriting them (compaction), without decoding values.
 */
import type { AtomPointer } from '../storage/backend.js';
import { corrupt, invalidArgument } from './failures.js';
import { expectEnd, openFrame, sealFrame } from './frame.js';
import { decodeFailure } from './guard.js';
import type { Reader } from './reader.js';
import type { PointerVisitor, SegmentVisitor } from './scan.js';
import { scanBody } from './scan.js';
import { HEADER_SIZE, KIND_ATOM, MAX_POINTER_LENGTH, TAG_POINTER } from './tags.js';
import { ByteWriter } from './writer.js';

/** Verifies a whole frame (value or atom), visiting its pointers and segments; returns its kind. */
function scanFrame(bytes: Uint8Array, visit: PointerVisitor, segment?: SegmentVisitor): number {
  try {
    const { kind, reader } = openFrame(bytes);
    if (kind === KIND_ATOM) skipTypeName(reader);
    scanBody(reader, visit, segment);
    expectEnd(reader);
    return kind;
  } catch (error) {
    throw decodeFailure(error);
  }
}

function skipTypeName(reader: Reader): void {
  const at = reader.pos;
  reader.skipString();
  if (reader.pos === at + 1) throw corrupt('empty atom type name', at);
}

/**
 * The pointers an atom (or value) frame refers to, in encounter order, duplicates kept,
 * without building the decoded objects. Validates the frame (checksum, structure) and throws
 * `CodecError` 'corrupt' otherwise. Storage backends use it to trace what is live.
 */
export function atomReferences(bytes: Uint8Array): AtomPointer[] {
  const pointers: AtomPointer[] = [];
  scanFrame(bytes, (pointer) => {
    pointers.push(pointer);
  });
  return pointers;
}

/**
 * A new frame identical to `bytes` but with every pointer p replaced by replace(p) (checksum
 * recomputed). Used by offline compaction. Validates `bytes` like `atomReferences`; a
 * replacement that is not a valid pointer is 'invalid-argument'.
 *
 * @example
 * const moved = rewriteReferences(bytes, (pointer) => relocation.get(pointer) ?? pointer);
 */
export function rewriteReferences(
  bytes: Uint8Array,
  replace: (pointer: AtomPointer) => AtomPointer,
): Uint8Array {
  if (typeof replace !== 'function') throw invalidArgument('replace must be a function');
  // Pointer spans and segment spans, in frame order (segments do not nest, and come before the
  // pointers inside them): a rewritten pointer may change length, so segment lengths are redone.
  const pointers: { pointer: AtomPointer; start: number; end: number }[] = [];
  const segments: { lengthAt: number; end: number; firstPointer: number }[] = [];
  const kind = scanFrame(
    bytes,
    (pointer, start, end) => {
      pointers.push({ pointer, start, end });
    },
    (lengthAt, _start, end) => {
      segments.push({ lengthAt, end, firstPointer: pointers.length });
    },
  );
  const out = new ByteWriter(bytes.length + 16);
  out.pos = HEADER_SIZE;
  let copied = HEADER_SIZE;
  const copyTo = (at: number) => {
    out.raw(bytes.subarray(copied, at));
    copied = at;
  };
  let next = 0;
  const rewriteUpTo = (limit: number) => {
    for (; next < limit; next++) {
      const { pointer, start, end } = pointers[next]!;
      const replaced = replace(pointer);
      if (typeof replaced !== 'string' || replaced.length === 0 || replaced.length > MAX_POINTER_LENGTH) {
        throw invalidArgument(
          `replace returned ${JSON.stringify(replaced)} for the pointer ${JSON.stringify(pointer)}; ` +
            `pointers are non-empty strings of at most ${MAX_POINTER_LENGTH} characters`,
        );
      }
      copyTo(start);
      out.byte(TAG_POINTER);
      out.string(replaced);
      copied = end;
    }
  };
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const inside = i + 1 < segments.length ? segments[i + 1]!.firstPointer : pointers.length;
    rewriteUpTo(segment.firstPointer);
    copyTo(segment.lengthAt + 4);
    const lengthAt = out.pos - 4;
    // Only pointers before the segment's end are inside it.
    let last = inside;
    while (last > next && pointers[last - 1]!.start >= segment.end) last--;
    rewriteUpTo(last);
    copyTo(segment.end);
    out.buf.writeUInt32LE(out.pos - lengthAt - 4, lengthAt);
  }
  rewriteUpTo(pointers.length);
  copyTo(bytes.length);
  return sealFrame(out, kind);
}
