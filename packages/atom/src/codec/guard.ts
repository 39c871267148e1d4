/**
 * The error boundary of the public codec functions: the caller's hook errors pass through
 * unchanged, ProtoBase errors pass through, anything else becomes a `CodecError`, so no
 * RangeError or TypeError from a malformed frame ever reaches the caller.
 */
import { CodecError, isProtoError } from '../errors.js';
import { HookFailure } from './decoder.js';

/** Maps an error caught while reading a frame to what the caller should see. */
export function decodeFailure(error: unknown): unknown {
  if (error instanceof HookFailure) return error.error;
  if (isProtoError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const tooLarge = error instanceof RangeError || code === 'ERR_STRING_TOO_LONG';
  return new CodecError({
    layer: 'atom',
    reason: tooLarge ? 'too-large' : 'corrupt',
    message: tooLarge ? `decoded value exceeds an engine limit: ${message}` : `corrupt frame: ${message}`,
    cause: error,
  });
}
