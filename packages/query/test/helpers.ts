/** Shared test fixtures: a memory-backed space that can be closed and reopened. */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';

export interface Opened {
  readonly space: ObjectSpace;
  readonly location: MemoryLocation;
}

export async function openSpace(location: MemoryLocation = createMemoryLocation()): Promise<Opened> {
  const space = await ObjectSpace.open(await openMemoryBackend({ location }));
  return { space, location };
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly age?: number | null;
  readonly email?: string;
  readonly country?: string;
  readonly tags?: readonly string[];
  readonly address?: { readonly city?: string; readonly zip?: string };
}

/** Sorts a copy by a string key: to compare results of queries without orderBy. */
export function byId<T extends { id: string | number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
