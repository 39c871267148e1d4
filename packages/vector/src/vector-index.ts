/**
 * The value of a vector index: posting lists of contiguous Float32 blocks, stored as atoms.
 *
 * - `blocks`: a `Dictionary` from a block key (`list × 2^24 + sequence`) to `[keys, bytes]`:
 *   the primary keys of up to `capacity` vectors and their components, one vector after
 *   another (`bytes` is the Float32Array's memory). Blocks are values of a persistent tree, so
 *   a write rewrites one block and the tree path to it, a reopen loads blocks as they are read
 *   (values over 1 KiB are atoms of their own), and the kernel's cache bounds what stays loaded.
 * - `locations`: a `Dictionary` from primary key to its block key (to find a record's vector
 *   on update or delete, and the vectors of a filter's candidates).
 * - `centroids` (IVF-Flat once trained): `lists × dim` floats; a new vector goes to the list of
 *   its nearest centroid. Untrained, everything is in list 0 (a flat, exact index).
 *
 * The value is immutable; `withVector` / `without` return new values sharing everything else.
 */
import { cursorOf, Dictionary, type Key } from '@proto/collections';
import { compareValues } from '@proto/query';
import { type Coarse, nearestCentroid } from './kmeans.js';
import type { VectorMetric } from './metric.js';
import { residentFloats } from './wasm-kernels.js';

/** What is stored for each vector index (`define`'s result). */
export interface VectorDefinition {
  readonly path: string;
  readonly dim: number;
  readonly metric: VectorMetric;
  /** Posting lists once trained; 0: √n at training time; -1: never train (exact only). */
  readonly lists: number;
  /** Vectors a build needs before it trains the lists. */
  readonly trainAt: number;
  /** Lists a query probes by default; 0: chosen from the lists (about 5%). */
  readonly nprobe: number;
  readonly seed: number;
  /** Trained centroids given by a retraining (`lists × dim` float32 bytes), or null. */
  readonly centroids: Uint8Array | null;
  /** Their calibration (nprobe per recall level), given with them. */
  readonly calibration: readonly number[] | null;
}

/** One stored block: primary keys and their vectors. */
export type StoredBlock = readonly [keys: readonly Key[], bytes: Uint8Array];

/** Block keys: list × SPAN + sequence. */
export const SPAN = 2 ** 24;

const views = new WeakMap<object, Float32Array>();

/** The vectors of a block as floats (a view when aligned, else a copy made once). */
export function floatsOf(block: StoredBlock): Float32Array {
  let f = views.get(block);
  if (f === undefined) {
    const bytes = block[1];
    // A block read back from storage is copied once into the kernels' memory.
    f = (bytes as { [KEEP]?: Float32Array })[KEEP];
    if (f === undefined) {
      f = residentFloats(bytes.byteLength / 4);
      new Uint8Array(f.buffer, f.byteOffset, f.byteLength).set(bytes);
    }
    views.set(block, f);
  }
  return f;
}

/** The floats a block's bytes view (keeps them alive as long as the bytes). */
const KEEP = Symbol('floats');

/** A block over `floats` (which should come from `residentFloats`). */
export function makeBlock(keys: readonly Key[], floats: Float32Array): StoredBlock {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  Object.defineProperty(bytes, KEEP, { value: floats });
  const block: StoredBlock = [keys, bytes];
  views.set(block, floats);
  return block;
}

/** Vectors per block for a dimension: about 32 KiB of floats. */
export function blockCapacity(dim: number): number {
  return Math.max(8, Math.min(1024, Math.floor(8192 / dim)));
}

/** How a metric assigns vectors to lists. */
export function coarseOf(metric: VectorMetric): Coarse {
  return metric === 'euclidean' ? 'l2' : 'dot';
}

/** The position of `pk` in a block's keys. */
export function slotOf(keys: readonly Key[], pk: Key): number {
  if (typeof pk !== 'object') return keys.indexOf(pk);
  for (let i = 0; i < keys.length; i++) if (compareValues(keys[i], pk) === 0) return i;
  return -1;
}

export class VectorIndex {
  readonly dim: number;
  readonly capacity: number;
  #scratch: Float64Array | undefined;

  constructor(
    readonly definition: VectorDefinition,
    /** `lists × dim` centroids, or undefined before training (one list). */
    readonly centroids: Float32Array | undefined,
    readonly blocks: Dictionary<number, StoredBlock>,
    readonly locations: Dictionary<Key, number>,
    /** Vectors per list. */
    readonly counts: readonly number[],
    /** Next block sequence per list. */
    readonly sequences: readonly number[],
    readonly size: number,
    /** Vectors when the lists were trained (0: untrained). */
    readonly trainedSize: number,
    /** nprobe per recall level (`RECALL_LEVELS`), measured at training; empty untrained. */
    readonly calibration: readonly number[],
  ) {
    this.dim = definition.dim;
    this.capacity = blockCapacity(definition.dim);
  }

  /** Posting lists (1 before training). */
  get lists(): number {
    return this.centroids === undefined ? 1 : this.centroids.length / this.dim;
  }

  get trained(): boolean {
    return this.centroids !== undefined;
  }

