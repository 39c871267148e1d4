/**
 * Pointer-level access to frames for storage backends: listing the pointers a frame holds
 * (liveness tracing) and rewriting them (compaction), without decoding values.
 */
import type { AtomPointer } from '../storage/backend.js';
import { corrupt, invalidArgument } from './failures.js';
import { expectEnd, openFrame, sealFrame } from './frame.js';
import { decodeFailure } from './guard.js';
import type { Reader } from './reader.js';
import type { PointerVisitor } from './scan.js';
import { scanBody } from './scan.js';
import { HEADER_SIZE, KIND_ATOM, MAX_POINTER_LENGTH, TAG_POINTER } from './tags.js';
import { ByteWriter } from './writer.js';

/** Verifies a whole frame (value or atom), visiting its pointers; returns its kind. */
function scanFrame(bytes: Uint8Array, visit: PointerVisitor): number {
  try {
    const { kind, reader } = openFrame(bytes);
    if (kind === KIND_ATOM) skipTypeName(reader);
    scanBody(reader, visit);
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
  const spans: number[] = [];
  const pointers: AtomPointer[] = [];
  const kind = scanFrame(bytes, (pointer, start, end) => {
    pointers.push(pointer);
    spans.push(start, end);
  });
  const out = new ByteWriter(bytes.length + 16);
  out.pos = HEADER_SIZE;
  let copied = HEADER_SIZE;
  for (let i = 0; i < pointers.length; i++) {
    const pointer = pointers[i]!;
    const next = replace(pointer);
    if (typeof next !== 'string' || next.length === 0 || next.length > MAX_POINTER_LENGTH) {
      throw invalidArgument(
        `replace returned ${JSON.stringify(next)} for the pointer ${JSON.stringify(pointer)}; ` +
          `pointers are non-empty strings of at most ${MAX_POINTER_LENGTH} characters`,
      );
    }
    out.raw(bytes.subarray(copied, spans[2 * i]));
    out.byte(TAG_POINTER);
    out.string(next);
    copied = spans[2 * i + 1]!;
  }
  out.raw(bytes.subarray(copied));
  return sealFrame(out, kind);
}
