/**
 * Database files as a process killed in the middle of a rollback-journal write leaves them: the
 * file plus a hot `-journal`, made by SQLite itself (a transaction whose cache spilled to the
 * file, copied before it ends) or written byte by byte where SQLite leaves that state only for
 * an instant (after a commit wrote the file, before it deleted the journal).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

type Connection = InstanceType<typeof Database>;

const PAGE_BYTES = 4096;
const SECTOR_BYTES = 512;
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/**
 * Runs `setup` on a new rollback-mode database at `scratch`, then starts a transaction that
 * writes about 300 KiB into table `spill` (more than a 10-page cache holds, so SQLite writes
 * the journal and then pages of the file), copies the file and its journal to `path` and
 * `path-journal`, and rolls the original back. `path` is then exactly what a kill at that
 * moment leaves.
 */
export function spilledTransaction(scratch: string, path: string, setup: (db: Connection) => void): void {
  const db = new Database(scratch);
  try {
    setup(db);
    db.pragma('cache_size = 10');
    db.exec('BEGIN');
    db.exec('CREATE TABLE IF NOT EXISTS spill (bytes BLOB)');
    const insert = db.prepare('INSERT INTO spill (bytes) VALUES (?)');
    for (let i = 0; i < 100; i += 1) insert.run(Buffer.alloc(3000, i));
    if (!existsSync(`${scratch}-journal`)) throw new Error('the transaction did not spill to a journal');
    copyFileSync(scratch, path);
    copyFileSync(`${scratch}-journal`, `${path}-journal`);
    db.exec('ROLLBACK');
  } finally {
    db.close();
  }
}

/** SQLite's checksum of a journaled page: the nonce plus every 200th byte from the end. */
function pageChecksum(nonce: number, page: Buffer): number {
  let sum = nonce;
  for (let i = page.length - 200; i > 0; i -= 200) sum = (sum + (page[i] as number)) >>> 0;
  return sum;
}

/**
 * Writes `path-journal` as SQLite does in DELETE mode: a header saying the transaction began
 * on `initialPages` pages, then one record per page of `pages` (page number, bytes, checksum).
 */
export function writeJournal(path: string, initialPages: number, pages: ReadonlyMap<number, Buffer>): void {
  const nonce = 0x2f1c_b00d;
  const header = Buffer.alloc(SECTOR_BYTES);
  JOURNAL_MAGIC.copy(header, 0);
  header.writeUInt32BE(pages.size, 8);
  header.writeUInt32BE(nonce, 12);
  header.writeUInt32BE(initialPages, 16);
  header.writeUInt32BE(SECTOR_BYTES, 20);
  header.writeUInt32BE(PAGE_BYTES, 24);
  const records = [...pages].map(([number, page]) => {
    if (page.length !== PAGE_BYTES) throw new Error(`page ${number} is not ${PAGE_BYTES} bytes`);
    const record = Buffer.alloc(4 + PAGE_BYTES + 4);
    record.writeUInt32BE(number, 0);
    page.copy(record, 4);
    record.writeUInt32BE(pageChecksum(nonce, page), 4 + PAGE_BYTES);
    return record;
  });
  writeFileSync(`${path}-journal`, Buffer.concat([header, ...records]));
}

/**
 * A rollback-mode database of one page and no tables, as `PRAGMA auto_vacuum = INCREMENTAL`
 * leaves a new file (the first thing ProtoBase writes when it creates one). Returns page 1.
 */
export function tablelessPageOne(path: string, userVersion = 0): Buffer {
  const db = new Database(path);
  db.pragma('auto_vacuum = INCREMENTAL');
  if (userVersion !== 0) db.pragma(`user_version = ${userVersion}`);
  db.close();
  const file = readFileSync(path);
  if (file.length !== PAGE_BYTES) throw new Error(`expected one page, got ${file.length} bytes`);
  return file;
}