  /** The list a stored-form vector belongs to. */
  listOf(v: Float32Array): number {
    const c = this.centroids;
    if (c === undefined) return 0;
    const lists = c.length / this.dim;
    if (this.#scratch === undefined || this.#scratch.length < lists) this.#scratch = new Float64Array(lists);
    return nearestCentroid(v, c, lists, this.dim, coarseOf(this.definition.metric), this.#scratch);
  }

  /** The stored vector of `pk`, or undefined. */
  vectorOf(pk: Key): Float32Array | undefined {
    const at = this.locations.get(pk);
    if (at === undefined) return undefined;
    const block = this.blocks.get(at);
    if (block === undefined) return undefined;
    const slot = slotOf(block[0], pk);
    if (slot < 0) return undefined;
    return floatsOf(block).subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  #with(
    blocks: Dictionary<number, StoredBlock>,
    locations: Dictionary<Key, number>,
    counts: readonly number[],
    sequences: readonly number[],
    size: number,
  ): VectorIndex {
    return new VectorIndex(
      this.definition,
      this.centroids,
      blocks,
      locations,
      counts,
      sequences,
      size,
      this.trainedSize,
      this.calibration,
    );
  }

  /** Without the vector of `pk` (the same index when it has none). */
  without(pk: Key): VectorIndex {
    const at = this.locations.get(pk);
    if (at === undefined) return this;
    const block = this.blocks.get(at) as StoredBlock;
    const keys = block[0];
    const slot = slotOf(keys, pk);
    const dim = this.dim;
    const n = keys.length;
    let blocks: Dictionary<number, StoredBlock>;
    if (n === 1) blocks = this.blocks.delete(at);
    else {
      // The last vector of the block takes the freed slot: the block stays contiguous.
      const floats = floatsOf(block);
      const next = residentFloats((n - 1) * dim);
      next.set(floats.subarray(0, (n - 1) * dim));
      const nextKeys = keys.slice(0, n - 1);
      if (slot !== n - 1) {
        next.set(floats.subarray((n - 1) * dim, n * dim), slot * dim);
        nextKeys[slot] = keys[n - 1] as Key;
      }
      blocks = this.blocks.set(at, makeBlock(nextKeys, next));
    }
    const list = Math.floor(at / SPAN);
    const counts = this.counts.slice();
    counts[list] = (counts[list] as number) - 1;
    return this.#with(blocks, this.locations.delete(pk), counts, this.sequences, this.size - 1);
  }

  /** With `v` (stored form) as the vector of `pk`, which has none. */
  with(pk: Key, v: Float32Array): VectorIndex {
    const list = this.listOf(v);
    const dim = this.dim;
    const seq = this.sequences[list] as number;
    const lastKey = list * SPAN + seq - 1;
    const last = seq > 0 ? this.blocks.get(lastKey) : undefined;
    const sequences = this.sequences;
    let blocks: Dictionary<number, StoredBlock>;
    let at: number;
    let nextSequences = sequences;
    if (last !== undefined && last[0].length < this.capacity) {
      const n = last[0].length;
      const next = residentFloats((n + 1) * dim);
      next.set(floatsOf(last).subarray(0, n * dim));
      next.set(v, n * dim);
      blocks = this.blocks.set(lastKey, makeBlock([...last[0], pk], next));
      at = lastKey;
    } else {
      at = list * SPAN + seq;
      const floats = residentFloats(dim);
      floats.set(v);
      blocks = this.blocks.set(at, makeBlock([pk], floats));
      const copy = sequences.slice();
      copy[list] = seq + 1;
      nextSequences = copy;
    }
    const counts = this.counts.slice();
    counts[list] = (counts[list] as number) + 1;
    return this.#with(blocks, this.locations.set(pk, at), counts, nextSequences, this.size + 1);
  }

  /** Every (list, block) in list order. */
  *listBlocks(list: number): Generator<StoredBlock> {
    const c = cursorOf(this.blocks, { from: list * SPAN, to: (list + 1) * SPAN, toInclusive: false });
    while (c.next()) yield c.value as StoredBlock;
  }

  /** The index over `entries` (stored-form vectors), lists given by `centroids`. */
  static pack(
    definition: VectorDefinition,
    centroids: Float32Array | undefined,
    calibration: readonly number[],
    entries: readonly (readonly [Key, Float32Array])[],
    assign: (v: Float32Array, position: number) => number,
  ): VectorIndex {
    const dim = definition.dim;
    const lists = centroids === undefined ? 1 : centroids.length / dim;
    const members: number[][] = Array.from({ length: lists }, () => []);
    for (let i = 0; i < entries.length; i++) {
      const [, v] = entries[i] as readonly [Key, Float32Array];
      (members[centroids === undefined ? 0 : assign(v, i)] as number[]).push(i);
    }
    const capacity = blockCapacity(dim);
    const blockEntries: [number, StoredBlock][] = [];
    const locationEntries: [Key, number][] = [];
    const counts: number[] = [];
    const sequences: number[] = [];
    for (let list = 0; list < lists; list++) {
      const m = members[list] as number[];
      counts.push(m.length);
      let seq = 0;
      for (let start = 0; start < m.length; start += capacity, seq++) {
        const end = Math.min(m.length, start + capacity);
        const floats = residentFloats((end - start) * dim);
        const keys: Key[] = [];
        const at = list * SPAN + seq;
        for (let j = start; j < end; j++) {
          const [pk, v] = entries[m[j] as number] as readonly [Key, Float32Array];
          floats.set(v, (j - start) * dim);
          keys.push(pk);
          locationEntries.push([pk, at]);
        }
        blockEntries.push([at, makeBlock(keys, floats)]);
      }
      sequences.push(seq);
    }
    return new VectorIndex(
      definition,
      centroids,
      Dictionary.from(blockEntries),
      Dictionary.from(locationEntries),
      counts,
      sequences,
      entries.length,
      centroids === undefined ? 0 : entries.length,
      calibration,
    );
  }
}
