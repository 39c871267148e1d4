/**
 * Small building blocks for scenarios: single-atom writes and chains of commits whose atoms
 * name their predecessor, so a scenario can walk back from any root and check what it finds.
 */
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectBytes, jsonAtom, parseJsonAtom } from './assertions.js';

/** Records `atoms` under the `pointers` a write returned for them, in `into`. */
export function remember(
  into: Map<AtomPointer, Uint8Array>,
  pointers: readonly AtomPointer[],
  atoms: readonly Uint8Array[],
): Map<AtomPointer, Uint8Array> {
  for (const [i, pointer] of pointers.entries()) into.set(pointer, atoms[i] as Uint8Array);
  return into;
}

/** Writes one atom and returns its pointer. */
export async function writeOne(backend: StorageBackend, bytes: Uint8Array): Promise<AtomPointer> {
  const pointers = await backend.writeAtoms([bytes]);
  assert.strictEqual(pointers.length, 1, 'writeAtoms returns one pointer per atom');
  return pointers[0] as AtomPointer;
}

/** The content of a chain node: its predecessor root and a label. */
export interface ChainNode {
  readonly prev: AtomPointer | null;
  readonly label: string;
}

/** Writes a chain node (without committing it) and returns its pointer and bytes. */
export async function writeNode(
  backend: StorageBackend,
  prev: AtomPointer | null,
  label: string,
): Promise<{ pointer: AtomPointer; bytes: Uint8Array }> {
  const bytes = jsonAtom({ prev, label } satisfies ChainNode);
  return { pointer: await writeOne(backend, bytes), bytes };
}

/** Writes a node after `prev` and commits it; fails unless the compare-and-set wins. */
export async function commitNode(
  backend: StorageBackend,
  prev: AtomPointer | null,
  label: string,
): Promise<AtomPointer> {
  const { pointer } = await writeNode(backend, prev, label);
  assert.isTrue(
    await backend.compareAndSetRoot(prev, pointer),
    `compareAndSetRoot(${JSON.stringify(prev)}, node ${label})`,
  );
  return pointer;
}

/** Follows `prev` links from `root` to the start; returns the labels, newest first. */
export async function walkChain(backend: StorageBackend, root: AtomPointer | null): Promise<string[]> {
  const labels: string[] = [];
  const seen = new Set<AtomPointer>();
  for (let pointer = root; pointer !== null; ) {
    assert.isFalse(seen.has(pointer), `the chain loops at ${pointer}`);
    seen.add(pointer);
    const node = parseJsonAtom<ChainNode>(await backend.readAtom(pointer));
    labels.push(node.label);
    pointer = node.prev;
  }
  return labels;
}

/** Fails unless `root` holds exactly `bytes`. */
export async function expectAtom(
  backend: StorageBackend,
  pointer: AtomPointer,
  bytes: Uint8Array,
  what: string,
) {
  expectBytes(await backend.readAtom(pointer), bytes, what);
}
