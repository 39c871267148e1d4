/**
 * The WebAssembly SIMD module of the kernels, assembled here byte by byte (no toolchain). It
 * imports one shared memory (`env.memory`) and exports two functions over it:
 *
 *   dot(query, base, count, dim, out)   out[i] = Σ_j query[j] · base[i·dim + j]
 *   l2(query, base, count, dim, out)    out[i] = Σ_j (query[j] - base[i·dim + j])²
 *
 * (byte offsets; vectors are f32, `out` is f64). Each vector is read with four f32x4
 * accumulators over 16 components at a time, then one accumulator over groups of 4, then a
 * scalar tail, so any dimension works. The equivalent text format:
 *
 *   (func $dot (param $q i32) (param $base i32) (param $count i32) (param $dim i32) (param $out i32)
 *     (local $i i32) (local $qp i32) (local $p i32) (local $end16 i32) (local $end4 i32) (local $end i32)
 *     (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128)
 *     (local $s f32) (local $t f32)
 *     (block $done (loop $vectors
 *       (br_if $done (i32.ge_s (local.get $i) (local.get $count)))
 *       ;; a0..a3 = 0, s = 0, qp = q, p = base, end16/end4/end = base + 4·(dim & ~15 | dim & ~3 | dim)
 *       (block (loop (br_if 1 (i32.ge_u (local.get $p) (local.get $end16)))
 *         ;; a0 += q[0..4]·p[0..4], a1 += [4..8], a2 += [8..12], a3 += [12..16]; p += 64; qp += 64
 *         (br 0)))
 *       (block (loop (br_if 1 (i32.ge_u (local.get $p) (local.get $end4)))
 *         ;; a0 += q[0..4]·p[0..4]; p += 16; qp += 16
 *         (br 0)))
 *       (block (loop (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *         ;; s += q[0]·p[0]; p += 4; qp += 4
 *         (br 0)))
 *       ;; out[i] = f64(lanes(a0 + a1 + a2 + a3) + s); base = end; i += 1
 *       (br $vectors))))
 *
 * and `$l2` the same with `d = q - p; a += d·d` in place of `a += q·p`.
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Parameters and locals.
const Q = 0;
const BASE = 1;
const COUNT = 2;
const DIM = 3;
const OUT = 4;
const I = 5;
const QP = 6;
const P = 7;
const END16 = 8;
const END4 = 9;
const END = 10;
const A = [11, 12, 13, 14] as const;
const D = 15;
const S = 16;
const T = 17;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = (n: number) => [0x41, ...sleb(n)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const v128Load = (offset: number) => [...simd(0x00), 2, ...uleb(offset)];
const f32Load = (offset: number) => [0x2a, 2, ...uleb(offset)];
const F32X4_ADD = 0xe4;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;
const F32X4_EXTRACT = 0x1f;

/** `local += f(q, p)` for one f32x4 group at byte `offset`. */
function accumulate(acc: number, offset: number, l2: boolean): number[] {
  const load = [...get(QP), ...v128Load(offset), ...get(P), ...v128Load(offset)];
  const term = l2
    ? [...load, ...simd(F32X4_SUB), 0x22, D, ...get(D), ...simd(F32X4_MUL)]
    : [...load, ...simd(F32X4_MUL)];
  return [...get(acc), ...term, ...simd(F32X4_ADD), ...set(acc)];
}

/** `s += f(q, p)` for one f32. */
function accumulateScalar(l2: boolean): number[] {
  const load = [...get(QP), ...f32Load(0), ...get(P), ...f32Load(0)];
  const term = l2 ? [...load, 0x93, 0x22, T, ...get(T), 0x94] : [...load, 0x94];
  return [...get(S), ...term, 0x92, ...set(S)];
}

/** `local += n` for the pointers. */
const advance = (n: number) => [
  ...get(P),
  ...i32(n),
  0x6a,
  ...set(P),
  ...get(QP),
  ...i32(n),
  0x6a,
  ...set(QP),
];

/** `(block (loop (br_if 1 (p >= end)) body (br 0)))`. */
function stepLoop(end: number, body: number[]): number[] {
  return [0x02, 0x40, 0x03, 0x40, ...get(P), ...get(end), 0x4f, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
}

/** `base + 4 · (dim & mask)`. */
const endOf = (mask: number) => [...get(BASE), ...get(DIM), ...i32(mask), 0x71, ...i32(2), 0x74, 0x6a];

function body(l2: boolean): number[] {
  const zero = [...simd(0x0c), ...new Array<number>(16).fill(0)];
  const code = [
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(I),
    ...get(COUNT),
    0x4e,
    0x0d,
    1,
    ...A.flatMap((a) => [...zero, ...set(a)]),
    0x43,
    0,
    0,
    0,
    0,
    ...set(S),
    ...get(Q),
    ...set(QP),
    ...get(BASE),
    ...set(P),
    ...endOf(~15),
    ...set(END16),
    ...endOf(~3),
    ...set(END4),
    ...endOf(-1),
    ...set(END),
    ...stepLoop(END16, [...A.flatMap((a, n) => accumulate(a, n * 16, l2)), ...advance(64)]),
    ...stepLoop(END4, [...accumulate(A[0], 0, l2), ...advance(16)]),
    ...stepLoop(END, [...accumulateScalar(l2), ...advance(4)]),
    // out + 8i <- f64(lanes of (a0 + a1) + (a2 + a3), plus s)
    ...get(OUT),
    ...get(I),
    ...i32(3),
    0x74,
    0x6a,
    ...get(A[0]),
    ...get(A[1]),
    ...simd(F32X4_ADD),
    ...get(A[2]),
    ...get(A[3]),
    ...simd(F32X4_ADD),
    ...simd(F32X4_ADD),
    0x22,
    D,
    ...simd(F32X4_EXTRACT),
    0,
    ...get(D),
    ...simd(F32X4_EXTRACT),
    1,
    0x92,
    ...get(D),
    ...simd(F32X4_EXTRACT),
    2,
    ...get(D),
    ...simd(F32X4_EXTRACT),
    3,
    0x92,
    0x92,
    ...get(S),
    0x92,
    0xbb,
    0x39,
    3,
    0,
    ...get(END),
    ...set(BASE),
    ...get(I),
    ...i32(1),
    0x6a,
    ...set(I),
    0x0c,
    0,
    0x0b,
    0x0b,
    0x0b,
  ];
  const locals = [3, 6, I32, 5, V128, 2, F32];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

/** The module's bytes; `maximumPages` bounds the shared memory it imports. */
export function kernelModuleBytes(maximumPages: number): Uint8Array {
  const type = [1, 0x60, 5, I32, I32, I32, I32, I32, 0];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(maximumPages)];
  const functions = [2, 0, 0];
  const exports = [2, ...name('dot'), 0x00, 0, ...name('l2'), 0x00, 1];
  const code = [2, ...body(false), ...body(true)];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
