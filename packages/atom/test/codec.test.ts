import { Buffer } from 'node:buffer';
import { crc32 } from 'node:zlib';
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
import type { ProtoErrorReason } from '../src/errors.js';
import { isProtoError } from '../src/errors.js';
import { frame, T, varint } from './frames.js';
import { difference, Ref } from './strict-equality.js';

// ---- helpers ------------------------------------------------------------------------------

function expectRoundTrip(value: unknown): Uint8Array {
  const bytes = encodeValue(value);
  expect(difference(decodeValue(bytes), value)).toBeNull();
  return bytes;
}

function reasonOf(run: () => unknown): ProtoErrorReason | 'no error' | 'not a ProtoError' {
  try {
    run();
  } catch (error) {
    return isProtoError(error) ? error.reason : 'not a ProtoError';
  }
  return 'no error';
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** A UTF-8 string body: header (byte length * 2), then bytes. */
function str(value: string): number[] {
  const bytes = [...Buffer.from(value, 'utf8')];
  return [...varint(bytes.length * 2), ...bytes];
}

const refs = { reference: (value: object) => (value instanceof Ref ? value.pointer : undefined) };
const toRef = { reference: (pointer: string) => new Ref(pointer) };

// ---- tests --------------------------------------------------------------------------------

describe('atom: codec', () => {
  describe('round trips', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['true', true],
      ['false', false],
    ])('keeps %s when it is the whole value', (_name, value) => {
      expectRoundTrip(value);
    });

    it('keeps every kind of number exactly when encoded', () => {
      const numbers = [
        0,
        -0,
        1,
        -1,
        127,
        128,
        -128,
        255,
        256,
        2 ** 31 - 1,
        2 ** 31,
        -(2 ** 31),
        -(2 ** 31) - 1,
        2 ** 32,
        2 ** 53 - 1,
        -(2 ** 53 - 1),
        2 ** 53,
        -(2 ** 53),
        2 ** 53 + 2,
        0.1,
        -1.5,
        Math.PI,
        Number.EPSILON,
        Number.MIN_VALUE,
        -Number.MIN_VALUE,
        Number.MAX_VALUE,
        -Number.MAX_VALUE,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        1e300,
        5e-324,
      ];
      for (const value of numbers) expectRoundTrip(value);
      expectRoundTrip(numbers);
    });

    it('keeps -0 distinct from 0 when nested', () => {
      const decoded = decodeValue(encodeValue({ a: -0, b: [0, -0] })) as { a: number; b: number[] };
      expect(Object.is(decoded.a, -0)).toBe(true);
      expect(Object.is(decoded.b[0], 0)).toBe(true);
      expect(Object.is(decoded.b[1], -0)).toBe(true);
    });

    it('keeps bigints of any size and sign when encoded', () => {
      const values = [
        0n,
        1n,
        -1n,
        127n,
        128n,
        255n,
        256n,
        -256n,
        2n ** 63n,
        -(2n ** 64n) + 1n,
        2n ** 1000n + 12345n,
      ];
      values.push(-(3n ** 4000n));
      for (const value of values) expectRoundTrip(value);
      expect(decodeValue(encodeValue(-0n))).toBe(0n);
    });

    it('keeps strings exactly when they are empty, non-ASCII, astral or long', () => {
      const values = [
        '',
        'a',
        'hello world',
        '\0',
        '\u007f\u0080',
        'héllo wörld',
        '日本語テキスト',
        '😀',
        'a😀b',
        '\uFEFFstarts with a BOM',
        'x'.repeat(63),
        'x'.repeat(64),
        'é'.repeat(21),
        'é'.repeat(22),
        'y'.repeat(5000),
        'ü😀'.repeat(3000),
        `${'a'.repeat(100)}é`,
      ];
      for (const value of values) expectRoundTrip(value);
    });

    it('keeps lone surrogates when a string is not well-formed', () => {
      const values = [
        '\uD800',
        '\uDC00',
        'a\uD800',
        '\uDFFFb',
        '\uDC00\uD800',
        `${'z'.repeat(100)}\uD83D`,
        '😀\uD83D',
      ];
      for (const value of values) {
        const decoded = decodeValue(encodeValue(value)) as string;
        expect(decoded.length).toBe(value.length);
        for (let i = 0; i < value.length; i++) expect(decoded.charCodeAt(i)).toBe(value.charCodeAt(i));
      }
      expectRoundTrip({ '\uD800key': '\uDFFF' });
    });

    it('keeps Dates including invalid ones when encoded', () => {
      for (const time of [0, -1, 1, Date.UTC(2024, 1, 29, 12, 0, 0, 123), 8.64e15, -8.64e15, Number.NaN]) {
        const decoded = decodeValue(encodeValue(new Date(time)));
        expect(decoded).toBeInstanceOf(Date);
        expect(Object.is((decoded as Date).getTime(), time)).toBe(true);
      }
    });

    it('returns a fresh Uint8Array when bytes are decoded', () => {
      const source = new Uint8Array([0, 1, 2, 254, 255]);
      const bytes = expectRoundTrip(source);
      const decoded = decodeValue(bytes) as Uint8Array;
      expect(decoded.byteOffset).toBe(0);
      expect(decoded.buffer.byteLength).toBe(5);
      bytes.fill(0);
      expect([...decoded]).toEqual([0, 1, 2, 254, 255]);
      expectRoundTrip(new Uint8Array(0));
      expectRoundTrip(new Uint8Array(100_000).map((_, i) => i * 7));
    });

    it('returns a plain Uint8Array when a Buffer was encoded', () => {
      const decoded = decodeValue(encodeValue(Buffer.from('pooled bytes'))) as Uint8Array;
      expect(Object.getPrototypeOf(decoded)).toBe(Uint8Array.prototype);
      expect(Buffer.from(decoded).toString()).toBe('pooled bytes');
      expect(decoded.buffer.byteLength).toBe(12);
    });

    it('keeps arrays, holes and undefined apart when arrays are sparse', () => {
      const values: unknown[][] = [
        [],
        [1, 2, 3],
        [undefined],
        [, 1],
        [1, ,],
        [, , ,],
        [1, , 3, , , 6, undefined],
      ];
      for (const value of values) expectRoundTrip(value);
      const mostlyDense = Array.from({ length: 1000 }, (_, i) => i);
      delete mostlyDense[500];
      expectRoundTrip(mostlyDense);
    });

    it('stays compact when an array is huge and sparse', () => {
      const big: number[] = [];
      big[1e6] = 1;
      expect(expectRoundTrip(big).length).toBeLessThan(24);
      const empty = new Array(2 ** 32 - 1);
      const bytes = encodeValue(empty);
      expect(bytes.length).toBeLessThan(24);
      const decoded = decodeValue(bytes) as unknown[];
      expect(decoded.length).toBe(2 ** 32 - 1);
      expect(Object.keys(decoded)).toEqual([]);
      expectRoundTrip([, , , ,]);
    });

    it('keeps keys and their order when objects have odd keys', () => {
      expectRoundTrip({});
      expectRoundTrip({ b: 1, a: 2, 10: 'ten', 2: 'two', '-1': 'neg', '01': 'lead', '': 'empty', 'x y': 0 });
      expectRoundTrip({ constructor: 1, prototype: 2, toString: 3, hasOwnProperty: 4, valueOf: null });
      expectRoundTrip({ nested: { deeper: { list: [{ a: 1 }, [], {}] } } });
    });

    it('encodes objects with a null prototype as plain objects', () => {
      const bare = Object.create(null) as Record<string, unknown>;
      bare.a = 1;
      bare.b = [bare.a];
      const decoded = decodeValue(encodeValue(bare)) as object;
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(difference(decoded, { a: 1, b: [1] })).toBeNull();
    });

    it('keeps __proto__ as data and leaves prototypes alone when decoding hostile keys', () => {
      const hostile = JSON.parse(
        '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
      );
      const decoded = decodeValue(encodeValue(hostile)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(Object.keys(decoded)).toEqual(['__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true });
      expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(difference(decoded, hostile)).toBeNull();
    });

    it('encodes only own properties when Object.prototype has enumerable additions', () => {
      let keys: string[][];
      Object.defineProperty(Object.prototype, 'injected', { value: 1, enumerable: true, configurable: true });
      try {
        const decoded = decodeValue(encodeValue({ a: 1, nested: { b: 2 } })) as { nested: object };
        keys = [Object.keys(decoded), Object.keys(decoded.nested)];
      } finally {
        delete (Object.prototype as { injected?: unknown }).injected;
      }
      expect(keys).toEqual([['a', 'nested'], ['b']]);
      expect(Object.keys(decodeValue(encodeValue({ a: 1 })) as object)).toEqual(['a']);
    });

    it('keeps a realistic collection node when encoded', () => {
      const node = Array.from({ length: 64 }, (_, i) => ({
        id: `k${123456 + i}`,
        name: `Item-${i}`,
        value: 42 + i,
        category: `c${i % 10}`,
        status: `s${i % 5}`,
      }));
      const bytes = expectRoundTrip(node);
      expect(bytes.length).toBeLessThan(JSON.stringify(node).length);
    });

    it('does not let frames share memory when encoded one after another', () => {
      const first = encodeValue({ a: 'first' });
      const second = encodeValue({ a: 'second' });
      expect(first.buffer).not.toBe(second.buffer);
      expect(decodeValue(first)).toEqual({ a: 'first' });
    });
  });

  describe('atoms', () => {
    it('keeps the type name and payload when an atom is encoded', () => {
      const bytes = encodeAtom('btree/leaf', { keys: ['a', 'b'], values: [1, 2] });
      expect(decodeAtom(bytes)).toEqual({
        typeName: 'btree/leaf',
        payload: { keys: ['a', 'b'], values: [1, 2] },
      });
      expect(decodeAtom(encodeAtom('ümlaut-type', undefined))).toEqual({
        typeName: 'ümlaut-type',
        payload: undefined,
      });
    });

    it('rejects an empty or non-string type name when encoding an atom', () => {
      expect(reasonOf(() => encodeAtom('', 1))).toBe('invalid-argument');
      expect(reasonOf(() => encodeAtom(42 as unknown as string, 1))).toBe('invalid-argument');
    });

    it('refuses the other kind of frame when decoding', () => {
      expect(reasonOf(() => decodeValue(encodeAtom('t', 1)))).toBe('invalid-argument');
      expect(reasonOf(() => decodeAtom(encodeValue(1)))).toBe('invalid-argument');
    });
  });

  describe('references', () => {
    it('stores pointers and resolves them through the hooks when values refer to atoms', () => {
      const value = { child: new Ref('p1'), list: [new Ref('p2'), 3, new Ref('p1')] };
      const bytes = encodeValue(value, refs);
      const decoded = decodeValue(bytes, toRef) as typeof value;
      expect(decoded.child).toBeInstanceOf(Ref);
      expect(decoded.child.pointer).toBe('p1');
      expect((decoded.list[0] as Ref).pointer).toBe('p2');
      expect((decoded.list[2] as Ref).pointer).toBe('p1');
    });

    it('passes the object itself to the hook when encoding a non-plain object', () => {
      const seen: object[] = [];
      const map = new Map([[1, 2]]);
      encodeValue(
        { map },
        {
          reference: (value) => {
            seen.push(value);
            return 'm';
          },
        },
      );
      expect(seen).toEqual([map]);
    });

    it('lists pointers in order with duplicates when asked for references', () => {
      const value = { a: new Ref('x'), b: [new Ref('y'), { c: new Ref('x') }], d: 'x' };
      expect(atomReferences(encodeValue(value, refs))).toEqual(['x', 'y', 'x']);
      expect(atomReferences(encodeAtom('node', [new Ref('z')], refs))).toEqual(['z']);
      expect(atomReferences(encodeValue({ none: [1, 'two'] }))).toEqual([]);
    });

    it('replaces every pointer and keeps the rest when references are rewritten', () => {
      const value = { a: new Ref('x'), b: [new Ref('y'), 'x', { c: new Ref('x') }], e: new Date(5) };
      const original = encodeAtom('node', value, refs);
      const moved = rewriteReferences(original, (pointer) => `moved/${pointer}/${'ü'.repeat(100)}`);
      const suffix = 'ü'.repeat(100);
      expect(atomReferences(moved)).toEqual([`moved/x/${suffix}`, `moved/y/${suffix}`, `moved/x/${suffix}`]);
      const decoded = decodeAtom(moved, toRef);
      expect(decoded.typeName).toBe('node');
      const back = rewriteReferences(moved, (pointer) => pointer.split('/')[1]!);
      expect([...back]).toEqual([...original]);
      const plain = encodeValue([1, 2]);
      const copy = rewriteReferences(plain, (pointer) => pointer);
      expect([...copy]).toEqual([...plain]);
      expect(copy).not.toBe(plain);
    });

    it('rejects an invalid replacement when references are rewritten', () => {
      const bytes = encodeValue([new Ref('x')], refs);
      expect(reasonOf(() => rewriteReferences(bytes, () => ''))).toBe('invalid-argument');
      expect(reasonOf(() => rewriteReferences(bytes, () => 'p'.repeat(256)))).toBe('invalid-argument');
    });

    it('asks for a reference hook when decoding a pointer without one', () => {
      const error = errorOf(() => decodeValue(encodeValue(new Ref('p9'), refs)));
      expect(isProtoError(error) && error.reason).toBe('invalid-argument');
      expect(error.message).toMatch(/"p9".*options\.reference/);
    });

    it('passes errors from the hooks through unchanged', () => {
      const failure = new Error('hook failed');
      const bytes = encodeValue([new Ref('x')], refs);
      expect(
        errorOf(() =>
          decodeValue(bytes, {
            reference: () => {
              throw failure;
            },
          }),
        ),
      ).toBe(failure);
      expect(
        errorOf(() =>
          encodeValue(new Map(), {
            reference: () => {
              throw failure;
            },
          }),
        ),
      ).toBe(failure);
    });

    it('rejects an invalid pointer when the encode hook returns one', () => {
      for (const pointer of ['', 'p'.repeat(256), 42]) {
        const hook = { reference: () => pointer as string };
        expect(reasonOf(() => encodeValue({ a: new Map() }, hook))).toBe('invalid-argument');
      }
      expect(atomReferences(encodeValue(new Map(), { reference: () => 'p'.repeat(255) }))).toEqual([
        'p'.repeat(255),
      ]);
    });

    it('encodes correctly when the hook itself encodes the referenced object', () => {
      const stored = new Map<string, Uint8Array>();
      const reference = (value: object) => {
        const pointer = `atom${stored.size}`;
        stored.set(pointer, encodeValue({ inner: [...(value as Set<number>)] }));
        return pointer;
      };
      const bytes = encodeValue(
        { before: 'x'.repeat(300), set: new Set([1, 2]), after: [1, 2, 3] },
        { reference },
      );
      const decoded = decodeValue(bytes, { reference: (pointer) => decodeValue(stored.get(pointer)!) });
      expect(decoded).toEqual({ before: 'x'.repeat(300), set: { inner: [1, 2] }, after: [1, 2, 3] });
    });
  });

  describe('rejected values', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }

    it.each([
      ['Map', new Map(), /cannot encode Map at \$\.a\[3\]; use a ProtoBase collection or a plain object/],
      ['Set', new Set([1]), /cannot encode Set at \$\.a\[3\]/],
      ['class instance', new Point(1, 2), /cannot encode Point at \$\.a\[3\]/],
      ['typed array', new Int16Array(2), /cannot encode Int16Array/],
      ['boxed primitive', new Number(4), /cannot encode Number/],
      ['RegExp', /x/, /cannot encode RegExp/],
      ['Promise', Promise.resolve(), /cannot encode Promise/],
      ['function', () => 1, /cannot encode .*function.* at \$\.a\[3\]/],
      ['symbol', Symbol('s'), /cannot encode a symbol at \$\.a\[3\]/],
    ])('names the type and path when encoding a %s without a hook', (_name, bad, message) => {
      const error = errorOf(() => encodeValue({ a: [0, 1, 2, bad] }));
      expect(isProtoError(error) && error.reason).toBe('invalid-argument');
      expect(error.message).toMatch(message);
    });

    it('rejects functions and symbols even when a hook is given', () => {
      const hook = { reference: () => 'p' };
      expect(reasonOf(() => encodeValue([() => 1], hook))).toBe('invalid-argument');
      expect(reasonOf(() => encodeValue([Symbol.iterator], hook))).toBe('invalid-argument');
    });

    it('rejects symbol-keyed properties when encoding an object', () => {
      const error = errorOf(() => encodeValue({ inner: { [Symbol('tag')]: 1, a: 2 } }));
      expect(isProtoError(error) && error.reason).toBe('invalid-argument');
      expect(error.message).toMatch(/Symbol\(tag\).*\$\.inner/);
    });

    it('rejects named properties when a sparse array has them', () => {
      const array: unknown[] = [1, , 3];
      (array as unknown as Record<string, unknown>).extra = 1;
      expect(errorOf(() => encodeValue({ list: array })).message).toMatch(/"extra".*\$\.list/);
    });

    it('reports a cycle as invalid-argument when plain objects contain themselves', () => {
      const self: Record<string, unknown> = { a: 1 };
      self.self = self;
      const error = errorOf(() => encodeValue({ root: self }));
      expect(isProtoError(error) && error.reason).toBe('invalid-argument');
      expect(error.message).toMatch(/cycle.*\$\.root\.self.*\$\.root/);
      const list: unknown[] = [];
      list.push([list]);
      expect(reasonOf(() => encodeValue(list))).toBe('invalid-argument');
      let deep: Record<string, unknown> = {};
      const top = deep;
      for (let i = 0; i < 200; i++) deep = deep.next = {};
      deep.next = top;
      expect(reasonOf(() => encodeValue(top))).toBe('invalid-argument');
    });

    it('accepts shared subtrees when they are not cycles', () => {
      const shared = { n: 1 };
      expectRoundTrip({ a: shared, b: shared, c: [shared, shared] });
    });

    it('rejects a reference option that is not a function', () => {
      const options = { reference: 'nope' } as unknown as { reference: () => undefined };
      expect(reasonOf(() => encodeValue(1, options))).toBe('invalid-argument');
      expect(reasonOf(() => decodeValue(encodeValue(1), options))).toBe('invalid-argument');
    });
  });

  describe('deep nesting', () => {
    function nest(levels: number): unknown {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
      return value;
    }

    it('round-trips 10,000 levels when arrays and objects nest', () => {
      const value = nest(10_000);
      const bytes = encodeValue(value);
      let decoded = decodeValue(bytes);
      let levels = 0;
      while (typeof decoded === 'object' && decoded !== null) {
        decoded = Array.isArray(decoded) ? decoded[0] : (decoded as { k: unknown }).k;
        levels++;
      }
      expect(levels).toBe(10_000);
      expect(decoded).toBe('leaf');
      expect(atomReferences(bytes)).toEqual([]);
    });

    it('round-trips 100,000 levels when nesting is at the limit', () => {
      let value: unknown = 1;
      for (let i = 0; i < 100_000; i++) value = [value];
      let decoded = decodeValue(encodeValue(value));
      for (let i = 0; i < 100_000; i++) decoded = (decoded as unknown[])[0];
      expect(decoded).toBe(1);
    });

    it('throws too-large rather than overflowing the stack when nesting exceeds the limit', () => {
      const error = errorOf(() => encodeValue(nest(100_001)));
      expect(isProtoError(error) && error.reason).toBe('too-large');
      expect(error.message.length).toBeLessThan(500);
    });

    it('rejects a frame nested beyond the limit when its checksum is valid', () => {
      const body: number[] = [];
      for (let i = 0; i < 100_001; i++) body.push(T.array, 1);
      body.push(T.int(1));
      expect(reasonOf(() => decodeValue(frame(body)))).toBe('corrupt');
      expect(reasonOf(() => atomReferences(frame(body)))).toBe('corrupt');
    });
  });

  describe('corruption', () => {
    const samples: [string, Uint8Array][] = [
      ['scalar', encodeValue(42)],
      ['string', encodeValue('héllo 😀')],
      [
        'record',
        encodeValue({
          id: 'k1',
          n: -7,
          f: 0.5,
          big: -(2n ** 70n),
          when: new Date(1e12),
          raw: new Uint8Array([1, 2, 3]),
          list: [1, , 'x', [null, true]],
          odd: '\uD800',
        }),
      ],
      ['atom', encodeAtom('node', { ref: new Ref('ptr-1'), v: [1, 2] }, refs)],
    ];

    function expectCorrupt(bytes: Uint8Array, label: string): void {
      for (const run of [
        () => decodeValue(bytes, toRef),
        () => decodeAtom(bytes, toRef),
        () => atomReferences(bytes),
      ]) {
        const reason = reasonOf(run);
        if (reason !== 'corrupt') expect.fail(`${label}: ${reason}`);
      }
    }

    it.each(samples)('rejects every truncation of a %s frame', (_name, bytes) => {
      for (let length = 0; length < bytes.length; length++) {
        expectCorrupt(bytes.slice(0, length), `truncated to ${length}`);
      }
    });

    it.each(samples)('rejects every changed byte of a %s frame', (_name, bytes) => {
      for (let at = 0; at < bytes.length; at++) {
        for (const mask of [0x01, 0x80, 0xff, 0x5a]) {
          const changed = bytes.slice();
          changed[at]! ^= mask;
          expectCorrupt(changed, `byte ${at} ^ ${mask}`);
        }
      }
    });

    it.each(samples)('rejects trailing bytes after a %s frame', (_name, bytes) => {
      for (const extra of [[0], [1], [0x80, 0x01]]) {
        expectCorrupt(new Uint8Array([...bytes, ...extra]), `extra ${extra}`);
      }
    });

    it('says what was wrong when the header is bad', () => {
      const bytes = encodeValue({ a: 1 });
      const wrongMagic = bytes.slice();
      wrongMagic[0] = 0x7b;
      expect(errorOf(() => decodeValue(wrongMagic)).message).toMatch(/magic/);
      const wrongVersion = bytes.slice();
      wrongVersion[2] = 9;
      expect(errorOf(() => decodeValue(wrongVersion)).message).toMatch(/version 9/);
      const wrongSum = bytes.slice();
      wrongSum[bytes.length - 1]! ^= 1;
      expect(errorOf(() => decodeValue(wrongSum)).message).toMatch(/checksum/);
      expect(errorOf(() => decodeValue(new Uint8Array(3))).message).toMatch(/shorter than/);
    });

    it('rejects input that is not a Uint8Array when decoding', () => {
      expect(reasonOf(() => decodeValue('bytes' as unknown as Uint8Array))).toBe('invalid-argument');
      expect(reasonOf(() => atomReferences(null as unknown as Uint8Array))).toBe('invalid-argument');
    });

    it('decodes a frame held in a Buffer view at an offset', () => {
      const bytes = encodeValue({ a: 'b', c: [1.5] });
      const pool = Buffer.alloc(bytes.length + 10);
      pool.set(bytes, 7);
      expect(decodeValue(pool.subarray(7, 7 + bytes.length))).toEqual({ a: 'b', c: [1.5] });
      const view = new Uint8Array(pool.buffer, pool.byteOffset + 7, bytes.length);
      expect(decodeValue(view)).toEqual({ a: 'b', c: [1.5] });
    });
  });

  describe('structural checks behind a valid checksum', () => {
    it('decodes hand-written frames when they follow the format', () => {
      expect(decodeValue(frame([T.int(5)]))).toBe(5);
      expect(decodeValue(frame([T.object, 1, ...str('k'), T.string, ...str('v')]))).toEqual({ k: 'v' });
      expect(decodeAtom(frame([...str('t'), T.null], 0x41))).toEqual({ typeName: 't', payload: null });
      const holes = decodeValue(frame([T.array, ...varint(1e9), T.holes, ...varint(1e9)])) as unknown[];
      expect(holes.length).toBe(1e9);
    });

    it.each([
      ['an empty body', []],
      ['tag 0x00', [0x00]],
      ['an unknown tag', [0x3f]],
      ['a huge string length', [T.string, ...varint(2 ** 50)]],
      ['a string longer than the frame', [T.string, ...varint(20), 0x61]],
      ['a huge byte length', [T.bytes, ...varint(2 ** 40)]],
      ['an array longer than 2^32 - 1', [T.array, ...varint(2 ** 32), T.holes, ...varint(2 ** 32)]],
      ['an array missing elements', [T.array, ...varint(2 ** 32 - 1), T.int(1)]],
      ['a huge object entry count', [T.object, ...varint(2 ** 40)]],
      ['holes at the top level', [T.holes, 1]],
      ['holes inside an object', [T.object, 1, ...str('k'), T.holes, 1]],
      ['an empty run of holes', [T.array, 2, T.holes, 0, T.int(1), T.int(1)]],
      ['a run of holes past the end', [T.array, 2, T.holes, 3]],
      ['trailing bytes', [T.int(1), T.int(2)]],
      ['a 9-byte varint', [T.uint, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
      ['a varint above 2^53', [T.uint, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]],
      ['a non-minimal varint', [T.uint, 0x81, 0x00]],
      ['a negative zero integer', [T.nint, 0]],
      ['a truncated float', [T.float, 0, 0, 0]],
      ['invalid UTF-8', [T.string, 4, 0xc3, 0x28]],
      ['invalid long UTF-8', [T.string, ...varint(200), ...new Array<number>(99).fill(0x61), 0xff]],
      ['an odd UTF-16 length', [T.string, 3, 0x61]],
      ['a fractional Date', [T.date, ...new Uint8Array(new Float64Array([1.5]).buffer)]],
      ['a Date out of range', [T.date, ...new Uint8Array(new Float64Array([9e15]).buffer)]],
      ['a bigint with a leading zero', [T.bigint, 2, 0, 1]],
      ['a negative zero bigint', [0x09, 0]],
      ['an empty pointer', [T.pointer, 0]],
      ['a 256-character pointer', [T.pointer, ...str('p'.repeat(256))]],
    ])('rejects %s as corrupt', (_name, body) => {
      const bytes = frame(body as number[]);
      expect(reasonOf(() => decodeValue(bytes, toRef))).toBe('corrupt');
      expect(reasonOf(() => atomReferences(bytes))).toBe('corrupt');
    });

    it('rejects an atom frame with an empty type name', () => {
      const bytes = frame([0, T.null], 0x41);
      expect(reasonOf(() => decodeAtom(bytes))).toBe('corrupt');
      expect(reasonOf(() => atomReferences(bytes))).toBe('corrupt');
    });
  });
});

describe('atom: codec segments (examples)', () => {
  /** Replaces the body of a value frame and fixes its checksum. */
  function frameWithBody(body: number[]): Uint8Array {
    const frame = new Uint8Array([...encodeValue(0).subarray(0, 8), ...body]);
    new DataView(frame.buffer).setUint32(4, crc32(frame.subarray(8), crc32(frame.subarray(0, 4))), true);
    return frame;
  }

  it('writes a segment as tag 0x11, a uint32 byte count and the value', () => {
    const bytes = encodeValue([LazyValue.of({ a: 1 }), 2]);
    expect([...bytes.subarray(8)]).toEqual([0x0d, 2, 0x11, 5, 0, 0, 0, 0x0e, 1, 2, 0x61, 0x81, 0x82]);
    expect(decodeValue(bytes)).toEqual([{ a: 1 }, 2]);
  });

  it('keeps a segment encoded until get() when decoded with an origin', () => {
    const origin = {};
    const [lazy] = decodeValue(encodeValue([LazyValue.of({ n: 'x' })]), { origin }) as [LazyValue];
    expect(lazy).toBeInstanceOf(LazyValue);
    expect(lazy.isStored).toBe(true);
    expect(lazy.get()).toEqual({ n: 'x' });
    expect(lazy.get()).toBe(lazy.get());
    expect(LazyValue.of(lazy)).toBe(lazy);
    expect(LazyValue.of(7).isStored).toBe(false);
  });

  it('throws corrupt for a segment longer or shorter than its value, a nested segment and an empty one', () => {
    const cases = {
      longer: [0x0d, 1, 0x11, 2, 0, 0, 0, 0x85, 0x86],
      shorter: [0x0d, 1, 0x11, 1, 0, 0, 0, 0x0a, 2, 0x61],
      nested: [0x0d, 1, 0x11, 6, 0, 0, 0, 0x11, 1, 0, 0, 0, 0x85],
      empty: [0x0d, 1, 0x11, 0, 0, 0, 0],
      beyond: [0x0d, 1, 0x11, 9, 0, 0, 0, 0x85],
    };
    for (const [name, body] of Object.entries(cases)) {
      const frame = frameWithBody(body);
      expect(
        reasonOf(() => decodeValue(frame)),
        name,
      ).toBe('corrupt');
      expect(
        reasonOf(() => atomReferences(frame)),
        name,
      ).toBe('corrupt');
      const lazily = () => (decodeValue(frame, { origin: {} }) as LazyValue[]).map((item) => item.get());
      expect(reasonOf(lazily), name).toBe('corrupt');
    }
  });

  it('writes a lazy value inside a segment as its plain value', () => {
    const bytes = encodeValue([LazyValue.of([LazyValue.of(5)])]);
    expect([...bytes.subarray(8)]).toEqual([0x0d, 1, 0x11, 3, 0, 0, 0, 0x0d, 1, 0x85]);
  });
});
