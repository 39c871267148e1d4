/**
 * The codec's error constructors. Callers `throw` the result so that control flow stays
 * visible to TypeScript.
 */
import { CodecError } from '../errors.js';

/** Stored bytes fail a check: the frame is not trusted. `offset` is from the frame start. */
export function corrupt(message: string, offset?: number): CodecError {
  return new CodecError({
    layer: 'atom',
    reason: 'corrupt',
    message: `corrupt frame: ${message}${offset === undefined ? '' : ` at byte ${offset}`}`,
    details: offset === undefined ? {} : { offset },
  });
}

/** The caller passed a value or option the codec does not accept. */
export function invalidArgument(message: string, details?: Readonly<Record<string, unknown>>): CodecError {
  return new CodecError({ layer: 'atom', reason: 'invalid-argument', message, details: details ?? {} });
}

/** A value exceeds one of the codec's limits. */
export function tooLarge(message: string): CodecError {
  return new CodecError({ layer: 'atom', reason: 'too-large', message });
}
