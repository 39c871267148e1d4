/**
 * Prepared statements and transactions over the three tables, with the per-atom checksum
 * check. Everything here is synchronous, as better-sqlite3 is; the backend adds the promises,
 * the commit queue and reclaim on top.
 */
import { crc32 } from 'node:zlib';
import type { AtomPointer } from '@proto/atom/storage';
import type { SqliteDatabaseLike, SqliteStatementLike } from './database-like.js';
import { storageError } from './errors.js';

/** The root and the reclaim bookkeeping, read in one statement (one snapshot). */
export interface StoreState {
  readonly root: AtomPointer | null;
  /** Highest atom id ever issued (0 when none). */
  readonly maxId: number;
  /** Every atom id at or below the fence that survived the latest reclaim was live then. */
  readonly fence: number;
  /** Bumped by every reclaim that committed. */
  readonly generation: number;
}

interface AtomRow {
  readonly crc: unknown;
  readonly bytes: unknown;
}

export class AtomStore {
  private readonly insertAtom: SqliteStatementLike;
  private readonly selectAtom: SqliteStatementLike;
  private readonly selectExists: SqliteStatementLike;
  private readonly selectState: SqliteStatementLike;
  private readonly updateRoot: SqliteStatementLike;

  constructor(
    readonly db: SqliteDatabaseLike,
    /** The location, for messages. */
    readonly where: string,
    /** True when commits switch the connection to `synchronous=FULL` (the durable mode). */
    private readonly syncOnCommit: boolean,
  ) {
    this.insertAtom = db.prepare('INSERT INTO proto_atoms (crc, bytes) VALUES (?, ?)');
    this.selectAtom = db.prepare('SELECT crc, bytes FROM proto_atoms WHERE id = ?');
    this.selectExists = db.prepare('SELECT 1 AS present FROM proto_atoms WHERE id = ?');
    this.selectState = db.prepare(
      `SELECT (SELECT pointer FROM proto_root WHERE id = 1) AS root,
              (SELECT coalesce(max(id), 0) FROM proto_atoms) AS maxId,
              (SELECT value FROM proto_meta WHERE key = 'reclaim_fence') AS fence,
              (SELECT value FROM proto_meta WHERE key = 'reclaim_generation') AS generation`,
    );
    this.updateRoot = db.prepare('UPDATE proto_root SET pointer = ? WHERE id = 1');
  }

  /** Inserts atoms in one transaction (no sync: the next commit's sync covers them). */
  insert(atoms: readonly Uint8Array[]): number[] {
    return this.writeTransaction(false, () =>
      atoms.map((atom) => Number(this.insertAtom.run(crc32(atom), atom).lastInsertRowid)),
    );
  }

  /** The checked bytes of atom `id`, or `undefined` if there is no such atom. */
  read(id: number, pointer: AtomPointer): Uint8Array | undefined {
    const row = this.selectAtom.get(id) as AtomRow | undefined;
    if (row === undefined) return undefined;
    const { crc, bytes } = row;
    if (!(bytes instanceof Uint8Array) || (typeof crc !== 'number' && typeof crc !== 'bigint')) {
      throw storageError(
        'corrupt',
        `atom ${pointer} in ${this.where} has a malformed row (not a blob and checksum)`,
        {
          details: { pointer, location: this.where },
        },
      );
    }
    const actual = crc32(bytes);
    if (actual !== Number(crc)) {
      throw storageError(
        'corrupt',
        `atom ${pointer} in ${this.where} fails its checksum (stored crc32 ${Number(crc)}, computed ${actual}); the database file is damaged, restore it from a backup`,
        { details: { pointer, location: this.where, expected: Number(crc), actual } },
      );
    }
    // better-sqlite3 hands out a Buffer that owns its memory; expose it as a plain Uint8Array.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? new Uint8Array(bytes.buffer, 0, bytes.byteLength)
      : new Uint8Array(bytes);
  }

  exists(id: number): boolean {
    return this.selectExists.get(id) !== undefined;
  }

  state(): StoreState {
    const row = this.selectState.get() as {
      root: unknown;
      maxId: unknown;
      fence: unknown;
      generation: unknown;
    };
    if (row.root !== null && typeof row.root !== 'string') {
      throw storageError(
        'corrupt',
        `the root row of ${this.where} holds a ${typeof row.root}, not a pointer`,
      );
    }
    return {
      root: row.root,
      maxId: Number(row.maxId ?? 0),
      fence: Number(row.fence ?? 0),
      generation: Number(row.generation ?? 0),
    };
  }

  setRoot(pointer: AtomPointer): void {
    this.updateRoot.run(pointer);
  }

  /** `writeTransaction` on this connection; durable in the backend's durable mode. */
  writeTransaction<T>(durable: boolean, body: () => T): T {
    return writeTransaction(this.db, durable && this.syncOnCommit, body);
  }
}

/**
 * Runs `body` in `BEGIN IMMEDIATE` (waiting up to busy_timeout for another connection's write
 * lock) and commits; rolls back if it throws. With `fsync`, the commit runs with
 * `synchronous=FULL`: in WAL mode that fsyncs the WAL, which also covers every frame appended
 * before it, such as atoms inserted without a sync. The connection's baseline is NORMAL.
 */
export function writeTransaction<T>(db: SqliteDatabaseLike, fsync: boolean, body: () => T): T {
  if (fsync) db.exec('PRAGMA synchronous = FULL');
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      rollbackQuietly(db);
      throw error;
    }
  } finally {
    if (fsync) db.exec('PRAGMA synchronous = NORMAL');
  }
}

function rollbackQuietly(db: SqliteDatabaseLike): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // No transaction was active (BEGIN failed, or SQLite already rolled back on the error).
  }
}
