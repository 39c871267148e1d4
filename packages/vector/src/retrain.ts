/**
 * Retraining an IVF-Flat index whose lists have drifted: `vectorIndexStatus` says how far
 * (growth since training, imbalance between lists, untrained with enough vectors), and
 * `retrainVectorIndex` builds a new version without blocking readers or writers: it trains
 * k-means on a snapshot in small steps (yielding to the event loop between them), assigns the
 * snapshot's vectors to the new lists the same way, and then commits, in one ordinary
 * transaction, the index replaced by one over the new centroids. That commit rebases like any
 * other: records written meanwhile are indexed on the new lists when it is replayed, and the
 * build inside it reuses the precomputed assignments (only records changed since the snapshot
 * are assigned there).
 */
import type { Database } from '@proto/atom';
import { cursorOf, Dictionary, type Key } from '@proto/collections';
import { type IndexedCollection, indexValue } from '@proto/query';
import { calibrationSteps } from './calibration.js';
import { trainingSteps } from './kmeans.js';
import { invalid } from './metric.js';
import { coarseOf, floatsOf, type StoredBlock, type VectorDefinition, VectorIndex } from './vector-index.js';
import { pendingAssignments, trainOptions, vectorIndexKind } from './vector-kind.js';
import { residentFloats } from './wasm-kernels.js';

/** Retrain when the vectors grew (or shrank) this much since training. */
const GROWTH = 2;
/** Retrain when the largest list holds this many times the mean. */
const IMBALANCE = 4;

/** How an index's lists stand. */
export interface VectorIndexStatus {
  readonly trained: boolean;
  readonly lists: number;
  readonly vectors: number;
  /** Vectors when the lists were trained (0: never). */
  readonly trainedVectors: number;
  /** `vectors / trainedVectors` (1 before training). */
  readonly growth: number;
  /** Vectors in the largest list ÷ the mean per list. */
  readonly imbalance: number;
  /** True when `retrainVectorIndex` would build new lists. */
  readonly needsRetraining: boolean;
}

function vectorIndexOf<V, K extends Key>(collection: IndexedCollection<V, K>, name: string): VectorIndex {
  const found = indexValue(collection, name);
  if (found === undefined || found.kind !== vectorIndexKind) invalid(`no vector index named '${name}'`);
  return found.value as VectorIndex;
}

function statusOf(index: VectorIndex): VectorIndexStatus {
  const lists = index.lists;
  const vectors = index.size;
  const mean = vectors / lists;
  let largest = 0;
  for (const c of index.counts) largest = Math.max(largest, c);
  const growth = index.trained ? vectors / Math.max(1, index.trainedSize) : 1;
  const imbalance = mean === 0 ? 1 : largest / mean;
  const d = index.definition;
  const needsRetraining =
    d.lists >= 0 &&
    (index.trained
      ? growth >= GROWTH || growth <= 1 / GROWTH || (imbalance >= IMBALANCE && vectors >= 8 * lists)
      : vectors >= d.trainAt);
  return {
    trained: index.trained,
    lists,
    vectors,
    trainedVectors: index.trainedSize,
    growth,
    imbalance,
    needsRetraining,
  };
}

/** How far the lists of vector index `name` of `collection` have drifted since training. */
export function vectorIndexStatus<V, K extends Key>(
  collection: IndexedCollection<V, K>,
  name: string,
): VectorIndexStatus {
  return statusOf(vectorIndexOf(collection, name));
}

/** Options of `retrainVectorIndex`. */
export interface RetrainOptions {
  /** Retrain even when `needsRetraining` is false. */
  readonly force?: boolean;
}

/** What `retrainVectorIndex` did. */
export interface RetrainResult {
  readonly retrained: boolean;
  /** The status before. */
  readonly before: VectorIndexStatus;
  /** Lists of the new version (the old count when nothing was done). */
  readonly lists: number;
}

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

function optionsOf(
  definition: VectorDefinition,
  centroids: Uint8Array,
  calibration: readonly number[],
): unknown {
  return {
    path: definition.path,
    dim: definition.dim,
    metric: definition.metric,
    lists: definition.lists === 0 ? 'auto' : definition.lists,
    trainAt: definition.trainAt,
    ...(definition.nprobe === 0 ? {} : { nprobe: definition.nprobe }),
    seed: definition.seed,
    centroids,
    calibration,
  };
}

