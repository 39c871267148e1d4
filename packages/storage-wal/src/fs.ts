/**
 * The file layer the WAL backend runs on. Everything the backend does to the disk goes through
 * one `WalFileSystem`, so tests (and cautious users) can count calls or inject failures such as
 * ENOSPC on write or EIO on fsync. `nodeFileSystem` is the default, backed by `node:fs`.
 *
 * Errors are thrown (or rejected) as `node:fs` does: an `Error` with a string `code`.
 */
import * as fs from 'node:fs';

export interface WalFileSystem {
  /** Opens a file and returns a descriptor. `flags` as in `node:fs` (`r`, `r+`, `wx`, `wx+`). */
  open(path: string, flags: string, mode?: number): number;
  close(fd: number): void;
  /** Positional read; returns the number of bytes read (0 at end of file). */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Positional write; returns the number of bytes written (possibly fewer than asked). */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /**
   * Makes the file's data durable (fdatasync). With `inline` true the layer may make it on the
   * calling thread and return a settled promise (the default layer does); a layer may ignore
   * the hint. Failures reject either way.
   */
  sync(fd: number, inline?: boolean): Promise<void>;
  /** Shrinks (or grows) the file to `length` bytes. */
  truncate(fd: number, length: number): void;
  /** The file's current size in bytes. */
  size(fd: number): number;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): void;
  /** Creates a hard link; fails with EEXIST if `to` exists (an atomic create-with-contents). */
  link(from: string, to: string): void;
  unlink(path: string): void;
  /** File names in a directory; throws ENOENT if it does not exist. */
  readdir(path: string): string[];
  /** Creates the directory and its parents (no error if it exists). */
  mkdir(path: string, mode: number): void;
  /** Makes the directory's entries (creations, renames, deletions) durable. */
  syncDir(path: string): Promise<void>;
  /** The canonical absolute path (symlinks resolved). */
  realpath(path: string): string;
}

/**
 * The default file layer: `node:fs`, synchronous except for the two durability barriers (and
 * a file sync asked for `inline`).
 */
export const nodeFileSystem: WalFileSystem = Object.freeze({
  open: (path: string, flags: string, mode?: number) => fs.openSync(path, flags, mode),
  close: (fd: number) => fs.closeSync(fd),
  read: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) =>
    fs.readSync(fd, buffer, offset, length, position),
  write: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) =>
    fs.writeSync(fd, buffer, offset, length, position),
  sync: (fd: number, inline = false) => {
    if (!inline)
      return new Promise<void>((resolve, reject) =>
        fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())),
      );
    try {
      fs.fdatasyncSync(fd);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  },
  truncate: (fd: number, length: number) => fs.ftruncateSync(fd, length),
  size: (fd: number) => fs.fstatSync(fd).size,
  rename: (from: string, to: string) => fs.renameSync(from, to),
  link: (from: string, to: string) => fs.linkSync(from, to),
  unlink: (path: string) => fs.unlinkSync(path),
  readdir: (path: string) => fs.readdirSync(path),
  mkdir: (path: string, mode: number) => {
    fs.mkdirSync(path, { recursive: true, mode });
  },
  syncDir: (path: string) =>
    new Promise<void>((resolve, reject) => {
      fs.open(path, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        fs.fsync(fd, (syncError) => {
          fs.close(fd, (closeError) => {
            const error = syncError ?? closeError;
            if (error) reject(error);
            else resolve();
          });
        });
      });
    }),
  realpath: (path: string) => fs.realpathSync(path),
});

/** Reads exactly `length` bytes at `position`; fewer only at end of file. Returns the count. */
export function readFully(
  files: WalFileSystem,
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = files.read(fd, buffer, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buffer[offset, offset + length)` at `position`, looping over short writes. */
export function writeFully(
  files: WalFileSystem,
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    const n = files.write(fd, buffer, offset + done, length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += n;
  }
}

/** Reads a whole (small) file, or returns undefined when it does not exist. */
export function readWholeFile(files: WalFileSystem, path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = files.open(path, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = files.size(fd);
    const buffer = new Uint8Array(size);
    const n = readFully(files, fd, buffer, 0, size, 0);
    return buffer.subarray(0, n);
  } finally {
    files.close(fd);
  }
}

/** Closes a descriptor on an error path, where a second failure must not hide the first. */
export function closeQuietly(files: WalFileSystem, fd: number): void {
  try {
    files.close(fd);
  } catch {
    // the first failure is the one to report
  }
}
