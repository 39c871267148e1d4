/**
 * The root compare-and-set, in one SQL transaction that is also the commit's durability
 * barrier, and what happens around it:
 * - The fast path is one statement: a conditional `UPDATE ... WHERE pointer IS NOT DISTINCT FROM
 *   $expected` (READ COMMITTED re-checks the condition after waiting for a racing writer's row
 *   lock, so of two racers exactly one matches), which also logs the new pointer in the commits
 *   table, under `synchronous_commit = on` (raised from `off`/`local` for this transaction only),
 *   so it resolves only once its WAL, and every atom written before it, is flushed.
 * - After a reclaim, a commit whose base root is at or below the reclaim's fence takes the slow
 *   path: the root row locked (`FOR UPDATE`), the commit's new atoms walked to check that the
 *   reclaim did not delete what they refer to, then the update.
 * - A serialization failure or deadlock (40001, 40P01) rolls back on the server: run again.
 * - The update also requires `next` to be stored, with the checksum it was written with when
 *   this backend wrote it: atoms are written without waiting for a flush, so a server that
 *   crashed or restarted between a commit's writes and its compare-and-set may have lost them,
 *   and installing that root would leave the location pointing at missing atoms. Such a commit
 *   is refused with a retryable `conflict` (run the transaction again: it writes its atoms
 *   again). `next` present is enough: WAL is replayed in order, and every atom `next` refers to
 *   was written (committed) before `next`, so it survived if `next` did.
 * - A connection that breaks after the statement was sent, or whose answer does not come within
 *   `answerMs`, leaves the outcome unknown. It is settled by looking: the old session is
 *   terminated if it still runs, then the commits table says whether `next` was installed.
 *   When the server cannot be asked that within `settleMs`, the call rejects with a retryable
 *   `io` error whose details say the outcome is unknown. Every wait is bounded: a dead or hung
 *   server fails the call, it never leaves it (or the calls queued behind it) waiting.
 */
import { randomUUID } from 'node:crypto';
import type { AtomPointer } from '@proto/atom/storage';
import { answeringWithin, type Checkout, checkoutWithin, rollback, withinTime } from './connection.js';
import { isConnectionLost, isTransient, storageError, translate } from './errors.js';
import { idOf, pointerOf } from './pointer.js';
import type { PostgresClientLike } from './pool-like.js';
import { referencesOf } from './references.js';
import { type AtomStore, backoff, RETRIES, withRetries } from './store.js';

/** How often settling a lost commit tries to reach the server, and the pause before each try. */
const SETTLE_DELAYS_MS = [0, 50, 200, 500, 1000, 2000];

/** The bounds on what a compare-and-set waits for, in milliseconds. */
export interface CompareAndSetTimeouts {
  /** For a pooled connection, per attempt (nothing was sent yet: a plain retryable `io` error). */
  readonly connectMs: number;
  /**
   * For the answer to each statement. Long enough for a commit waiting on the root row's lock
   * (a reclaim's cleanup holds it); past it the connection is treated as broken and settled.
   */
  readonly answerMs: number;
  /** For settling a commit whose connection broke: how long to try asking the server. */
  readonly settleMs: number;
}

export const DEFAULT_TIMEOUTS: CompareAndSetTimeouts = {
  connectMs: 10_000,
  answerMs: 30_000,
  settleMs: 5_000,
};

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Raise the transaction's synchronous_commit to `on` unless the server asks for more. */
const DURABLE =
  "set_config('synchronous_commit', CASE WHEN current_setting('synchronous_commit') IN ('off', 'local') THEN 'on' ELSE current_setting('synchronous_commit') END, true)";

class LostConnection extends Error {
  constructor(
    readonly processId: number | undefined,
    override readonly cause: unknown,
  ) {
    super('connection lost');
  }
}

type Outcome = boolean | 'locked-path';

export class RootSwapper {
  /** Marks this instance's statements in `pg_stat_activity`, so a lost session can be found. */
  private readonly marker = `/* proto-cas ${randomUUID()} */`;

  constructor(
    private readonly store: AtomStore,
    private readonly timeouts: CompareAndSetTimeouts = DEFAULT_TIMEOUTS,
  ) {}

  private get tables() {
    return this.store.tables;
  }

