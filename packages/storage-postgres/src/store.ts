/**
 * The statements over the atoms and root tables, with the per-atom checksum check and the
 * retry of transient failures. One statement is one round trip and, outside an explicit
 * transaction, one transaction of its own.
 */
import { crc32 } from 'node:zlib';
import type { AtomPointer } from '@proto/atom/storage';
import type { BlockingReader } from './blocking.js';
import { isConnectionLost, isNotConnected, isTransient, storageError } from './errors.js';
import { idOf, pointerOf } from './pointer.js';
import type { PostgresPoolLike } from './pool-like.js';
import type { Tables } from './schema.js';

/** How often a statement the server aborted (40001, 40P01) or whose connection broke is retried. */
export const RETRIES = 4;

/** Rows per INSERT statement, and the bytes one statement carries at most (beyond one atom). */
const INSERT_ROWS = 500;
const INSERT_BYTES = 16 * 1024 * 1024;
/** Checksums of the atoms written last that the store keeps, for the compare-and-set's check. */
const CHECKSUMS_KEPT = 4096;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Backoff before retry `attempt` (1-based): 5, 20, 80, 320 ms, with jitter. */
export function backoff(attempt: number): Promise<void> {
  return pause(5 * 4 ** (attempt - 1) * (0.5 + Math.random()));
}

/**
 * Runs an idempotent (or harmlessly repeatable) operation, again after a serialization failure,
 * a deadlock, a broken or refused connection, up to `RETRIES` times.
 */
export async function withRetries<T>(body: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await body();
    } catch (error) {
      if (attempt > RETRIES || !(isTransient(error) || isConnectionLost(error) || isNotConnected(error)))
        throw error;
      await backoff(attempt);
    }
  }
}

interface AtomRow {
  readonly id: unknown;
  readonly crc: unknown;
  readonly bytes: unknown;
}

export class AtomStore {
  /**
   * Inserts the atoms; one statement per chunk. Each statement lowers its own transaction's
   * `synchronous_commit` to `off`: its WAL is flushed by the next compare-and-set's commit (WAL
   * is flushed in order), which is when the contract makes these atoms durable.
   */
  private readonly insertHead: string;
  /** The crc32 of the atoms this store inserted lately, by id, oldest first. */
  private readonly checksums = new Map<number, number>();

  constructor(
    readonly pool: PostgresPoolLike,
    readonly tables: Tables,
  ) {
    this.insertHead = `SELECT set_config('synchronous_commit', 'off', true)`;
  }

  get where(): string {
    return this.tables.where;
  }

  async insert(atoms: readonly Uint8Array[]): Promise<AtomPointer[]> {
    const pointers: AtomPointer[] = [];
    let start = 0;
    while (start < atoms.length) {
      let end = start + 1;
      let bytes = atoms[start]?.byteLength ?? 0;
      while (
        end < atoms.length &&
        end - start < INSERT_ROWS &&
        bytes + (atoms[end]?.byteLength ?? 0) <= INSERT_BYTES
      ) {
        bytes += atoms[end]?.byteLength ?? 0;
        end += 1;
      }
      pointers.push(...(await this.insertChunk(atoms.slice(start, end))));
      start = end;
    }
    return pointers;
  }

  /**
   * One statement: the ids are drawn in a CTE that is materialized once (it calls `nextval`), so
   * the INSERT and the answer see the same ids, returned in the order of the atoms.
   */
  private async insertChunk(atoms: readonly Uint8Array[]): Promise<AtomPointer[]> {
    const values: unknown[] = [];
    const rows = atoms.map((atom, i) => {
      // A copy: the caller may change its buffer once the call returns.
      values.push(crc32(atom), Buffer.from(atom));
      return `(${i}, $${2 * i + 1}::bigint, $${2 * i + 2}::bytea)`;
    });
    const t = this.tables;
    const text = `WITH input (ord, crc, bytes) AS (VALUES ${rows.join(', ')}),
      numbered AS (SELECT nextval('${t.atomIds}'::regclass) AS id, ord, crc, bytes FROM input ORDER BY ord),
      relaxed AS (${this.insertHead}),
      stored AS (INSERT INTO ${t.atoms} (id, crc, bytes) SELECT id, crc, bytes FROM numbered)
      SELECT id FROM numbered, relaxed ORDER BY ord`;
    const { rows: ids } = await withRetries(() => this.pool.query(text, values));
    if (ids.length !== atoms.length) {
      throw storageError(
        'io',
        `inserting ${atoms.length} atoms into ${this.where} returned ${ids.length} ids`,
      );
    }
    return ids.map((row, i) => {
      const id = Number((row as { id: unknown }).id);
      this.remember(id, values[2 * i] as number);
      return pointerOf(id);
    });
  }

