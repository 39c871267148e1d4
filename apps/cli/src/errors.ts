/**
 * The CLI's errors and exit codes. Every failure ends the process with a message on stderr
 * (a JSON object with `--json`) and one of these codes; scripts branch on the code.
 */
import { isProtoError } from '@proto/atom';

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** Anything not listed below (an I/O error, an unsupported operation ...). */
  failed: 1,
  /** Bad arguments or an input file that is not valid. */
  usage: 2,
  /** No database at the path, or no such database, root or key. */
  notFound: 3,
  /** Another process holds the database for writing. */
  locked: 4,
  /** The path holds something that is not a ProtoBase database. */
  foreign: 5,
  /** The database is damaged (found on open, or by `verify`). */
  damaged: 6,
} as const;

export type CliReason =
  | 'usage'
  | 'invalid-input'
  | 'not-found'
  | 'locked'
  | 'foreign'
  | 'corrupt'
  | 'unsupported'
  /** A write to a studio started without `--write`. */
  | 'read-only';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly reason: CliReason,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  const reason = error instanceof CliError ? error.reason : isProtoError(error) ? error.reason : undefined;
  switch (reason) {
    case 'usage':
    case 'invalid-input':
    case 'invalid-argument':
      return EXIT.usage;
    case 'not-found':
      return EXIT.notFound;
    case 'locked':
      return EXIT.locked;
    case 'foreign':
      return EXIT.foreign;
    case 'corrupt':
      return EXIT.damaged;
    default:
      return EXIT.failed;
  }
}

/** A one-line description of an error for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (isProtoError(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
