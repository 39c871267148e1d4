/** What an atom refers to, through the kernel's codec (the one place this package decodes). */
import { atomReferences } from '@proto/atom/codec';
import type { AtomPointer } from '@proto/atom/storage';

/** The pointers in `bytes`, or `[]` when they are not a codec atom (raw bytes refer to nothing). */
export function referencesOf(bytes: Uint8Array): readonly AtomPointer[] {
  try {
    return atomReferences(bytes);
  } catch {
    return [];
  }
}

/** The pointers in `bytes`; throws the codec's error when they do not decode. */
export function strictReferencesOf(bytes: Uint8Array): readonly AtomPointer[] {
  return atomReferences(bytes);
}