  private remember(id: number, checksum: number): void {
    this.checksums.set(id, checksum);
    if (this.checksums.size > CHECKSUMS_KEPT) {
      for (const oldest of this.checksums.keys()) {
        this.checksums.delete(oldest);
        break;
      }
    }
  }

  /**
   * The crc32 this store wrote atom `id` with, when it is among the last few thousand it
   * inserted; `undefined` otherwise. A compare-and-set checks the new root against it: an id
   * the server issued again after losing the atom in a crash holds other bytes.
   */
  writtenChecksum(id: number): number | undefined {
    return this.checksums.get(id);
  }

  /** The checked bytes of each pointer, in order; `not-found` when any is missing. */
  async read(pointers: readonly AtomPointer[]): Promise<Uint8Array[]> {
    const ids = this.idsOf(pointers);
    const unique = [...new Set(ids)];
    const text =
      unique.length === 1
        ? `SELECT id, crc, bytes FROM ${this.tables.atoms} WHERE id = $1`
        : `SELECT id, crc, bytes FROM ${this.tables.atoms} WHERE id = ANY($1::bigint[])`;
    const { rows } = await withRetries(() =>
      this.pool.query(text, [unique.length === 1 ? unique[0] : unique]),
    );
    return this.answer(pointers, ids, rows as AtomRow[]);
  }

  /** `read`, blocking the thread on `reader` (see `blocking.ts`) instead of awaiting the pool. */
  readBlocking(pointers: readonly AtomPointer[], reader: BlockingReader): Uint8Array[] {
    const ids = this.idsOf(pointers);
    return this.answer(pointers, ids, reader.read([...new Set(ids)]));
  }

  private idsOf(pointers: readonly AtomPointer[]): number[] {
    return pointers.map((pointer) => {
      const id = idOf(pointer);
      if (id === undefined) throw this.notFound(pointer);
      return id;
    });
  }

  /** The checked bytes of each pointer from the rows a SELECT returned for `ids`. */
  private answer(
    pointers: readonly AtomPointer[],
    ids: readonly number[],
    rows: readonly AtomRow[],
  ): Uint8Array[] {
    const byId = new Map<number, AtomRow>();
    for (const row of rows) byId.set(Number(row.id), row);
    return pointers.map((pointer, i) => {
      const row = byId.get(ids[i] as number);
      if (row === undefined) throw this.notFound(pointer);
      return this.checked(row, pointer);
    });
  }

  /** Which of `ids` exist (one statement). */
  async existing(ids: readonly number[]): Promise<Set<number>> {
    const { rows } = await this.pool.query(
      `SELECT id FROM ${this.tables.atoms} WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Set(rows.map((row) => Number((row as { id: unknown }).id)));
  }

  async readRoot(): Promise<AtomPointer | null> {
    const { rows } = await withRetries(() =>
      this.pool.query(`SELECT pointer FROM ${this.tables.root} WHERE id = 1`),
    );
    const pointer = (rows[0] as { pointer?: unknown } | undefined)?.pointer;
    if (rows.length !== 1 || (pointer !== null && typeof pointer !== 'string')) {
      throw storageError('corrupt', `the root row of ${this.where} is missing or does not hold a pointer`);
    }
    return pointer;
  }

  checked(row: AtomRow, pointer: AtomPointer): Uint8Array {
    const { crc, bytes } = row;
    if (!(bytes instanceof Uint8Array) || (typeof crc !== 'string' && typeof crc !== 'number')) {
      throw storageError(
        'corrupt',
        `atom ${pointer} in ${this.where} has a malformed row (not bytea and checksum)`,
        {
          details: { pointer, location: this.where },
        },
      );
    }
    const actual = crc32(bytes);
    if (actual !== Number(crc)) {
      throw storageError(
        'corrupt',
        `atom ${pointer} in ${this.where} fails its checksum (stored crc32 ${Number(crc)}, computed ${actual}); the table is damaged, restore it from a backup`,
        { details: { pointer, location: this.where, expected: Number(crc), actual } },
      );
    }
    // pg hands out a Buffer (often a slice of a pool); expose a plain Uint8Array of its own.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? new Uint8Array(bytes.buffer, 0, bytes.byteLength)
      : new Uint8Array(bytes);
  }

  notFound(pointer: AtomPointer) {
    return storageError('not-found', `no atom ${JSON.stringify(pointer)} in ${this.where}`, {
      details: { pointer },
    });
  }
}
