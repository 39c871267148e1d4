/**
 * The few WebAssembly JS-API members the kernels use, typed structurally (the ES library types
 * and @types/node 20 do not declare `WebAssembly`); read from `globalThis` where it exists.
 */

/** A WebAssembly memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => {
    readonly exports: Record<string, unknown>;
  };
}

/** The WebAssembly API, or undefined where the runtime has none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
