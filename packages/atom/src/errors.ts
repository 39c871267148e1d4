/**
 * The error model shared by every ProtoBase package.
 *
 * One root class, `ProtoError`, with a stable `code`, a discriminated `reason`, the `layer`
 * (package) that raised it and whether retrying can help. Guards test a brand symbol rather than
 * `instanceof`, so they work across duplicated package copies and realms.
 */

/** Why an operation failed. Stable: code may branch on it. */
export type ProtoErrorReason =
  | 'conflict' // another commit changed what this transaction read; retry the transaction
  | 'corrupt' // stored bytes fail their checks; the data is not trusted
  | 'closed' // the space, transaction or backend was already closed or finished
  | 'io' // the medium failed (ENOSPC, EIO, a lost connection ...)
  | 'not-found' // a pointer, root, database or commit does not exist
  | 'invalid-argument' // the caller passed something the API does not accept
  | 'locked' // another process holds the location
  | 'unsupported' // the backend lacks a capability the operation needs
  | 'too-large' // a value or atom exceeds a declared limit
  | 'not-loaded'; // a lazily loaded node is needed but the backend cannot read synchronously

const BRAND = Symbol.for('@proto/error');

export interface ProtoErrorOptions {
  /** The package that raised the error, without the scope: `atom`, `storage-wal` ... */
  readonly layer: string;
  readonly reason: ProtoErrorReason;
  readonly message: string;
  /** Defaults to true for `conflict` and false otherwise. */
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** Structured context (file, offset, pointer ...) for tools; never needed to understand the message. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The root of every error ProtoBase throws on purpose. */
export class ProtoError extends Error {
  /** `PROTO_<REASON>`, e.g. `PROTO_CONFLICT`. */
  readonly code: string;
  readonly reason: ProtoErrorReason;
  readonly layer: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(options: ProtoErrorOptions) {
    super(
      `[proto:${options.layer}] ${options.message}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    Object.defineProperty(this, BRAND, { value: true });
    this.name = new.target.name;
    this.code = `PROTO_${options.reason.toUpperCase().replace(/-/g, '_')}`;
    this.reason = options.reason;
    this.layer = options.layer;
    this.retryable = options.retryable ?? options.reason === 'conflict';
    this.details = options.details ?? {};
  }
}

/** Raised by the kernel: transactions, spaces, databases. */
export class TransactionError extends ProtoError {}

/** Raised by the codec when bytes do not decode or a value cannot be encoded. */
export class CodecError extends ProtoError {}

/** Raised by storage backends and the kernel's guard around them. */
export class StorageError extends ProtoError {}

/** True for any ProtoBase error, whichever copy of the package created it. */
export function isProtoError(error: unknown): error is ProtoError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** True when `error` is a ProtoBase error with the given reason. */
export function hasReason(error: unknown, reason: ProtoErrorReason): error is ProtoError {
  return isProtoError(error) && error.reason === reason;
}

/** True when `error` is a commit conflict: run the transaction again on a fresh snapshot. */
export function isConflict(error: unknown): error is ProtoError {
  return hasReason(error, 'conflict');
}
