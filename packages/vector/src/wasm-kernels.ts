/**
 * The WebAssembly SIMD kernels (`wasm-module.ts`) over the shared arena (`arena.ts`). Blocks
 * allocated in the arena (`residentFloats`) are read in place; any other block is copied into a
 * scratch range first (correct, slower). `wasmKernels()` is undefined where WebAssembly SIMD or
 * shared memory is missing, and the index then runs the unrolled JS kernels.
 */
import { Arena, MAXIMUM_PAGES } from './arena.js';
import type { Kernels } from './kernels.js';
import { kernelModuleBytes } from './wasm-module.js';
import { wasmApi } from './wasm-types.js';

type KernelFn = (query: number, base: number, count: number, dim: number, out: number) => void;

interface Loaded {
  readonly arena: Arena;
  readonly kernels: Kernels;
}

let loaded: Loaded | null | undefined;

function load(): Loaded | null {
  try {
    const api = wasmApi();
    if (api === undefined) return null;
    const arena = new Arena();
    const module = new api.Module(kernelModuleBytes(MAXIMUM_PAGES));
    const instance = new api.Instance(module, { env: { memory: arena.memory } });
    const dot = instance.exports.dot as KernelFn;
    const l2 = instance.exports.l2 as KernelFn;
    let queryAt = -1;
    let queryCapacity = 0;
    let outAt = -1;
    let outCapacity = 0;
    let copyAt = -1;
    let copyCapacity = 0;
    let outView: Float64Array | undefined;
    const run = (
      fn: KernelFn,
      query: Float32Array,
      block: Float32Array,
      count: number,
      dim: number,
      out: Float64Array,
    ) => {
      if (count === 0) return;
      const memory = arena.memory;
      let q: number;
      if (arena.owns(query)) q = query.byteOffset;
      else {
        if (dim * 4 > queryCapacity) {
          queryCapacity = Math.max(dim * 4, 1024);
          queryAt = arena.reserve(queryCapacity);
        }
        new Float32Array(memory.buffer, queryAt, dim).set(query.subarray(0, dim));
        q = queryAt;
      }
      let base: number;
      if (arena.owns(block)) base = block.byteOffset;
      else {
        const bytes = count * dim * 4;
        if (bytes > copyCapacity) {
          copyCapacity = 2 ** Math.ceil(Math.log2(bytes));
          copyAt = arena.reserve(copyCapacity);
        }
        new Float32Array(memory.buffer, copyAt, count * dim).set(block.subarray(0, count * dim));
        base = copyAt;
      }
      if (count * 8 > outCapacity) {
        outCapacity = 2 ** Math.ceil(Math.log2(count * 8));
        outAt = arena.reserve(outCapacity);
        outView = undefined;
      }
      fn(q, base, count, dim, outAt);
      // One view of the output range, made again only when the memory grew (a new buffer).
      if (outView === undefined || outView.buffer !== memory.buffer)
        outView = new Float64Array(memory.buffer, outAt, outCapacity / 8);
      for (let i = 0; i < count; i++) out[i] = outView[i] as number;
    };
    const kernels: Kernels = {
      name: 'wasm-simd',
      dot: (query, block, count, dim, out) => run(dot, query, block, count, dim, out),
      l2: (query, block, count, dim, out) => run(l2, query, block, count, dim, out),
    };
    return { arena, kernels };
  } catch {
    return null;
  }
}

function loadedKernels(): Loaded | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** The WebAssembly SIMD kernels, or undefined where they cannot run. */
export function wasmKernels(): Kernels | undefined {
  return loadedKernels()?.kernels;
}

/** A Float32Array the WebAssembly kernels read in place when they are loaded (else a plain one). */
export function residentFloats(length: number): Float32Array {
  const l = loadedKernels();
  return l === null ? new Float32Array(length) : l.arena.floats(length);
}

/** Bytes of vectors held in the kernels' memory (for memory reports). */
export function residentBytes(): number {
  return loadedKernels()?.arena.allocated ?? 0;
}

let scratch: Float32Array | undefined;

/**
 * `v` copied into a reused range of the kernels' memory (so they read it in place), valid until
 * the next call: for the query vector of one synchronous search.
 */
export function residentCopy(v: Float32Array): Float32Array {
  if (scratch === undefined || scratch.length < v.length) scratch = residentFloats(Math.max(v.length, 256));
  const view = scratch.length === v.length ? scratch : scratch.subarray(0, v.length);
  view.set(v);
  return view;
}
