/**
 * Float32 storage inside the WebAssembly kernels' memory, so the SIMD kernels read blocks where
 * they are (no copy per query). The memory is shared (a `SharedArrayBuffer`), so growing it never
 * detaches the views already handed out. Allocation is by power-of-two size classes with free
 * lists; a block's memory returns to its class when its `Float32Array` is garbage collected
 * (`FinalizationRegistry`), so what the kernel's caches drop is freed too.
 */

import { type WasmMemory, wasmApi } from './wasm-types.js';

const PAGE = 65536;
/** 4 GiB of address space at most (reserved, not committed). */
export const MAXIMUM_PAGES = 65536;

export class Arena {
  readonly memory: WasmMemory;
  readonly #free = new Map<number, number[]>();
  #top = 0;
  #bytes = 0;
  readonly #registry: FinalizationRegistry<readonly [number, number]>;
  readonly #buffers = new WeakSet<ArrayBufferLike>();

  constructor(initialPages = 64) {
    const api = wasmApi();
    if (api === undefined) throw new Error('no WebAssembly in this runtime');
    this.memory = new api.Memory({ initial: initialPages, maximum: MAXIMUM_PAGES, shared: true });
    this.#buffers.add(this.memory.buffer);
    this.#registry = new FinalizationRegistry(([offset, size]) => {
      this.#bytes -= size;
      let list = this.#free.get(size);
      if (list === undefined) this.#free.set(size, (list = []));
      list.push(offset);
    });
  }

  /** Bytes held by live allocations. */
  get allocated(): number {
    return this.#bytes;
  }

  /** True when `view` lives in this memory. */
  owns(view: ArrayBufferView): boolean {
    const buffer = view.buffer;
    return buffer === this.memory.buffer || this.#buffers.has(buffer);
  }

  /** A byte range of `size` (rounded up to a power of two, at least 64) not tied to a view. */
  reserve(size: number): number {
    const cls = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    const reused = this.#free.get(cls)?.pop();
    this.#bytes += cls;
    if (reused !== undefined) return reused;
    const offset = this.#top;
    const end = offset + cls;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 2));
      this.memory.grow(Math.min(pages, MAXIMUM_PAGES - have / PAGE));
      this.#buffers.add(this.memory.buffer);
    }
    this.#top = end;
    return offset;
  }

  /** A zeroed Float32Array of `length` in this memory, freed when it is collected. */
  floats(length: number): Float32Array {
    const size = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(length * 4, 1))));
    const offset = this.reserve(length * 4);
    const view = new Float32Array(this.memory.buffer, offset, length);
    view.fill(0);
    this.#registry.register(view, [offset, size]);
    return view;
  }
}
