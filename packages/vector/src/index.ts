/**
 * `@proto/vector`: vector search for ProtoBase. A vector index kind for `IndexedCollection`
 * (exact and IVF-Flat, Float32 vectors in contiguous blocks stored as atoms, changed in the same
 * transaction as the records), ranked through `@proto/query`'s `nearest()` step.
 */

export { activeKernels, useKernels } from './kernel-choice.js';
export { type Kernels, scalarKernels, unrolledKernels } from './kernels.js';
export { storedVector, type VectorMetric } from './metric.js';
export {
  type RetrainOptions,
  type RetrainResult,
  retrainVectorIndex,
  type VectorIndexStatus,
  vectorIndexStatus,
} from './retrain.js';
export type { VectorDefinition } from './vector-index.js';
export { type VectorIndexOptions, vectorIndex, vectorIndexKind } from './vector-kind.js';
export { residentBytes, wasmKernels } from './wasm-kernels.js';
