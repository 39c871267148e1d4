/**
 * What a rollback journal (`<file>-journal`) beside a database file means for opening it.
 *
 * SQLite writes the journal before it changes the database and deletes it at commit, so a
 * process killed in the middle of a write transaction leaves a "hot" journal that the next
 * connection must play back before it may read. A read-only connection cannot, and fails with
 * `SQLITE_READONLY_ROLLBACK`; a read-write one plays it back, which writes to the file. Whether
 * ProtoBase may do that to a file it has not yet recognized as its own depends on what the
 * rollback restores, which the journal's header says (https://sqlite.org/fileformat.html#the_rollback_journal):
 * it records the database's size in pages when the transaction began, and copies of the pages
 * the transaction changed.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The rollback journal's magic number, the first 8 bytes of its header. */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
const JOURNAL_HEADER_BYTES = 28;
/** Page 1 holds the 100-byte file header, then the b-tree header of `sqlite_schema`. */
const SCHEMA_BTREE_HEADER = 100;
const LEAF_TABLE_PAGE = 0x0d;

/**
 * - `none`: no journal SQLite would play back (none at all, empty, or starting with a zero byte);
 * - `empty-after-rollback`: playing it back leaves a database with no schema objects at all:
 *   the transaction began on an empty file (0 pages) or on a lone page 1 with an empty
 *   `sqlite_schema`. This is what a creation killed before its tables were committed leaves;
 * - `holds-data`: playing it back restores something else (or the header is not SQLite's).
 */
export type JournalState = 'none' | 'empty-after-rollback' | 'holds-data';

/** Up to `length` bytes of `file` from `position` (fewer if it is shorter). */
function readAt(file: string, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
  } finally {
    closeSync(fd);
  }
}

/** Whether `page` (page 1 of a database, or its start) shows an empty `sqlite_schema`. */
function emptySchemaPage(page: Buffer): boolean {
  return (
    page.length >= SCHEMA_BTREE_HEADER + 5 &&
    page[SCHEMA_BTREE_HEADER] === LEAF_TABLE_PAGE &&
    page.readUInt16BE(SCHEMA_BTREE_HEADER + 3) === 0
  );
}

/**
 * Classifies the journal of the database `path` without changing anything. Throws the file
 * system's error if a file exists but cannot be read.
 */
export function journalState(path: string): JournalState {
  const journal = `${path}-journal`;
  let header: Buffer;
  try {
    header = readAt(journal, 0, JOURNAL_HEADER_BYTES);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ENOENT') return 'none';
    throw error;
  }
  // SQLite itself ignores a journal whose first byte is zero (or that is empty).
  if (header.length === 0 || header[0] === 0) return 'none';
  if (header.length < JOURNAL_HEADER_BYTES || !header.subarray(0, 8).equals(JOURNAL_MAGIC))
    return 'holds-data';
  const initialPages = header.readUInt32BE(16);
  const sectorBytes = header.readUInt32BE(20);
  const pageBytes = header.readUInt32BE(24);
  // Playback truncates the database to its size when the transaction began.
  if (initialPages === 0) return 'empty-after-rollback';
  if (initialPages > 1) return 'holds-data';
  // One page: page 1 ends up as the journal's copy of it (when the journal holds one) or as it
  // is now. Both must show an empty schema; a table would have needed a second page anyway.
  const current = readAt(path, 0, SCHEMA_BTREE_HEADER + 8);
  if (!emptySchemaPage(current)) return 'holds-data';
  if (sectorBytes < JOURNAL_HEADER_BYTES || sectorBytes > 65_536 || pageBytes > 65_536) return 'holds-data';
  // The first record follows the header (padded to a sector): page number, then the page.
  const record = readAt(journal, sectorBytes, 4 + SCHEMA_BTREE_HEADER + 8);
  if (record.length < 4) return 'empty-after-rollback';
  if (record.readUInt32BE(0) !== 1) return 'holds-data';
  if (record.length < 4 + SCHEMA_BTREE_HEADER + 8) return 'empty-after-rollback';
  return emptySchemaPage(record.subarray(4)) ? 'empty-after-rollback' : 'holds-data';
}
