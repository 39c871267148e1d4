/**
 * Error construction for this package: every failure becomes a `StorageError` whose message
 * names the package and the location, with PostgreSQL's SQLSTATE (or the socket's error code)
 * mapped to a contract reason and to whether retrying can help.
 */
import { isProtoError, StorageError } from '@proto/atom/storage';

export const LAYER = 'storage-postgres';

type Reason = ConstructorParameters<typeof StorageError>[0]['reason'];

export function storageError(
  reason: Reason,
  message: string,
  extra: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {},
): StorageError {
  return new StorageError({ layer: LAYER, reason, message, ...extra });
}

/** The SQLSTATE (`40001`) or Node.js error code (`ECONNRESET`) a driver error carries. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Serialization failure or deadlock: the server rolled the transaction back; run it again. */
export function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  return code === '40001' || code === '40P01';
}

const SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The connection broke while a statement was on it (the socket closed, the server shut down or
 * terminated the session): whatever the statement was doing may or may not have committed.
 */
export function isConnectionLost(error: unknown): boolean {
  if (isProtoError(error)) return false;
  const code = errorCode(error);
  if (code !== undefined) {
    if (SOCKET_CODES.has(code)) return true;
    // 08: connection exception; 57P01-57P03: admin / crash shutdown, cannot connect now.
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** The server could not be reached at all: nothing was sent. */
export function isNotConnected(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && NOT_CONNECTED_CODES.has(code);
}

interface Mapping {
  readonly reason: Reason;
  readonly retryable: boolean;
  readonly hint: string;
}

function mappingFor(error: unknown): Mapping {
  const code = errorCode(error);
  if (isNotConnected(error) || isConnectionLost(error))
    return {
      reason: 'io',
      retryable: true,
      hint: '; the PostgreSQL server is unreachable or went away, retry once it is back',
    };
  if (isTransient(error))
    return {
      reason: 'io',
      retryable: true,
      hint: '; the server kept aborting the transaction (serialization failure or deadlock), retry',
    };
  switch (code) {
    case '53100':
      return { reason: 'io', retryable: false, hint: "; the server's disk is full, free space on it" };
    case '53200':
    case '53300':
    case '53400':
      return {
        reason: 'io',
        retryable: true,
        hint: '; the server is out of memory or connections, retry later or lower the pool size',
      };
    case '54000':
    case '54001':
      return { reason: 'too-large', retryable: false, hint: '' };
    case '25006':
      return {
        reason: 'io',
        retryable: true,
        hint: '; the server is read-only (a standby?), connect to the primary',
      };
    case '28000':
    case '28P01':
    case '3D000':
      return {
        reason: 'invalid-argument',
        retryable: false,
        hint: '; check the connection string (user, password, database)',
      };
    case '42501':
      return {
        reason: 'invalid-argument',
        retryable: false,
        hint: '; the user lacks a privilege on the schema or tables, grant it',
      };
    case '3F000':
    case '42P01':
      return {
        reason: 'corrupt',
        retryable: false,
        hint: "; the backend's tables are gone (dropped?), restore them",
      };
    case 'XX001':
    case 'XX002':
      return {
        reason: 'corrupt',
        retryable: false,
        hint: '; the server reports damaged data, restore from a backup',
      };
    default:
      return { reason: 'io', retryable: false, hint: '' };
  }
}

/**
 * Turns whatever a driver call threw into a `StorageError` (ProtoBase errors pass through).
 * `what` says what was being done and where: `reading the root of public.proto_*`.
 */
export function translate(error: unknown, what: string): unknown {
  if (isProtoError(error)) return error;
  const code = errorCode(error);
  const { reason, retryable, hint } = mappingFor(error);
  const detail = error instanceof Error ? error.message : String(error);
  return storageError(reason, `${what} failed: ${detail}${code === undefined ? '' : ` (${code})`}${hint}`, {
    cause: error,
    retryable,
    ...(code === undefined ? {} : { details: { code } }),
  });
}
