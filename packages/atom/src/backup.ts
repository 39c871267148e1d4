/**
 * What `space.backup(target)` takes and reports (the copy itself is in `space/backup.ts`).
 */

/** Progress of a backup: atoms copied so far. */
export interface BackupProgress {
  readonly phase: 'copy' | 'done';
  readonly atoms: number;
  readonly bytes: number;
}

/** What a backup copied. */
export interface BackupReport {
  /** The commit copied: the target opens at this sequence. */
  readonly sequence: number;
  readonly timestamp: number;
  readonly atoms: number;
  readonly bytes: number;
}

export interface BackupOptions {
  readonly onProgress?: (progress: BackupProgress) => void;
}
