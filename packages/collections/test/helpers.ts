/**
 * Shared test helpers: a memory-backed space that can be closed and reopened, key arbitraries
 * and a canonical form of keys for plain `Map` models.
 */
import { isConflict, ObjectSpace, type Transaction } from '@proto/atom';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { expect } from 'vitest';
import { branchCapacity, nodeCapacity } from '../src/config.js';
import { compareKeys, type Key } from '../src/index.js';
import { KBranch, type KNode, type KSlot } from '../src/internal/keyed-node.js';
import { load } from '../src/internal/keyed-tree.js';

export interface SpaceHandle {
  space: ObjectSpace;
  readonly location: MemoryLocation;
}

export async function openSpace(
  location: MemoryLocation = createMemoryLocation(),
  maxAtoms = 1000,
): Promise<SpaceHandle> {
  const space = await ObjectSpace.open(await openMemoryBackend({ location }), { cache: { maxAtoms } });
  return { space, location };
}

export async function reopen(handle: SpaceHandle, maxAtoms = 1000): Promise<void> {
  await handle.space.close();
  handle.space = await ObjectSpace.open(await openMemoryBackend({ location: handle.location }), {
    cache: { maxAtoms },
  });
}

/** Stores `value` as root `name` and reads it back through a fresh transaction. */
export async function roundTrip<T>(
  handle: SpaceHandle,
  name: string,
  value: T,
  mode: 'commit' | 'evict' | 'reopen',
): Promise<T> {
  const db = handle.space.database('test');
  const tx = db.begin();
  tx.set(name, value);
  await tx.commit();
  if (mode === 'evict') handle.space.evictCaches();
  if (mode === 'reopen') await reopen(handle);
  const read = handle.space.database('test').begin({ readOnly: true }).get<T>(name);
  if (read === undefined) throw new Error(`root ${name} missing after ${mode}`);
  return read;
}

/** Canonical string of a key: equal keys (by the collection order) give equal strings. */
export function canon(key: unknown): string {
  if (key === null) return 'n';
  switch (typeof key) {
    case 'boolean':
      return key ? 't' : 'f';
    case 'number':
      return Number.isNaN(key) ? 'N' : `d${key === 0 ? 0 : key}`;
    case 'bigint':
      return `b${key}`;
    case 'string':
      return `s${JSON.stringify(key)}`;
    default:
      break;
  }
  if (key instanceof Date) return `D${key.getTime()}`;
  if (key instanceof Uint8Array) return `u${[...key].join(',')}`;
  if (Array.isArray(key)) return `[${key.map(canon).join(';')}]`;
  throw new Error(`not a key: ${String(key)}`);
}

const scalarKey: fc.Arbitrary<Key> = fc.oneof(
  fc.integer({ min: -30, max: 30 }),
  fc.string({ maxLength: 3 }),
  fc.constantFrom(null, true, false, Number.NaN, -0, 0.5, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
  fc.bigInt({ min: -30n, max: 30n }),
  fc.integer({ min: 0, max: 5 }).map((t) => new Date(t * 1000)),
  fc.uint8Array({ maxLength: 2, max: 3 }),
);

/** Keys of every supported type, small domains so that collisions and overwrites happen. */
export const anyKey: fc.Arbitrary<Key> = fc.oneof(
  { weight: 6, arbitrary: scalarKey },
  { weight: 1, arbitrary: fc.array(scalarKey, { maxLength: 2 }) },
);

/** String keys from a small domain. */
export const smallString = fc.string({
  minLength: 0,
  maxLength: 3,
  unit: fc.constantFrom('a', 'b', 'c', 'd'),
});

/** Commits `tx`: 'ok', or 'conflict' when the commit conflicts (any other error is thrown). */
export async function commitOutcome(tx: Transaction): Promise<'ok' | 'conflict'> {
  try {
    await tx.commit();
    return 'ok';
  } catch (error) {
    if (isConflict(error)) return 'conflict';
    throw error;
  }
}

/**
 * B+ tree rules: leaves at one depth, keys ascending, branch keys their child's minimum, sizes
 * exact, nodes within capacity, a root branch with two children or more; with `quarterFull`,
 * nodes below the root at least a quarter full (as `remove` and `withChanges` keep them).
 */
export function checkTree(root: KSlot | undefined, rules: { quarterFull?: boolean } = {}): void {
  if (root === undefined) return;
  const depths = new Set<number>();
  const walk = (node: KNode, depth: number): number => {
    if (rules.quarterFull === true && depth > 0)
      expect(node instanceof KBranch ? node.kids.length : node.keys.length).toBeGreaterThanOrEqual(
        (node instanceof KBranch ? branchCapacity() : nodeCapacity()) >>> 2,
      );
    if (!(node instanceof KBranch)) {
      expect(node.keys.length).toBeGreaterThan(0);
      expect(node.keys.length).toBeLessThanOrEqual(nodeCapacity());
      for (let i = 1; i < node.keys.length; i++)
        expect(compareKeys(node.keys[i - 1], node.keys[i])).toBeLessThan(0);
      depths.add(depth);
      return node.keys.length;
    }
    expect(node.kids.length).toBeLessThanOrEqual(branchCapacity());
    let total = 0;
    node.kids.forEach((slot, i) => {
      const child = load(slot);
      expect(compareKeys(node.keys[i], child.keys[0])).toBe(0);
      const count = walk(child, depth + 1);
      expect(node.sizes[i]).toBe(count);
      total += count;
    });
    expect(node.count).toBe(total);
    return total;
  };
  const top = load(root);
  if (top instanceof KBranch) expect(top.kids.length).toBeGreaterThan(1);
  walk(top, 0);
  expect(depths.size).toBe(1);
}
