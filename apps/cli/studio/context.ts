/** What the page's panels share: the overview, the commit shown, and ways to move between views. */
import type { CommitInfo, Json, Overview } from '../src/studio/protocol.js';

export interface Context {
  /** The databases and roots at the commit shown. */
  overview: Overview | null;
  /** The commit shown, or null for the newest (which follows live commits). */
  asOf: number | null;
  /** The commits kept, newest first. */
  commits: readonly CommitInfo[];
  showError(error: unknown): void;
  clearError(): void;
  /** Shows root `root` of `db` (at `path` below it) in the browse panel. */
  openRoot(db: string, root: string, path?: Json[]): void;
  selectTab(name: 'browse' | 'query' | 'history' | 'vectors'): void;
  /** Shows commit `sequence` (null: the newest) everywhere. */
  viewCommit(sequence: number | null): Promise<void>;
}

/** What the user typed as a value: JSON when it parses (`42`, `"42"`, `{"$date":...}`), else the text. */
export function parseInput(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}
