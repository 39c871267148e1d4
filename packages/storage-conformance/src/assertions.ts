/**
 * Helpers the scenarios share: deterministic test bytes, byte comparison with short failure
 * messages (an 8 MiB diff is useless), and typed-error expectations.
 */
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { hasReason, isProtoError } from '@proto/atom/storage';
import { assert } from 'vitest';

/** A ProtoBase error reason, as found on `StorageError.reason`. */
export type Reason = Parameters<typeof hasReason>[1];

/** `length` pseudo-random bytes, the same for the same `seed` (xorshift32). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
    bytes[i + 1] = (x >>> 8) & 0xff;
    bytes[i + 2] = (x >>> 16) & 0xff;
    bytes[i + 3] = x >>> 24;
  }
  for (; i < length; i += 1) bytes[i] = (seed + i) & 0xff;
  return bytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An atom holding `value` as JSON text; the suite's atoms are opaque bytes to the backend. */
export function jsonAtom(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Parses an atom written by `jsonAtom`. */
export function parseJsonAtom<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** Fails unless `actual` is a Uint8Array holding exactly `expected`'s bytes. */
export function expectBytes(actual: unknown, expected: Uint8Array, what: string): void {
  if (!(actual instanceof Uint8Array)) {
    assert.fail(`${what}: expected a Uint8Array, got ${show(actual)}`);
  }
  if (actual.byteLength !== expected.byteLength) {
    assert.fail(`${what}: expected ${expected.byteLength} bytes, got ${actual.byteLength}`);
  }
  for (let i = 0; i < expected.byteLength; i += 1) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: bytes differ first at offset ${i} (expected ${expected[i]}, got ${actual[i]})`);
    }
  }
}

/** Reads every pointer and checks it holds the bytes written under it. */
export async function expectStored(
  backend: StorageBackend,
  written: ReadonlyMap<AtomPointer, Uint8Array>,
  what: string,
): Promise<void> {
  const entries = [...written];
  const reads = await Promise.all(entries.map(([pointer]) => backend.readAtom(pointer)));
  entries.forEach(([pointer, bytes], index) => {
    expectBytes(reads[index], bytes, `${what}: atom ${JSON.stringify(pointer)}`);
  });
}

/** Fails unless `promise` rejects with a ProtoBase error of the given reason. */
export async function expectRejects(promise: Promise<unknown>, reason: Reason, what: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    expectReason(error, reason, what);
    return;
  }
  assert.fail(`${what}: expected a rejection with reason '${reason}', but it resolved ${show(outcome)}`);
}

/** Fails unless `body` throws synchronously a ProtoBase error of the given reason. */
export function expectThrows(body: () => unknown, reason: Reason, what: string): void {
  let outcome: unknown;
  try {
    outcome = body();
  } catch (error) {
    expectReason(error, reason, what);
    return;
  }
  assert.fail(`${what}: expected to throw with reason '${reason}', but it returned ${show(outcome)}`);
}

/** Fails unless `error` is a ProtoBase error with the given reason. */
export function expectReason(error: unknown, reason: Reason, what: string): void {
  if (!hasReason(error, reason)) {
    const got = isProtoError(error) ? `reason '${error.reason}' (${error.message})` : show(error);
    assert.fail(`${what}: expected a ProtoBase error with reason '${reason}', got ${got}`);
  }
}

/** A short description of any value for failure messages. */
export function show(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}
