/**
 * The vector index kind (`proto.vector`), registered with `@proto/query` when this module
 * loads: declared with `createIndex(name, vectorIndex({ path, dim }))`, kept current by
 * `update` in the transaction that writes the records, stored as atoms, and offered to
 * `nearest()` through `nearestPaths`: an exact scan, exact distances over a filter's candidates,
 * and (once trained) the IVF scan, each with an estimated cost the planner compares.
 */
import { type Atom, resolveSlot } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import {
  type IndexKind,
  type KindIndexSpec,
  type NearestContext,
  type NearestPath,
  type NearestRequest,
  registerIndexKind,
} from '@proto/query';
import { calibrate, calibratedNprobe } from './calibration.js';
import { type Trained, type TrainOptions, trainCentroids } from './kmeans.js';
import { invalid, METRICS, storedVector, type VectorMetric, vectorError } from './metric.js';
import { exactScan, ivfScan, prefilterScan } from './search.js';
import { coarseOf, type StoredBlock, type VectorDefinition, VectorIndex } from './vector-index.js';
import { residentCopy, residentFloats } from './wasm-kernels.js';

/** Float32 bytes as floats the kernels read in place. */
function floatsFromBytes(bytes: Uint8Array): Float32Array {
  const f = residentFloats(bytes.byteLength / 4);
  new Uint8Array(f.buffer, f.byteOffset, f.byteLength).set(bytes);
  return f;
}

/** Options of `vectorIndex(...)`. */
export interface VectorIndexOptions {
  /** The record field holding the vector (a top-level or dotted path). */
  readonly path: string;
  /** The dimension every vector must have. */
  readonly dim: number;
  /** Default `cosine`. */
  readonly metric?: VectorMetric;
  /**
   * IVF posting lists: a number, `'auto'` (√n when trained; the default) or `'none'` (an exact,
   * flat index that never trains).
   */
  readonly lists?: number | 'auto' | 'none';
  /** Vectors a build needs before it trains the lists (default 1024); fewer stay in one exact list. */
  readonly trainAt?: number;
  /** Lists a query probes by default (default: the nprobe calibrated at training for recall 0.95). */
  readonly nprobe?: number;
  /** Seed of the k-means training (default 42): the same records and seed give the same lists. */
  readonly seed?: number;
}

/** Training effort: Lloyd iterations, and points per list in the training sample. */
const ITERATIONS = 10;
const SAMPLE_PER_LIST = 40;

/** Planner cost of one distance, per component (a record fetch costs 20). */
const COST_PER_COMPONENT = 0.03;
const C_FETCH = 20;
const C_SEEK = 11;

function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    invalid(`${what} must be a positive integer, got ${String(value)}`);
  return value;
}

function define(index: string, options: unknown): VectorDefinition {
  const o = options as
    | Partial<VectorIndexOptions & { centroids: Uint8Array; calibration: number[] }>
    | undefined;
  if (typeof o !== 'object' || o === null) invalid(`vector index '${index}': give { path, dim }`);
  if (typeof o.path !== 'string' || o.path.length === 0 || o.path.includes('[]'))
    invalid(`vector index '${index}': give the vector's field as { path: '<field>' }`);
  const dim = positiveInteger(o.dim, `vector index '${index}': dim`);
  const metric = o.metric ?? 'cosine';
  if (!METRICS.includes(metric))
    invalid(`vector index '${index}': metric is one of ${METRICS.join(', ')}, got ${String(metric)}`);
  // A stored definition (as `indexes()` reports it, always with `centroids`) spells 'auto' and
  // 'none' as 0 and -1, and the calibrated nprobe as 0: defining an index again from it gives
  // the same definition. Options a user writes keep the strict checks.
  const stored = 'centroids' in o;
  const lists =
    o.lists === undefined || o.lists === 'auto' || (stored && (o.lists as unknown) === 0)
      ? 0
      : o.lists === 'none' || (stored && (o.lists as unknown) === -1)
        ? -1
        : positiveInteger(o.lists, `vector index '${index}': lists`);
  const trainAt =
    o.trainAt === undefined ? 1024 : positiveInteger(o.trainAt, `vector index '${index}': trainAt`);
  const nprobe =
    o.nprobe === undefined || (stored && (o.nprobe as unknown) === 0)
      ? 0
      : positiveInteger(o.nprobe, `vector index '${index}': nprobe`);
  const seed = o.seed === undefined ? 42 : o.seed;
  if (!Number.isInteger(seed)) invalid(`vector index '${index}': seed must be an integer`);
  const centroids = o.centroids ?? null;
  if (centroids !== null && (!(centroids instanceof Uint8Array) || centroids.byteLength % (4 * dim) !== 0))
    invalid(`vector index '${index}': centroids must be the float32 bytes of lists × dim floats`);
  const calibration = o.calibration ?? null;
  if (
    calibration !== null &&
    (!Array.isArray(calibration) || !calibration.every((x) => Number.isInteger(x) && x > 0))
  )
    invalid(`vector index '${index}': calibration must be positive integers`);
  return { path: o.path, dim, metric, lists, trainAt, nprobe, seed, centroids, calibration };
}

