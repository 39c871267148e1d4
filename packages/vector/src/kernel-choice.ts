/**
 * Which kernels the index runs: the fastest implementation measured (README, "Exact search"):
 * the WebAssembly SIMD kernels where they load, else the unrolled JS ones. `useKernels`
 * switches for tests and the bench.
 */
import { type Kernels, unrolledKernels } from './kernels.js';
import { wasmKernels } from './wasm-kernels.js';

let active: Kernels = wasmKernels() ?? unrolledKernels;

/** The kernels in use. */
export function activeKernels(): Kernels {
  return active;
}

/** Makes `kernels` the ones every index uses (tests and the bench compare implementations). */
export function useKernels(kernels: Kernels): void {
  active = kernels;
}
