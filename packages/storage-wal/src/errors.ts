/**
 * Typed errors raised by the WAL backend. Every message names the package, the file and, where
 * it helps, the offset, and says what to do.
 */
import { StorageError } from '@proto/atom/storage';

export const LAYER = 'storage-wal';

/** Bytes on disk failed a check: a checksum, a magic number, a length that does not chain. */
export function corruptError(file: string, offset: number, what: string, cause?: unknown): StorageError {
  return new StorageError({
    layer: LAYER,
    reason: 'corrupt',
    message: `${what} in ${file} at offset ${offset}; the data there is not trusted (restore from a backup, or compact to keep what is still readable)`,
    details: { file, offset },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The medium failed (ENOSPC, EIO ...). */
export function ioError(operation: string, file: string, cause: unknown, hint?: string): StorageError {
  const code = (cause as { code?: unknown } | null)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return new StorageError({
    layer: LAYER,
    reason: 'io',
    message: `${operation} ${file} failed: ${text}${hint === undefined ? '' : `; ${hint}`}`,
    cause,
    retryable: code === 'EAGAIN' || code === 'EBUSY',
    details: { file, operation, ...(typeof code === 'string' ? { code } : {}) },
  });
}

export function notFoundError(pointer: string, why: string): StorageError {
  return new StorageError({
    layer: LAYER,
    reason: 'not-found',
    message: `no atom under pointer ${JSON.stringify(pointer)}: ${why}`,
    details: { pointer },
  });
}

export function invalidArgument(message: string): StorageError {
  return new StorageError({ layer: LAYER, reason: 'invalid-argument', message });
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