function getterOf(path: string): (record: unknown) => unknown {
  const parts = path.split('.');
  return (record) => {
    let v: unknown = record;
    for (const p of parts) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

const getters = new Map<string, (record: unknown) => unknown>();
function vectorAt(definition: VectorDefinition, record: unknown): unknown {
  let get = getters.get(definition.path);
  if (get === undefined) getters.set(definition.path, (get = getterOf(definition.path)));
  return get(record);
}

/** The stored form of a record's vector, `undefined` when it has none; throws on a bad one. */
function recordVector(definition: VectorDefinition, pk: Key, record: unknown): Float32Array | undefined {
  const v = vectorAt(definition, record);
  if (v === undefined || v === null) return undefined;
  return storedVector(
    v,
    definition.dim,
    definition.metric,
    `record ${JSON.stringify(pk)}'s '${definition.path}'`,
  );
}

/** Lists for `n` vectors when trained. */
export function listsFor(definition: VectorDefinition, n: number): number {
  if (definition.lists > 0) return definition.lists;
  return Math.max(1, Math.min(4096, Math.round(Math.sqrt(n))));
}

/** How `definition` trains on `n` vectors. */
export function trainOptions(definition: VectorDefinition, n: number): TrainOptions {
  const lists = listsFor(definition, n);
  return {
    lists,
    seed: definition.seed,
    coarse: coarseOf(definition.metric),
    normalize: definition.metric === 'cosine',
    iterations: ITERATIONS,
    sample: lists * SAMPLE_PER_LIST,
  };
}

/** Trained centroids for stored-form vectors (`points`: n × dim). */
export function train(definition: VectorDefinition, points: Float32Array, n: number): Trained {
  return trainCentroids(points, n, definition.dim, trainOptions(definition, n));
}

/** The centroids a definition carries (a retraining's), as floats. */
function givenCentroids(definition: VectorDefinition): Float32Array | undefined {
  const c = definition.centroids;
  if (c === null) return undefined;
  return floatsFromBytes(c);
}

/** Precomputed list assignments (by vector object) a retraining hands to the build it commits. */
export const pendingAssignments = new WeakMap<Uint8Array, WeakMap<object, number>>();

function build(definition: VectorDefinition, records: Iterable<readonly [Key, unknown]>): VectorIndex {
  const entries: [Key, Float32Array][] = [];
  const sources: unknown[] = [];
  for (const [pk, record] of records) {
    const v = recordVector(definition, pk, record);
    if (v === undefined) continue;
    entries.push([pk, v]);
    sources.push(vectorAt(definition, record));
  }
  const dim = definition.dim;
  let centroids = givenCentroids(definition);
  let calibration = definition.calibration ?? [];
  if (centroids === undefined && definition.lists >= 0 && entries.length >= definition.trainAt) {
    const points = residentFloats(entries.length * dim);
    for (let i = 0; i < entries.length; i++) points.set((entries[i] as [Key, Float32Array])[1], i * dim);
    centroids = train(definition, points, entries.length).centroids;
    const assign = assignAll(definition, centroids, entries, sources);
    calibration = calibrate(
      points,
      entries.length,
      dim,
      assign,
      centroids,
      centroids.length / dim,
      coarseOf(definition.metric),
    );
    return VectorIndex.pack(definition, centroids, calibration, entries, (_, i) => assign[i] as number);
  }
  if (centroids === undefined) return VectorIndex.pack(definition, undefined, [], entries, () => 0);
  const assign = assignAll(definition, centroids, entries, sources);
  return VectorIndex.pack(definition, centroids, calibration, entries, (_, i) => assign[i] as number);
}

/** The list of every entry (a retraining's precomputed assignments are looked up by vector). */
function assignAll(
  definition: VectorDefinition,
  centroids: Float32Array,
  entries: readonly (readonly [Key, Float32Array])[],
  sources: readonly unknown[],
): Int32Array {
  const memo = definition.centroids === null ? undefined : pendingAssignments.get(definition.centroids);
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
  const assign = new Int32Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const source = sources[i];
    const known =
      memo !== undefined && typeof source === 'object' && source !== null ? memo.get(source) : undefined;
    assign[i] = known ?? probe.listOf((entries[i] as readonly [Key, Float32Array])[1]);
  }
  return assign;
}

function update(index: VectorIndex, pk: Key, before: unknown, after: unknown): VectorIndex {
  const definition = index.definition;
  const next = after === undefined ? undefined : recordVector(definition, pk, after);
  if (before !== undefined && next !== undefined) {
    const old = vectorAt(definition, before);
    if (old === vectorAt(definition, after)) return index;
    const stored = index.vectorOf(pk);
    if (stored?.every((x, i) => x === next[i])) return index;
  }
  const removed = before === undefined ? index : index.without(pk);
  return next === undefined ? removed : removed.with(pk, next);
}

function corrupt(): never {
  return vectorError('corrupt', 'a stored vector index has an unexpected shape; the data is not trusted');
}

function encode(index: VectorIndex): unknown {
  const c = index.centroids;
  return [
    index.blocks,
    index.locations,
    index.counts,
    index.sequences,
    index.size,
    index.trainedSize,
    c === undefined ? null : new Uint8Array(c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength)),
    index.calibration,
  ];
}