/**
 * Retrains vector index `index` of the `IndexedCollection` at root `root` of `db` when its lists
 * have drifted (or always, with `force`), and commits the new version. Readers and writers go on
 * meanwhile; see the module comment.
 * @example
 * if (vectorIndexStatus(products, 'byEmbedding').needsRetraining) await retrainVectorIndex(db, 'products', 'byEmbedding');
 */
export async function retrainVectorIndex(
  db: Pick<Database, 'begin' | 'transact'>,
  root: string,
  index: string,
  options: RetrainOptions = {},
): Promise<RetrainResult> {
  const snapshot = db.begin({ readOnly: true });
  const collection = snapshot.get<IndexedCollection<unknown, Key>>(root);
  if (collection === undefined) invalid(`no collection at root '${root}'`);
  const current = vectorIndexOf(collection, index);
  const before = statusOf(current);
  if (!before.needsRetraining && options.force !== true)
    return { retrained: false, before, lists: before.lists };
  const definition = current.definition;
  if (definition.lists < 0) invalid(`vector index '${index}' is flat (lists: 'none'); it never trains`);
  const dim = definition.dim;
  // The snapshot's vectors, block by block.
  const n = current.size;
  const points = residentFloats(Math.max(1, n) * dim);
  let at = 0;
  let blocks = 0;
  const cursor = cursorOf(current.blocks);
  while (cursor.next()) {
    const block = cursor.value as StoredBlock;
    const floats = floatsOf(block);
    points.set(floats.subarray(0, block[0].length * dim), at * dim);
    at += block[0].length;
    if (++blocks % 64 === 0) await pause();
  }
  const train = trainOptions(definition, at);
  const steps = trainingSteps(points, at, dim, train);
  let step = steps.next();
  while (step.done !== true) {
    await pause();
    step = steps.next();
  }
  const { centroids } = step.value;
  const bytes = new Uint8Array(
    centroids.buffer.slice(centroids.byteOffset, centroids.byteOffset + centroids.byteLength),
  );
  const lists = centroids.length / dim;
  // Assign the snapshot's vectors to the new lists now, so the commit's build only looks them up.
  const probe = new VectorIndex(
    definition,
    centroids,
    Dictionary.empty(),
    Dictionary.empty(),
    [0],
    [0],
    0,
    0,
    [],
  );
  const assign = new Int32Array(at);
  const listOfKey = new Map<Key, number>();
  let position = 0;
  const again = cursorOf(current.blocks);
  while (again.next()) {
    for (const pk of (again.value as StoredBlock)[0]) {
      const list = probe.listOf(points.subarray(position * dim, (position + 1) * dim));
      assign[position++] = list;
      listOfKey.set(pk, list);
      if (position % 512 === 0) await pause();
    }
  }
  const calibrating = calibrationSteps(
    points,
    at,
    dim,
    assign,
    centroids,
    lists,
    coarseOf(definition.metric),
  );
  let calibrationStep = calibrating.next();
  while (calibrationStep.done !== true) {
    await pause();
    calibrationStep = calibrating.next();
  }
  const spec = { kind: vectorIndexKind, options: optionsOf(definition, bytes, calibrationStep.value) };
  const memo = new WeakMap<object, number>();
  const get = (record: unknown) => {
    let v: unknown = record;
    for (const p of definition.path.split('.'))
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
    return v;
  };
  for (const [pk, record] of collection) {
    const source = get(record);
    const list = listOfKey.get(pk);
    if (typeof source === 'object' && source !== null && list !== undefined) memo.set(source, list);
  }
  pendingAssignments.set(bytes, memo);
  snapshot.abort();
  await db.transact((tx) => {
    const latest = tx.get<IndexedCollection<unknown, Key>>(root);
    if (latest === undefined) invalid(`the collection at root '${root}' was removed during the retraining`);
    tx.set(root, latest.dropIndex(index).createIndex(index, spec as never));
  });
  return { retrained: true, before, lists: centroids.length / dim };
}