  async compareAndSet(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    const expectedId = expected === null ? 0 : (idOf(expected) ?? 0);
    for (let attempt = 1; ; attempt += 1) {
      let connection: Checkout;
      try {
        // Nothing was sent if this fails: a plain retryable error.
        connection = await withRetries(() =>
          checkoutWithin(this.store.pool, this.timeouts.connectMs, this.store.where),
        );
      } catch (error) {
        throw translate(error, `connecting to commit a new root to ${this.store.where}`);
      }
      const processId =
        typeof connection.client.processID === 'number' ? connection.client.processID : undefined;
      const client = answeringWithin(connection.client, this.timeouts.answerMs);
      let released = false;
      try {
        let outcome = await this.fastPath(client, expected, next, expectedId);
        if (outcome === 'locked-path') outcome = await this.lockedPath(client, expected, next);
        return outcome;
      } catch (error) {
        if (isConnectionLost(error)) {
          // Destroyed before settling, so that settling finds a free slot in the pool.
          released = true;
          connection.release(true);
          return await this.settle(next, new LostConnection(processId, error));
        }
        if (isTransient(error) && attempt <= RETRIES) {
          await backoff(attempt);
          continue;
        }
        throw translate(error, `committing root ${next} to ${this.store.where}`);
      } finally {
        if (!released) connection.release(false);
      }
    }
  }

  /**
   * One statement; `locked-path` when the root matched but a reclaim's fence asks for the check.
   * Throws `conflict` when the root matched but `next` is not stored as it was written.
   */
  private async fastPath(
    client: PostgresClientLike,
    expected: AtomPointer | null,
    next: AtomPointer,
    expectedId: number,
  ): Promise<Outcome> {
    const t = this.tables;
    const nextId = idOf(next) ?? -1;
    const checksum = this.store.writtenChecksum(nextId) ?? null;
    const stored = (id: string, crc: string) =>
      `SELECT 1 FROM ${t.atoms} WHERE id = ${id} AND (${crc}::bigint IS NULL OR crc = ${crc}::bigint)`;
    const swap = await client.query(
      `${this.marker} WITH durable AS (SELECT ${DURABLE}), stored AS (${stored('$4', '$5')}),
        moved AS (UPDATE ${t.root} SET pointer = $2 FROM durable, stored
                   WHERE id = 1 AND pointer IS NOT DISTINCT FROM $1 AND (fence = 0 OR fence < $3) RETURNING pointer)
       INSERT INTO ${t.commits} (pointer) SELECT pointer FROM moved`,
      [expected, next, expectedId, nextId, checksum],
    );
    if (swap.rowCount === 1) return true;
    const { rows } = await client.query(
      `SELECT pointer, EXISTS (${stored('$1', '$2')}) AS stored FROM ${t.root} WHERE id = 1`,
      [nextId, checksum],
    );
    const row = rows[0] as { pointer: unknown; stored: unknown } | undefined;
    if (row?.pointer !== expected) return false;
    if (row.stored !== true) throw this.lostAtoms(next);
    return 'locked-path';
  }

  private lostAtoms(next: AtomPointer) {
    return storageError(
      'conflict',
      `atom ${next}, the root this commit installs, is not stored in ${this.store.where} as it was written: the server lost it, most likely in a crash or restart between the commit's writes and its compare-and-set (atoms are written without waiting for a flush); nothing was installed, run the transaction again`,
      { details: { pointer: next, next } },
    );
  }

  /** The root row locked; refuses (`conflict`) a commit that refers to atoms a reclaim deleted. */
  private async lockedPath(
    client: PostgresClientLike,
    expected: AtomPointer | null,
    next: AtomPointer,
  ): Promise<boolean> {
    const t = this.tables;
    await client.query('BEGIN');
    try {
      const { rows } = await client.query(
        `${this.marker} SELECT pointer, fence, ${DURABLE} AS durable FROM ${t.root} WHERE id = 1 FOR UPDATE`,
      );
      const row = rows[0] as { pointer: unknown; fence: unknown } | undefined;
      if (row?.pointer !== expected) {
        await client.query('ROLLBACK');
        return false;
      }
      const missing = await this.missingAfterReclaim(client, next, Number(row.fence));
      if (missing !== undefined) {
        await client.query('ROLLBACK');
        throw storageError(
          'conflict',
          `a reclaim of ${this.store.where} deleted atom ${missing}, which this commit refers to, before the commit arrived (its atoms were written before the reclaim started); run the transaction again`,
          { details: { pointer: missing, next } },
        );
      }
      await client.query(
        `${this.marker} WITH moved AS (UPDATE ${t.root} SET pointer = $1 WHERE id = 1 RETURNING pointer)
         INSERT INTO ${t.commits} (pointer) SELECT pointer FROM moved`,
        [next],
      );
      await client.query('COMMIT');
      return true;
    } catch (error) {
      if (!isConnectionLost(error)) await rollback(client);
      throw error;
    }
  }