function decode(definition: VectorDefinition, stored: unknown): VectorIndex {
  if (!Array.isArray(stored) || stored.length !== 8) return corrupt();
  const [blocks, locations, counts, sequences, size, trainedSize, centroids, calibration] =
    stored as unknown[];
  if (!Array.isArray(calibration)) return corrupt();
  const b = resolveSlot(blocks as Atom);
  const l = resolveSlot(locations as Atom);
  if (!(b instanceof Dictionary) || !(l instanceof Dictionary)) return corrupt();
  if (!Array.isArray(counts) || !Array.isArray(sequences) || typeof size !== 'number') return corrupt();
  if (centroids !== null && !(centroids instanceof Uint8Array)) return corrupt();
  return new VectorIndex(
    definition,
    centroids === null ? undefined : floatsFromBytes(centroids as Uint8Array),
    b as Dictionary<number, StoredBlock>,
    l as Dictionary<Key, number>,
    counts as number[],
    sequences as number[],
    size,
    trainedSize as number,
    calibration as number[],
  );
}

/**
 * The lists to probe: `nprobe` when asked, else the calibrated nprobe for the recall asked (the
 * default 0.95) at neighbour depth `depth` (k, or k / selectivity under a filter).
 */
export function nprobeFor(
  index: VectorIndex,
  request: Pick<NearestRequest, 'nprobe' | 'recall'>,
  depth: number,
  selectivity = 1,
): number {
  const lists = index.lists;
  if (request.nprobe !== undefined) return Math.min(lists, Math.ceil(request.nprobe / selectivity));
  if (request.recall === undefined && index.definition.nprobe > 0)
    return Math.min(lists, Math.ceil(index.definition.nprobe / selectivity));
  const recall = request.recall ?? DEFAULT_RECALL;
  if (recall > 0.99) return lists;
  const calibrated = calibratedNprobe(index.calibration, recall, depth);
  return Math.min(lists, Math.max(1, calibrated ?? Math.ceil(Math.max(4, lists * 0.05) / selectivity)));
}

/** The recall the default nprobe aims at. */
const DEFAULT_RECALL = 0.95;

