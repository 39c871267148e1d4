/**
 * The errors of `@proto/query`: a `ProtoError` with layer `query`, and a dedicated subclass for
 * unique-index violations so callers can tell them apart from other invalid arguments.
 */
import { ProtoError, type ProtoErrorReason } from '@proto/atom';

/** Raised by queries and indexes: bad paths, bad operators, unknown indexes, unregistered key functions. */
export class QueryError extends ProtoError {}

/**
 * A write would give two records the same key in a unique index. Reason `invalid-argument`
 * (retrying the same write cannot help); `index`, `key` and both primary keys are in the fields
 * and in `details`. Nothing was changed.
 */
export class UniqueConstraintError extends QueryError {
  constructor(
    /** The unique index. */
    readonly index: string,
    /** The index key that is already taken. */
    readonly key: unknown,
    /** The primary key of the record that holds `key`. */
    readonly existing: unknown,
    /** The primary key of the record that was being written. */
    readonly incoming: unknown,
  ) {
    super({
      layer: 'query',
      reason: 'invalid-argument',
      message: `unique index '${index}' already holds key ${show(key)} for record ${show(existing)}; record ${show(incoming)} cannot take it (change the value or delete the other record first)`,
      details: { kind: 'unique-violation', index, key, existing, incoming },
    });
  }
}

/** True when `error` is a unique-index violation (by brand of the details, not `instanceof`). */
export function isUniqueViolation(error: unknown): error is UniqueConstraintError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { details?: { kind?: unknown } }).details?.kind === 'unique-violation'
  );
}

/** @internal */
export function queryError(reason: ProtoErrorReason, message: string): never {
  throw new QueryError({ layer: 'query', reason, message });
}

/** @internal */
export function invalidArgument(message: string): never {
  return queryError('invalid-argument', message);
}

/** @internal A short printable form of a value for messages and explain output. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date)
    return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
