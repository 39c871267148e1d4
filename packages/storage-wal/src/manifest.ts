/**
 * The manifest: a small file naming the live segment set and the database salt. It is the one
 * place where the set of segments changes, always by writing `MANIFEST.tmp`, syncing it and
 * renaming it over `MANIFEST` (then syncing the directory), so a crash leaves either the old or
 * the new set, never a mix. Segment files that the manifest does not name are leftovers of an
 * interrupted rollover or compaction and are deleted at the next open.
 *
 * Format: one line of JSON, a newline, the crc32 of that line in hex, a newline.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { corruptError, ioError } from './errors.js';
import { readWholeFile, type WalFileSystem, writeFully } from './fs.js';

export const MANIFEST_FILE = 'MANIFEST';
export const MANIFEST_TEMP_FILE = 'MANIFEST.tmp';
export const FILE_MODE = 0o600;
export const DIRECTORY_MODE = 0o700;

export interface Manifest {
  /** Seeds every record checksum, so records copied from another database never validate here. */
  readonly salt: number;
  /** Live segment ids, ascending; appends go to the last one. */
  readonly segments: readonly number[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeManifest(manifest: Manifest): Uint8Array {
  const body = JSON.stringify({
    format: 'proto-wal',
    version: 1,
    salt: manifest.salt,
    segments: manifest.segments,
  });
  return encoder.encode(`${body}\n${crc32(body).toString(16).padStart(8, '0')}\n`);
}

/** The manifest in `dir`, undefined when there is none; throws `corrupt` if it fails its checks. */
export function readManifest(files: WalFileSystem, dir: string): Manifest | undefined {
  const file = join(dir, MANIFEST_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readWholeFile(files, file);
  } catch (error) {
    throw ioError('reading', file, error);
  }
  if (bytes === undefined) return undefined;
  const text = decoder.decode(bytes);
  const lines = text.split('\n');
  const body = lines[0] ?? '';
  if (lines.length !== 3 || lines[2] !== '' || lines[1] !== crc32(body).toString(16).padStart(8, '0')) {
    throw corruptError(file, 0, 'manifest checksum mismatch');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw corruptError(file, 0, 'manifest is not JSON', error);
  }
  const record = parsed as { format?: unknown; version?: unknown; salt?: unknown; segments?: unknown };
  if (
    record.format !== 'proto-wal' ||
    record.version !== 1 ||
    typeof record.salt !== 'number' ||
    !Number.isInteger(record.salt) ||
    !Array.isArray(record.segments) ||
    !record.segments.every((id, i, all) => Number.isInteger(id) && id >= 1 && (i === 0 || id > all[i - 1]))
  ) {
    throw corruptError(file, 0, 'manifest has an unknown format');
  }
  return { salt: record.salt >>> 0, segments: record.segments as number[] };
}

/** Replaces the manifest atomically and durably. */
export async function writeManifest(files: WalFileSystem, dir: string, manifest: Manifest): Promise<void> {
  const temp = join(dir, MANIFEST_TEMP_FILE);
  const file = join(dir, MANIFEST_FILE);
  const bytes = encodeManifest(manifest);
  try {
    try {
      files.unlink(temp);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
    const fd = files.open(temp, 'wx', FILE_MODE);
    try {
      writeFully(files, fd, bytes, 0, bytes.byteLength, 0);
      await files.sync(fd);
    } finally {
      files.close(fd);
    }
    files.rename(temp, file);
    await files.syncDir(dir);
  } catch (error) {
    throw ioError('writing', file, error);
  }
}