function nearestPaths(
  index: VectorIndex,
  request: NearestRequest,
  context: NearestContext,
): readonly NearestPath<VectorIndex>[] {
  const definition = index.definition;
  if (request.path !== definition.path) return [];
  if (request.metric !== undefined && request.metric !== definition.metric)
    invalid(
      `nearest('${request.path}'): the index is built for the ${definition.metric} metric, not ${request.metric}`,
    );
  const stored = storedVector(request.vector, definition.dim, definition.metric, 'the query vector');
  // Each search copies it into the kernels' memory (a reused range), so they read it in place.
  const query = () => residentCopy(stored);
  const { k } = request;
  const n = Math.max(index.size, 1);
  const distanceCost = definition.dim * COST_PER_COMPONENT;
  const filter = context.filter;
  const base = `${definition.path} k=${k} ${definition.metric}`;
  // Filter tests of a scan: only vectors that would enter the top k are tested (~k ln n).
  const tests = (scored: number) => (filter === undefined ? 0 : k * Math.log(scored + 1) * 2 * C_FETCH);
  const paths: NearestPath<VectorIndex>[] = [
    {
      operator: 'VectorScan',
      detail: `${base} exact over ${index.size} vectors${filter === undefined ? '' : `, filter ${filter.text}`}`,
      cost: n * distanceCost + tests(n),
      scored: index.size,
      exact: true,
      usesCandidates: false,
      search: (current, f) => exactScan(current, query(), k, f),
    },
  ];
  if (filter !== undefined) {
    paths.push({
      operator: 'VectorPrefilter',
      detail: `${base} exact over the filter's ~${Math.round(filter.rows)} candidates`,
      cost: filter.cost + filter.rows * (C_SEEK + distanceCost),
      scored: filter.rows,
      exact: true,
      usesCandidates: true,
      search: (current, f) =>
        prefilterScan(current, stored, k, f as NonNullable<typeof f>, (record) =>
          vectorAt(definition, record),
        ),
    });
  }
  if (index.trained) {
    const lists = index.lists;
    const nprobe = nprobeFor(index, request, k);
    const perList = n / lists;
    // With a filter keeping a fraction s of the records, the k-th nearest match lies, on
    // average, as far as the (k/s)-th nearest of all, and often farther: probe the lists
    // calibrated for depth 2k/s, then more until k records match (see ivfScan).
    const selectivity = filter === undefined ? 1 : Math.max(filter.selectivity, 1e-6);
    const minLists =
      filter === undefined ? nprobe : nprobeFor(index, request, (2 * k) / selectivity, selectivity);
    const scored = Math.min(n, minLists * perList);
    paths.push({
      operator: filter === undefined ? 'IvfScan' : 'IvfIterativeScan',
      detail:
        filter === undefined
          ? `${base} nprobe=${nprobe}/${lists} lists (~${Math.round(scored)} vectors)`
          : `${base} filter ${filter.text} (selectivity ~${selectivity.toPrecision(2)}): ${minLists}/${lists} lists, then more until ${k} match`,
      // Per list a tree descent; under a filter the scan goes on past minLists until the top k
      // settles (about half as many vectors again, measured on the bench's data).
      cost:
        lists * distanceCost +
        minLists * C_SEEK +
        (filter === undefined ? 1 : 1.5) * scored * distanceCost +
        tests(scored),
      scored,
      exact: false,
      usesCandidates: false,
      search: (current, f) =>
        current.trained
          ? ivfScan(current, query(), k, nprobe, f, minLists)
          : exactScan(current, query(), k, f),
    });
  }
  return paths;
}

/** The vector index kind. */
export const vectorIndexKind: IndexKind<VectorDefinition, VectorIndex> = {
  name: 'proto.vector',
  package: '@proto/vector',
  define,
  build,
  update,
  encode,
  decode,
  describe: (index) => ({
    on: `${index.definition.path} (${index.definition.metric}, dim ${index.dim}, ${index.trained ? `ivf ${index.lists} lists` : 'flat'})`,
    entries: index.size,
    keys: index.lists,
    covered: index.size,
  }),
  accessPaths: () => [],
  nearestPaths,
};

registerIndexKind(vectorIndexKind);

/**
 * `createIndex(name, vectorIndex({ path, dim }))`: a vector index on the field at `path`.
 * @example
 * IndexedCollection.empty<Product, string>({ key: 'id', indexes: { byEmbedding: vectorIndex({ path: 'embedding', dim: 384 }) } })
 */
export function vectorIndex(options: VectorIndexOptions): KindIndexSpec {
  return { kind: vectorIndexKind as IndexKind, options };
}
