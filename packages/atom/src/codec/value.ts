/**
 * Encoding and decoding of value frames and atom frames.
 */
import type { AtomPointer } from '../storage/backend.js';
import { decodeBody, type SegmentHook } from './decoder.js';
import { Encoder } from './encoder.js';
import { corrupt, invalidArgument } from './failures.js';
import { expectEnd, openFrame, sealFrame } from './frame.js';
import { decodeFailure } from './guard.js';
import { LazyValue } from './lazy.js';
import { KIND_ATOM, KIND_VALUE } from './tags.js';
import type { DecodeOptions, EncodeOptions } from './types.js';

/** One encoder is kept between calls; a nested call (from a reference hook) makes its own. */
let spare: Encoder | undefined;

function encodeFrame(
  kind: number,
  typeName: string | undefined,
  value: unknown,
  options?: EncodeOptions,
): Uint8Array {
  const reference = options?.reference;
  if (reference !== undefined && typeof reference !== 'function') {
    throw invalidArgument('options.reference must be a function');
  }
  const encoder = spare ?? new Encoder();
  spare = undefined;
  try {
    const segment = options?.segment;
    if (segment !== undefined && typeof segment !== 'function') {
      throw invalidArgument('options.segment must be a function');
    }
    encoder.begin(reference, options?.origin, segment);
    if (typeName !== undefined) encoder.out.string(typeName);
    encoder.value(value);
    return sealFrame(encoder.out, kind);
  } finally {
    if (encoder.end()) spare = encoder;
  }
}

function missingReference(pointer: AtomPointer): never {
  throw invalidArgument(
    `the value refers to the atom ${JSON.stringify(pointer)}; pass options.reference to decode references`,
    { pointer },
  );
}

function pointerHook(options: DecodeOptions | undefined): (pointer: AtomPointer) => unknown {
  const reference = options?.reference;
  if (reference === undefined) return missingReference;
  if (typeof reference !== 'function') throw invalidArgument('options.reference must be a function');
  return reference;
}

/** With an origin, segments become `LazyValue`s over the frame's bytes. */
function segmentHook(
  bytes: Uint8Array,
  reference: (pointer: AtomPointer) => unknown,
  options: DecodeOptions | undefined,
): SegmentHook | null {
  const origin = options?.origin;
  if (origin === undefined) return null;
  return (start, end) => LazyValue.stored(bytes, start, end, reference, origin);
}

/**
 * Encodes a value as a self-checking frame. Arrays, plain objects, Dates and Uint8Arrays are
 * stored inline; any other object goes through `options.reference`.
 *
 * Throws `CodecError` 'invalid-argument' for what cannot be stored (functions, symbols,
 * symbol-keyed properties, cycles, objects the hook rejects) and 'too-large' for nesting
 * deeper than 100,000 levels. Named (non-index) properties of an array are not stored; they
 * are rejected when noticed, which is when the array has holes.
 *
 * @example
 * const bytes = encodeValue({ name: 'Ada', born: new Date('1815-12-10') });
 * decodeValue(bytes); // { name: 'Ada', born: Date }
 */
export function encodeValue(value: unknown, options?: EncodeOptions): Uint8Array {
  return encodeFrame(KIND_VALUE, undefined, value, options);
}

/**
 * Decodes a frame made by `encodeValue`. Throws `CodecError` 'corrupt' if any byte was changed,
 * cut off or appended, and 'invalid-argument' for an atom frame (use `decodeAtom`) or a pointer
 * without `options.reference`. Errors thrown by the hook pass through unchanged.
 */
export function decodeValue(bytes: Uint8Array, options?: DecodeOptions): unknown {
  const reference = pointerHook(options);
  try {
    const { kind, reader } = openFrame(bytes, options?.checksum !== false);
    if (kind !== KIND_VALUE) throw invalidArgument('the frame holds an atom; decode it with decodeAtom');
    const value = decodeBody(reader, reference, segmentHook(bytes, reference, options));
    expectEnd(reader);
    return value;
  } catch (error) {
    throw decodeFailure(error);
  }
}

/**
 * Encodes an atom record: a registered type name + its payload value, in one frame.
 *
 * @example
 * const bytes = encodeAtom('btree-leaf', { keys: ['a'], values: [1] });
 * decodeAtom(bytes); // { typeName: 'btree-leaf', payload: { keys: ['a'], values: [1] } }
 */
export function encodeAtom(typeName: string, payload: unknown, options?: EncodeOptions): Uint8Array {
  if (typeof typeName !== 'string' || typeName.length === 0) {
    throw invalidArgument(`an atom type name must be a non-empty string, got ${JSON.stringify(typeName)}`);
  }
  return encodeFrame(KIND_ATOM, typeName, payload, options);
}

/** Decodes a frame made by `encodeAtom`; fails like `decodeValue` (a value frame is 'invalid-argument'). */
export function decodeAtom(
  bytes: Uint8Array,
  options?: DecodeOptions,
): { typeName: string; payload: unknown } {
  const reference = pointerHook(options);
  try {
    const { kind, reader } = openFrame(bytes, options?.checksum !== false);
    if (kind !== KIND_ATOM)
      throw invalidArgument('the frame holds a plain value; decode it with decodeValue');
    const at = reader.pos;
    const typeName = reader.string();
    if (typeName.length === 0) throw corrupt('empty atom type name', at);
    const payload = decodeBody(reader, reference, segmentHook(bytes, reference, options));
    expectEnd(reader);
    return { typeName, payload };
  } catch (error) {
    throw decodeFailure(error);
  }
}
