/**
 * Hand-written codec frames for tests: a header and checksum around body bytes, and the pieces
 * bodies are made of (varints, tags), as the format in `src/codec/tags.ts` defines them.
 */
import { crc32 } from 'node:zlib';

/** A frame with a correct header and checksum around hand-written body bytes. */
export function frame(body: ArrayLike<number>, kind = 0x56): Uint8Array {
  const head = new Uint8Array([0x70, 0x62, 1, kind]);
  const rest = Uint8Array.from(body);
  const crc = crc32(rest, crc32(head));
  const bytes = new Uint8Array(8 + rest.length);
  bytes.set(head);
  new DataView(bytes.buffer).setUint32(4, crc, true);
  bytes.set(rest, 8);
  return bytes;
}

/** LEB128, as the format writes it. */
export function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/** Value tags. */
export const T = {
  undefined: 0x01,
  null: 0x02,
  uint: 0x05,
  nint: 0x06,
  float: 0x07,
  bigint: 0x08,
  string: 0x0a,
  date: 0x0b,
  bytes: 0x0c,
  array: 0x0d,
  object: 0x0e,
  holes: 0x0f,
  pointer: 0x10,
  segment: 0x11,
  int: (n: number) => 0x80 + n,
};
