/**
 * The error type of `@proto/collections`: a `ProtoError` with layer `collections`.
 */
import { ProtoError, type ProtoErrorReason } from '@proto/atom';

/** Raised by collections: unsupported keys, indexes out of range, malformed stored nodes. */
export class CollectionError extends ProtoError {}

/** @internal Throws a `CollectionError` with reason `invalid-argument`. */
export function invalidArgument(message: string, details?: Readonly<Record<string, unknown>>): never {
  throw new CollectionError({
    layer: 'collections',
    reason: 'invalid-argument',
    message,
    ...(details === undefined ? {} : { details }),
  });
}

/** @internal Throws a `CollectionError` with the given reason. */
export function collectionError(reason: ProtoErrorReason, message: string): never {
  throw new CollectionError({ layer: 'collections', reason, message });
}
