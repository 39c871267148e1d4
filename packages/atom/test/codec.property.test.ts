import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  atomReferences,
  decodeAtom,
  decodeValue,
  encodeAtom,
  encodeValue,
  LazyValue,
  rewriteReferences,
} from '../src/codec.js';
import { isProtoError } from '../src/errors.js';
import { difference, Ref } from './strict-equality.js';

// ---- helpers ------------------------------------------------------------------------------

const refs = { reference: (value: object) => (value instanceof Ref ? value.pointer : undefined) };
const toRef = { reference: (pointer: string) => new Ref(pointer) };

/** The pointers of a value in encounter order: keys as `Object.keys` lists them, depth first. */
function pointersOf(value: unknown, into: string[] = []): string[] {
  if (value instanceof Ref) into.push(value.pointer);
  else if (Array.isArray(value)) for (const key of Object.keys(value)) pointersOf(value[Number(key)], into);
  else if (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  ) {
    for (const key of Object.keys(value)) pointersOf((value as Record<string, unknown>)[key], into);
  }
  return into;
}

/** 'ok' when `run` returns, the reason of a ProtoError, or the name of any other error. */
function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    return isProtoError(error)
      ? error.reason
      : `foreign ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Rewrites the checksum so that a changed body gets past it and reaches the structural checks. */
function withValidChecksum(bytes: Uint8Array): Uint8Array {
  const fixed = bytes.slice();
  const crc = crc32(fixed.subarray(8), crc32(fixed.subarray(0, 4)));
  new DataView(fixed.buffer).setUint32(4, crc, true);
  return fixed;
}

// ---- arbitraries --------------------------------------------------------------------------

const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '0',
  '1',
  '10',
  '-1',
  '01',
  '1.5',
  '4294967294',
  '4294967295',
  '',
);

/** Strings as raw UTF-16 code units, often with lone surrogates (rare in `unit: 'binary'`). */
const codeUnits = (maxLength: number) =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0x20, max: 0x7e }),
      ),
      { maxLength },
    )
    .map((units) => String.fromCharCode(...units));

const key = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  dangerousKey,
  fc.string({ maxLength: 40 }),
  codeUnits(6),
);

const leaf = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    false,
    0,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
  fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 31, -(2 ** 31), 127, 128, -129),
  fc.double(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary', minLength: 60, maxLength: 400 }),
  codeUnits(100),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 300 }),
);

const hugeSparse = fc.sparseArray(leaf, { maxLength: 1_000_000, maxNumElements: 4 });

const value = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.anything({ key, values: [leaf], withNullPrototype: true, withSparseArray: true }),
  },
  { weight: 1, arbitrary: hugeSparse },
  { weight: 1, arbitrary: fc.dictionary(dangerousKey, fc.oneof(leaf, hugeSparse)) },
);

const pointer = fc.string({ unit: 'binary', minLength: 1, maxLength: 255 }).filter((p) => p.length <= 255);

const withRefs = fc.anything({
  key,
  values: [leaf, pointer.map((p) => new Ref(p))],
  withSparseArray: true,
  maxDepth: 4,
});

type Mutation =
  | { kind: 'xor'; at: number; mask: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('xor' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

/** Applies mutations; positions are taken modulo the frame length, `from` keeps bytes before it intact. */
function mutate(bytes: Uint8Array, mutations: readonly Mutation[], from = 0): Uint8Array {
  let out = [...bytes];
  for (const m of mutations) {
    const span = out.length - from;
    if (span <= 0) break;
    switch (m.kind) {
      case 'xor':
        out[from + (m.at % span)]! ^= m.mask;
        break;
      case 'set':
        out[from + (m.at % span)] = m.byte;
        break;
      case 'truncate':
        out = out.slice(0, from + (m.length % span));
        break;
      case 'insert':
        out.splice(from + (m.at % (span + 1)), 0, ...m.bytes);
        break;
      case 'delete':
        out.splice(from + (m.at % span), m.count);
        break;
    }
  }
  return new Uint8Array(out);
}

// ---- properties ---------------------------------------------------------------------------

describe('atom: codec', () => {
  it('decodes what it encoded when given any plain value', () => {
    fc.assert(
      fc.property(value, (v) => {
        const found = difference(decodeValue(encodeValue(v)), v);
        if (found !== null) throw new Error(found);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes the type name and payload it encoded when given any atom', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), withRefs, (typeName, payload) => {
        const decoded = decodeAtom(encodeAtom(typeName, payload, refs), toRef);
        expect(decoded.typeName).toBe(typeName);
        const found = difference(decoded.payload, payload);
        if (found !== null) throw new Error(found);
      }),
    );
  });

  it('lists and rewrites pointers in encounter order when a value holds references', () => {
    fc.assert(
      fc.property(withRefs, (v) => {
        const bytes = encodeValue(v, refs);
        const pointers = pointersOf(v);
        expect(atomReferences(bytes)).toEqual(pointers);
        const rename = (p: string) => `${p.length}:${p}`.slice(0, 255);
        const moved = rewriteReferences(bytes, rename);
        expect(atomReferences(moved)).toEqual(pointers.map(rename));
        const back = rewriteReferences(moved, (p) => pointers[pointers.map(rename).indexOf(p)]!);
        expect(sameBytes(back, bytes)).toBe(true);
      }),
    );
  });

  it('throws corrupt unless the bytes are unchanged when a frame is mutated', () => {
    fc.assert(
      fc.property(withRefs, fc.boolean(), mutation, (v, asAtom, mutations) => {
        const original = asAtom ? encodeAtom('type', v, refs) : encodeValue(v, refs);
        const changed = mutate(original, mutations);
        const decode = asAtom ? () => decodeAtom(changed, toRef).payload : () => decodeValue(changed, toRef);
        if (sameBytes(changed, original)) {
          const found = difference(decode(), v);
          if (found !== null) throw new Error(found);
          return;
        }
        expect(outcome(decode)).toBe('corrupt');
        expect(outcome(() => atomReferences(changed))).toBe('corrupt');
      }),
      { numRuns: 500 },
    );
  });

  it('fails only with CodecErrors, and the same way as atomReferences, when a body is changed behind a valid checksum', () => {
    fc.assert(
      fc.property(withRefs, fc.boolean(), mutation, (v, asAtom, mutations) => {
        const original = asAtom ? encodeAtom('type', v, refs) : encodeValue(v, refs);
        const changed = withValidChecksum(mutate(original, mutations, 8));
        const decoded = outcome(() => (asAtom ? decodeAtom(changed, toRef) : decodeValue(changed, toRef)));
        expect(['ok', 'corrupt']).toContain(decoded);
        expect(outcome(() => atomReferences(changed))).toBe(decoded);
      }),
      { numRuns: 1000 },
    );
  });

  it('fails only with CodecErrors when the body is random bytes behind a valid checksum', () => {
    const body = fc
      .uint8Array({ maxLength: 40 })
      .chain((random) =>
        fc.constantFrom(
          random,
          new Uint8Array([0x0d, 0xff, 0xff, 0xff, 0xff, 0x0f, ...random]),
          new Uint8Array([0x0e, 0x05, ...random]),
        ),
      );
    fc.assert(
      fc.property(body, fc.constantFrom(0x56, 0x41), (random, kind) => {
        const bytes = withValidChecksum(new Uint8Array([0x70, 0x62, 1, kind, 0, 0, 0, 0, ...random]));
        const decoded = outcome(() => (kind === 0x41 ? decodeAtom(bytes, toRef) : decodeValue(bytes, toRef)));
        expect(['ok', 'corrupt']).toContain(decoded);
        expect(outcome(() => atomReferences(bytes))).toBe(decoded);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('atom: codec segments', () => {
  const items = fc.array(fc.tuple(withRefs, fc.boolean()), { maxLength: 8 });

  it('decodes segments in place, or lazily with an origin, and copies their bytes back unchanged', () => {
    fc.assert(
      fc.property(items, (entries) => {
        const plain = entries.map(([v]) => v);
        const bytes = encodeAtom(
          'leaf',
          entries.map(([v, wrap]) => (wrap ? LazyValue.of(v) : v)),
          refs,
        );
        const eager = difference(decodeAtom(bytes, toRef).payload, plain);
        if (eager !== null) throw new Error(eager);

        const origin = {};
        const lazy = decodeAtom(bytes, { ...toRef, origin }).payload as unknown[];
        // Same origin: the stored bytes are copied, nothing is decoded.
        expect(sameBytes(encodeAtom('leaf', lazy, { ...refs, origin }), bytes)).toBe(true);
        // Another origin: each value is decoded and encoded again, to the same bytes.
        const elsewhere = decodeAtom(bytes, { ...toRef, origin }).payload as unknown[];
        expect(sameBytes(encodeAtom('leaf', elsewhere, { ...refs, origin: {} }), bytes)).toBe(true);
        for (const [i, [v, wrap]] of entries.entries()) {
          const item = lazy[i];
          expect(item instanceof LazyValue).toBe(wrap);
          const found = difference(item instanceof LazyValue ? item.get() : item, v);
          if (found !== null) throw new Error(`item ${i}: ${found}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reports every segment it writes, encoded or copied in runs, with its span in the new frame', () => {
    fc.assert(
      fc.property(items, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (entries, changes) => {
        const origin = {};
        const spans: [LazyValue, number, number][] = [];
        const options = {
          ...refs,
          origin,
          segment: (value: LazyValue, start: number, end: number) => {
            spans.push([value, start, end]);
          },
        };
        const wrapped = entries.map(([v, wrap]) => (wrap ? LazyValue.of(v) : v));
        const first = encodeAtom('leaf', wrapped, options);
        for (const [value, start, end] of spans.splice(0)) value.bind(first, start, end, origin);
        // Change some entries; the unchanged stored ones are copied from the first frame.
        const next = wrapped.map((item, i) => (changes[i] ? LazyValue.of({ changed: i }) : item));
        const expected = next.map((item) => (item instanceof LazyValue ? item.get() : item));
        const second = encodeAtom('leaf', next, options);
        const found = difference(decodeAtom(second, toRef).payload, expected);
        if (found !== null) throw new Error(found);
        expect(spans.length).toBe(next.filter((item) => item instanceof LazyValue).length);
        for (const [value, start, end] of spans) {
          expect(second[start - 5]).toBe(0x11);
          expect(new DataView(second.buffer, second.byteOffset).getUint32(start - 4, true)).toBe(end - start);
          const again = LazyValue.stored(second, start, end, toRef.reference, origin).get();
          const differs = difference(again, value.get());
          if (differs !== null) throw new Error(differs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lists and rewrites pointers inside segments, fixing their lengths', () => {
    fc.assert(
      fc.property(items, (entries) => {
        const plain = entries.map(([v]) => v);
        const bytes = encodeValue(
          entries.map(([v, wrap]) => (wrap ? LazyValue.of(v) : v)),
          refs,
        );
        const pointers = pointersOf(plain);
        expect(atomReferences(bytes)).toEqual(pointers);
        const rename = (p: string) => `${p.length}:${p}`.slice(0, 255);
        const moved = rewriteReferences(bytes, rename);
        expect(atomReferences(moved)).toEqual(pointers.map(rename));
        expect(pointersOf(decodeValue(moved, toRef))).toEqual(pointers.map(rename));
        const back = rewriteReferences(moved, (p) => pointers[pointers.map(rename).indexOf(p)]!);
        expect(sameBytes(back, bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fails only with corrupt, and the same way lazily as in place, when a frame with segments is changed behind a valid checksum', () => {
    fc.assert(
      fc.property(items, mutation, (entries, mutations) => {
        const original = encodeAtom(
          'leaf',
          entries.map(([v, wrap]) => (wrap ? LazyValue.of(v) : v)),
          refs,
        );
        const changed = withValidChecksum(mutate(original, mutations, 8));
        const unwrap = (item: unknown) => (item instanceof LazyValue ? item.get() : item);
        const readAll = (origin?: object): unknown => {
          const payload = decodeAtom(changed, { ...toRef, origin }).payload;
          return Array.isArray(payload) ? payload.map(unwrap) : unwrap(payload);
        };
        const inPlace = outcome(() => readAll());
        expect(['ok', 'corrupt']).toContain(inPlace);
        expect(outcome(() => readAll({}))).toBe(inPlace);
        if (inPlace === 'ok') {
          const found = difference(readAll({}), readAll());
          if (found !== null) throw new Error(found);
        }
      }),
      { numRuns: 300 },
    );
  });
});
