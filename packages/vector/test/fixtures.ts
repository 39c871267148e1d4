/** Seeded data sets and a brute-force oracle for the vector tests. */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { gaussian, mulberry32 } from '../src/random.ts';

export interface Item {
  readonly id: string;
  readonly category: number;
  /** As `number[]`: the codec stores arrays of numbers (a Float32Array field works in memory only). */
  readonly embedding: readonly number[];
}

/** `n` points around `centres` standard-normal centres (spread 0.35), normalized; categories 0..99. */
export function clustered(n: number, dim: number, seed: number, centres = 50): Item[] {
  const normal = gaussian(mulberry32(seed));
  const random = mulberry32(seed + 1);
  const c = Array.from({ length: centres }, () => Float32Array.from({ length: dim }, normal));
  return Array.from({ length: n }, (_, i) => {
    const centre = c[Math.floor(random() * centres)] as Float32Array;
    const v = Float32Array.from({ length: dim }, (_, j) => (centre[j] as number) + 0.35 * normal());
    return {
      id: `i${String(i).padStart(6, '0')}`,
      category: Math.floor(random() * 100),
      embedding: Array.from(normalize(v)),
    };
  });
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const f = 1 / Math.sqrt(s);
  return v.map((x) => x * f);
}

export type Metric = 'cosine' | 'euclidean' | 'inner-product';

/** The distance in float64 over float32 inputs. */
export function distance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  return metric === 'cosine' ? 1 - dot / Math.sqrt(na * nb) : metric === 'euclidean' ? l2 : -dot;
}

/** The exact k nearest of `items` (ties by id). */
export function bruteForce(
  items: readonly Item[],
  query: ArrayLike<number>,
  k: number,
  metric: Metric = 'cosine',
): { id: string; distance: number }[] {
  return items
    .map((it) => ({ id: it.id, distance: distance(metric, query, it.embedding) }))
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k);
}

/** |found ∩ truth| / |truth|. */
export function recall(found: readonly string[], truth: readonly string[]): number {
  if (truth.length === 0) return 1;
  const t = new Set(truth);
  return found.filter((id) => t.has(id)).length / truth.length;
}

export async function openSpace(location: MemoryLocation = createMemoryLocation()) {
  const space = await ObjectSpace.open(await openMemoryBackend({ location }));
  return { space, location };
}
