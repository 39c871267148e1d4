/**
 * Verification: reads and decodes every atom reachable from the backend's root (the newest
 * commit record, and through it the kept history, delta chains and every value of every
 * state), each once, from storage rather than from the caches. Stored values inside atoms
 * (segments that normally load lazily) are decoded too. An atom that fails to load is
 * reported with the atom that refers to it, and the walk goes on with the others: one damaged
 * leaf is one problem, not the end of the check.
 */
import { Atom, AtomRef, pointerOf } from '../atom.js';
import { isProtoError } from '../errors.js';
import type { AtomPointer } from '../storage/backend.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from '../verify.js';
import { collectAtoms, NOWHERE } from './persist.js';

/** Progress is reported every this many atoms. */
const PROGRESS_EVERY = 1024;

export interface VerifySource {
  /** The backend's root pointer as stored now, or null for an empty space. */
  readRoot(): Promise<AtomPointer | null>;
  /** Reads and decodes the atom at `pointer` from storage. */
  load(pointer: AtomPointer): Promise<Atom>;
}

export async function verifyFrom(
  source: VerifySource,
  sequence: number,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const maxProblems = options.maxProblems ?? 100;
  const problems: VerifyProblem[] = [];
  const root = await source.readRoot();
  if (root === null) return { sequence, atoms: 0, problems, truncated: false };
  const visited = new Set<AtomPointer>([root]);
  // Depth first with an explicit stack: trees of any height, no recursion limit.
  const stack: { pointer: AtomPointer; parent: AtomPointer | undefined }[] = [
    { pointer: root, parent: undefined },
  ];
  let atoms = 0;
  while (stack.length > 0) {
    if (problems.length >= maxProblems) return { sequence, atoms, problems, truncated: true };
    const { pointer, parent } = stack.pop() as { pointer: AtomPointer; parent: AtomPointer | undefined };
    let children: (Atom | AtomRef)[];
    try {
      const atom = await source.load(pointer);
      children = collectAtoms(atom.toPayload(), NOWHERE);
    } catch (error) {
      problems.push({
        pointer,
        parent,
        reason: isProtoError(error) ? error.reason : 'corrupt',
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    atoms++;
    if (atoms % PROGRESS_EVERY === 0) options.onProgress?.({ atoms, problems: problems.length });
    for (const child of children) {
      const next =
        child instanceof AtomRef ? child.pointer : child instanceof Atom ? pointerOf(child) : undefined;
      // A child held as an unstored object cannot occur in a decoded atom; skip defensively.
      if (next === undefined || visited.has(next)) continue;
      visited.add(next);
      stack.push({ pointer: next, parent: pointer });
    }
  }
  options.onProgress?.({ atoms, problems: problems.length });
  return { sequence, atoms, problems, truncated: false };
}