  /**
   * Every atom at or below the fence that survived the reclaim was live then, so its subtree is
   * whole: walk from `next` through atoms above the fence (this commit's new atoms), one batch
   * per level, and check that each reference at or below the fence still exists. Returns the
   * first missing pointer, or `undefined`.
   */
  private async missingAfterReclaim(
    client: PostgresClientLike,
    next: AtomPointer,
    fence: number,
  ): Promise<AtomPointer | undefined> {
    const seen = new Set<number>();
    let frontier: AtomPointer[] = [next];
    while (frontier.length > 0) {
      const above: number[] = [];
      const below = new Map<number, AtomPointer>();
      for (const pointer of frontier) {
        const id = idOf(pointer);
        if (id === undefined || seen.has(id)) continue;
        seen.add(id);
        if (id > fence) above.push(id);
        else below.set(id, pointer);
      }
      if (below.size > 0) {
        const { rows } = await client.query(
          `SELECT id FROM ${this.tables.atoms} WHERE id = ANY($1::bigint[])`,
          [[...below.keys()]],
        );
        const present = new Set(rows.map((row) => Number((row as { id: unknown }).id)));
        for (const [id, pointer] of below) if (!present.has(id)) return pointer;
      }
      frontier = [];
      if (above.length > 0) {
        const { rows } = await client.query(
          `SELECT id, crc, bytes FROM ${this.tables.atoms} WHERE id = ANY($1::bigint[])`,
          [above],
        );
        for (const row of rows as { id: unknown; crc: unknown; bytes: unknown }[]) {
          const bytes = this.store.checked(row, String(row.id));
          frontier.push(...referencesOf(bytes));
        }
        if (rows.length < above.length) {
          const found = new Set(rows.map((row) => Number((row as { id: unknown }).id)));
          return pointerOf(above.find((id) => !found.has(id)) as number);
        }
      }
    }
    return undefined;
  }

  /**
   * The connection broke with the commit in flight. Terminates the old session if it still runs
   * one of this instance's statements (so it cannot commit after we looked), then looks `next`
   * up in the commits table.
   */
  private async settle(next: AtomPointer, lost: LostConnection): Promise<boolean> {
    const t = this.tables;
    const deadline = Date.now() + this.timeouts.settleMs;
    const ask = (text: string, values: readonly unknown[]) =>
      withinTime(this.store.pool.query(text, values), Math.max(1, deadline - Date.now()));
    let lastError: unknown = lost.cause;
    for (const delay of SETTLE_DELAYS_MS) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (delay > 0) await pause(Math.min(delay, left));
      try {
        if (lost.processId !== undefined) {
          const running = `FROM pg_stat_activity WHERE pid = $1 AND position($2 in query) > 0 AND state <> 'idle'`;
          const values = [lost.processId, this.marker];
          await ask(`SELECT pg_terminate_backend(pid) ${running}`, values);
          while ((await ask(`SELECT 1 ${running}`, values)).rows.length > 0) {
            if (Date.now() >= deadline)
              throw new Error(`session ${lost.processId} does not end after pg_terminate_backend`);
            await pause(20);
          }
        }
        const { rows } = await ask(
          `SELECT EXISTS (SELECT 1 FROM ${t.commits} WHERE pointer = $1) AS committed`,
          [next],
        );
        return (rows[0] as { committed: unknown } | undefined)?.committed === true;
      } catch (error) {
        lastError = error;
      }
    }
    throw storageError(
      'io',
      `the connection to ${this.store.where} broke while committing root ${next}, and the server could not be asked since whether that commit happened (${lastError instanceof Error ? lastError.message : String(lastError)}); read the root again once the server is back, then retry`,
      { cause: lost.cause, retryable: true, details: { outcome: 'unknown', next } },
    );
  }
}
