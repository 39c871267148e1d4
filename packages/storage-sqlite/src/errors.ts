/**
 * Error construction for this package: every failure becomes a `StorageError` whose message
 * names the package and the location, with SQLite's result code mapped to a contract reason.
 */
import { isProtoError, StorageError } from '@proto/atom/storage';

export const LAYER = 'storage-sqlite';

type Reason = ConstructorParameters<typeof StorageError>[0]['reason'];

export function storageError(
  reason: Reason,
  message: string,
  extra: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {},
): StorageError {
  return new StorageError({ layer: LAYER, reason, message, ...extra });
}

/** The SQLite result code (`SQLITE_BUSY`, `SQLITE_IOERR_FSYNC` ...) carried by a driver error. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function reasonFor(code: string | undefined): { reason: Reason; retryable: boolean } {
  if (code === undefined) return { reason: 'io', retryable: false };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return { reason: 'locked', retryable: true };
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return { reason: 'corrupt', retryable: false };
  if (code === 'SQLITE_TOOBIG') return { reason: 'too-large', retryable: false };
  return { reason: 'io', retryable: false };
}

/**
 * Turns whatever a driver call threw into a `StorageError` (ProtoBase errors pass through).
 * `what` says what was being done and where: `commit to /data/app.db`.
 */
export function translate(error: unknown, what: string): unknown {
  if (isProtoError(error)) return error;
  const code = sqliteCode(error);
  const { reason, retryable } = reasonFor(code);
  const detail = error instanceof Error ? error.message : String(error);
  const hint =
    reason === 'locked'
      ? '; another connection held the database longer than busy_timeout allows, retry or raise busyTimeoutMs'
      : '';
  return storageError(reason, `${what} failed: ${detail}${code === undefined ? '' : ` (${code})`}${hint}`, {
    cause: error,
    retryable,
  });
}
