/**
 * What `space.verify()` takes and reports (the walk itself is in `space/verify.ts`).
 */
import type { AtomPointer } from './storage/backend.js';

/** One atom that could not be read or decoded. */
export interface VerifyProblem {
  /** The damaged atom. */
  readonly pointer: AtomPointer;
  /** The atom that refers to it (`undefined` for the backend's root). */
  readonly parent: AtomPointer | undefined;
  /**
   * The error's reason: `corrupt` (bytes or shape damaged), `not-found` (a reference to an
   * atom the backend does not have), `unsupported` (a type whose package was not imported, or a
   * newer format), or another storage reason (`io` ...).
   */
  readonly reason: string;
  /** The error's message; a backend names the place (for the file backend: segment file and offset). */
  readonly message: string;
}

/** Progress of a verification: atoms checked so far. */
export interface VerifyProgress {
  readonly atoms: number;
  readonly problems: number;
}

export interface VerifyOptions {
  readonly onProgress?: (progress: VerifyProgress) => void;
  /** Stop after this many problems (default 100). The report says whether it stopped early. */
  readonly maxProblems?: number;
}

/** What `space.verify()` found. */
export interface VerifyReport {
  /** The commit whose root was walked. */
  readonly sequence: number;
  /** Atoms read and decoded, each once. */
  readonly atoms: number;
  /** The atoms that failed, in the order met; empty when everything reachable is sound. */
  readonly problems: readonly VerifyProblem[];
  /** True when the walk stopped at `maxProblems` before visiting everything. */
  readonly truncated: boolean;
}
