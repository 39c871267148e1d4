/**
 * Issue 9, finding 3: decoding costs memory and time bounded by a small multiple of the input,
 * whatever sizes the frame declares. Frames are built from the codec's own tags with declared
 * sizes drawn from the values that hurt (hole runs and array lengths near V8's thresholds, huge
 * counts, bigint sizes above V8's limit) behind a valid checksum, so they reach the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atomReferences, decodeValue } from '../src/codec.js';
import { isProtoError } from '../src/errors.js';
import { frame, T, varint } from './frames.js';

/** Heap a decode may add while its result is held: this plus `BYTES_FACTOR` per input byte. */
const BASE_BUDGET = 1 << 20;
const BYTES_FACTOR = 256;
/** Wall time a decode of at most a few KiB may take, with room for a loaded machine. */
const TIME_BUDGET_MS = 1000;

function uint32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/** Sizes around the thresholds of V8's arrays (1024 slots, ~32M slots) and of the format. */
const size = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(1023, 1024, 1025, 65_535, 2 ** 20, 2 ** 25 - 1, 2 ** 25, 3e7, 2 ** 27 + 1),
  fc.constantFrom(2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.integer({ min: 0, max: 2 ** 32 }),
);

/** One token of a body: a tag with a declared size, or a small complete value. */
const token: fc.Arbitrary<readonly number[]> = fc.oneof(
  size.map((n) => [T.array, ...varint(n)]),
  size.map((n) => [T.holes, ...varint(n)]),
  size.map((n) => [T.object, ...varint(n)]),
  size.map((n) => [T.string, ...varint(n)]),
  size.map((n) => [T.bytes, ...varint(n)]),
  size.map((n) => [T.bigint, ...varint(n), 1]),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => [T.segment, ...uint32(n)]),
  size.map((n) => [T.pointer, ...varint(n), 0x61]),
  fc.constantFrom([T.null], [T.int(0)], [T.int(7)], [0x01, 0x61]),
);

const body = fc.array(token, { minLength: 1, maxLength: 48 }).map((tokens) => tokens.flat());

/** Pointers decode to a marker object (without a hook, a pointer is `invalid-argument`). */
const toRef = { reference: (pointer: string) => ({ pointer }) };

/** 'ok' or the reason of the ProtoError; anything else fails the test with its message. */
function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (isProtoError(error)) return error.reason;
    throw error;
  }
}

/** Decodes `bytes`, holding the result, and checks the heap and time it took. */
function decodeWithinBudget(bytes: Uint8Array): string {
  let held: unknown;
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const result = outcome(() => {
    held = decodeValue(bytes, toRef);
  });
  const elapsed = performance.now() - started;
  const grown = process.memoryUsage().heapUsed - heapBefore;
  const budget = BASE_BUDGET + BYTES_FACTOR * bytes.byteLength;
  expect(grown, `heap grown decoding ${bytes.byteLength} bytes (${result})`).toBeLessThanOrEqual(budget);
  expect(elapsed, `ms decoding ${bytes.byteLength} bytes (${result})`).toBeLessThanOrEqual(TIME_BUDGET_MS);
  expect(held === undefined || result === 'ok').toBe(true);
  return result;
}

describe('atom: codec decoding budget', () => {
  it('decodes or rejects any frame within a heap and time budget proportional to its size', () => {
    fc.assert(
      fc.property(body, (tokens) => {
        const bytes = frame(tokens);
        const decoded = decodeWithinBudget(bytes);
        expect(['ok', 'corrupt']).toContain(decoded);
        // The scanner backends trace references with agrees on what is valid.
        expect(outcome(() => atomReferences(bytes))).toBe(decoded);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes a frame of many arrays declaring huge hole runs within the budget', () => {
    // 64 arrays of 2^25 - 1 slots (just under V8's largest fast array), each a run of holes and
    // one element: about 650 bytes.
    const length = 2 ** 25 - 1;
    const inner = [T.array, ...varint(length), T.holes, ...varint(length - 1), T.int(0)];
    const bytes = frame([T.array, ...varint(64), ...Array.from({ length: 64 }, () => inner).flat()]);
    expect(decodeWithinBudget(bytes)).toBe('ok');
    const decoded = decodeValue(bytes, toRef) as unknown[][];
    expect(decoded).toHaveLength(64);
    for (const array of decoded) {
      expect(array).toHaveLength(length);
      expect(Object.keys(array)).toEqual([String(length - 1)]);
    }
  });

  it('rejects a bigint above the largest JavaScript bigint the same way in the scanner and the decoder', () => {
    // A frame that really holds 2^27 + 1 magnitude bytes (V8's bigints stop at 2^30 bits).
    const magnitude = 2 ** 27 + 1;
    const head = [T.bigint, ...varint(magnitude)];
    const body = new Uint8Array(head.length + magnitude).fill(0x5a);
    body.set(head);
    const bytes = frame(body);
    expect(outcome(() => atomReferences(bytes))).toBe('corrupt');
    expect(outcome(() => decodeValue(bytes, toRef))).toBe('corrupt');
    expect(() => decodeValue(bytes, toRef)).toThrow(/above the \d+ a JavaScript bigint can hold/);
  });
});
