/**
 * Online space reclaim: mark what the current root (and `keep`) reaches, then delete every
 * other atom that existed when the reclaim started.
 *
 * 1. scan: one statement reads the root, the fence of the latest reclaim and the highest atom id
 *    (this reclaim's fence). Atoms reachable from the root are read one batch per tree level
 *    and their ids recorded in a temporary table of the reclaim's own session. Commits go on.
 * 2. cleanup: one transaction locks the root row (commits wait for it), marks what roots
 *    committed since the scan reach, deletes unmarked atoms at or below the fence (atoms written
 *    after the scan began are above it and kept), records the fence in the root row and prunes
 *    the commits log. A commit whose atoms were written before the fence but whose
 *    compare-and-set comes after it is checked against the fence by the compare-and-set and
 *    refused with `conflict` rather than left dangling (see `RootSwapper`).
 * Each step is one transaction, so a crash anywhere leaves the same root and contents.
 * `bytesBefore` and `bytesAfter` count the bytes of stored atoms: PostgreSQL reuses the freed
 * pages once (auto)vacuum has run; its files shrink only with `VACUUM FULL`.
 */
import {
  type AtomPointer,
  hasReason,
  type ReclaimOptions,
  type ReclaimProgress,
  type ReclaimReport,
} from '@proto/atom/storage';
import { type Checkout, checkout, rollback } from './connection.js';
import { storageError, translate } from './errors.js';
import { idOf } from './pointer.js';
import type { PostgresClientLike } from './pool-like.js';
import { strictReferencesOf } from './references.js';
import { pruneCommits } from './schema.js';
import type { AtomStore } from './store.js';

/** Atoms read in one statement during the scan. */
const SCAN_BATCH = 1000;
/** Ids covered by one DELETE statement during cleanup. */
const DELETE_SPAN = 20_000;
/** A reclaim restarts its scan when another process's reclaim deleted atoms under it. */
const MAX_ATTEMPTS = 5;

class RestartScan extends Error {}

interface Start {
  readonly root: AtomPointer | null;
  readonly previousFence: number;
  readonly fence: number;
}

/** Marks atoms live in the session's temporary table, one batch of reads per tree level. */
class Marker {
  readonly marked = new Set<number>();

  constructor(
    private readonly store: AtomStore,
    private readonly client: PostgresClientLike,
    private readonly live: string,
    private readonly onMissing: (pointer: AtomPointer) => Promise<never>,
    private readonly report: (done: number) => void,
  ) {}

  async mark(roots: readonly (AtomPointer | null)[]): Promise<void> {
    let frontier = roots.filter((pointer): pointer is AtomPointer => pointer !== null);
    while (frontier.length > 0) {
      const ids = new Map<number, AtomPointer>();
      for (const pointer of frontier) {
        const id = idOf(pointer);
        if (id === undefined) {
          throw storageError(
            'corrupt',
            `the live graph of ${this.store.where} refers to ${JSON.stringify(pointer)}, which this backend never issues; reclaim stopped without deleting anything`,
          );
        }
        if (!this.marked.has(id)) ids.set(id, pointer);
      }
      frontier = [];
      const batch = [...ids.keys()];
      for (let start = 0; start < batch.length; start += SCAN_BATCH) {
        const slice = batch.slice(start, start + SCAN_BATCH);
        const { rows } = await this.client.query(
          `SELECT id, crc, bytes FROM ${this.store.tables.atoms} WHERE id = ANY($1::bigint[])`,
          [slice],
        );
        const found = new Map(rows.map((row) => [Number((row as { id: unknown }).id), row as never]));
        for (const id of slice) {
          const pointer = ids.get(id) as AtomPointer;
          const row = found.get(id);
          if (row === undefined) await this.onMissing(pointer);
          const bytes = this.store.checked(row as never, pointer);
          let references: readonly AtomPointer[];
          try {
            references = strictReferencesOf(bytes);
          } catch (error) {
            throw storageError(
              'corrupt',
              `atom ${pointer} of ${this.store.where} is reachable from the root but does not decode (${error instanceof Error ? error.message : String(error)}); reclaim stopped without deleting anything`,
              { cause: error },
            );
          }
          this.marked.add(id);
          frontier.push(...references);
        }
        await this.client.query(
          `INSERT INTO ${this.live} (id) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING`,
          [slice],
        );
        this.report(this.marked.size);
      }
    }
  }
}

/** Runs one reclaim (see the module comment). */
export async function runReclaim(store: AtomStore, options: ReclaimOptions): Promise<ReclaimReport> {
  const report = (progress: ReclaimProgress) => options.onProgress?.(progress);
  const t = store.tables;
  let connection: Checkout;
  try {
    connection = await checkout(store.pool);
  } catch (error) {
    throw translate(error, `connecting to reclaim space in ${store.where}`);
  }
  const { client } = connection;
  const live = `pg_temp."${t.prefix}reclaim_live"`;
  let broken = false;
  try {
    const { rows: sizes } = await client.query(
      `SELECT coalesce(sum(octet_length(bytes)), 0)::bigint AS n FROM ${t.atoms}`,
    );
    const bytesBefore = Number((sizes[0] as { n: unknown }).n);
    const keep = options.keep ?? [];
    if (keep.length > 0) {
      try {
        await store.read(keep);
      } catch (error) {
        const pointer = (error as { details?: { pointer?: unknown } }).details?.pointer;
        if (hasReason(error, 'not-found')) {
          throw storageError(
            'not-found',
            `atom ${String(pointer)} to keep does not exist in ${store.where}; reclaim stopped without deleting anything`,
            { details: { pointer } },
          );
        }
        throw error;
      }
    }
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS "${t.prefix}reclaim_live" (id bigint PRIMARY KEY)`);
    for (let attempt = 1; ; attempt += 1) {
      await client.query(`TRUNCATE ${live}`);
      const { rows } = await client.query(
        `SELECT pointer, fence, (SELECT coalesce(max(id), 0) FROM ${t.atoms}) AS max FROM ${t.root} WHERE id = 1`,
      );
      const row = rows[0] as { pointer: AtomPointer | null; fence: unknown; max: unknown };
      const start: Start = { root: row.pointer, previousFence: Number(row.fence), fence: Number(row.max) };
      const missing = async (pointer: AtomPointer): Promise<never> => {
        const now = await client.query(`SELECT fence FROM ${t.root} WHERE id = 1`);
        if (
          Number((now.rows[0] as { fence: unknown }).fence) !== start.previousFence &&
          attempt < MAX_ATTEMPTS
        ) {
          throw new RestartScan();
        }
        throw storageError(
          'corrupt',
          `atom ${pointer} is reachable from the root of ${store.where} but missing; reclaim stopped without deleting anything`,
          { details: { pointer } },
        );
      };
      const marker = new Marker(store, client, live, missing, (done) => report({ phase: 'scan', done }));
      report({ phase: 'scan', done: 0 });
      try {
        await marker.mark([start.root, ...keep]);
        const freed = await sweep(store, client, marker, live, start, report);
        if (freed === undefined) continue; // another reclaim committed meanwhile: scan again
        const liveAtoms = marker.marked.size;
        report({ phase: 'done', done: liveAtoms, total: liveAtoms });
        return { liveAtoms, bytesBefore, bytesAfter: Math.max(0, bytesBefore - freed) };
      } catch (error) {
        if (error instanceof RestartScan) continue;
        throw error;
      }
    }
  } catch (error) {
    broken = await rollback(client);
    throw translate(error, `reclaiming space in ${store.where}`);
  } finally {
    if (!broken) {
      try {
        await client.query(`DROP TABLE IF EXISTS ${live}`);
      } catch {
        broken = true;
      }
    }
    connection.release(broken);
  }
}

/**
 * The cleanup transaction; resolves the bytes freed, or `undefined` when another reclaim
 * committed since the scan (its deletions may have raced the scan's reads).
 */
async function sweep(
  store: AtomStore,
  client: PostgresClientLike,
  marker: Marker,
  live: string,
  start: Start,
  report: (progress: ReclaimProgress) => void,
): Promise<number | undefined> {
  const t = store.tables;
  await client.query('BEGIN');
  try {
    const { rows } = await client.query(`SELECT pointer, fence FROM ${t.root} WHERE id = 1 FOR UPDATE`);
    const now = rows[0] as { pointer: AtomPointer | null; fence: unknown };
    if (Number(now.fence) !== start.previousFence) {
      await client.query('ROLLBACK');
      return undefined;
    }
    if (now.pointer !== start.root) await marker.mark([now.pointer]);
    const garbage = `FROM ${t.atoms} a WHERE a.id <= $1 AND NOT EXISTS (SELECT 1 FROM ${live} l WHERE l.id = a.id)`;
    const counted = await client.query(`SELECT count(*) AS n ${garbage}`, [start.fence]);
    const total = Number((counted.rows[0] as { n: unknown }).n);
    report({ phase: 'cleanup', done: 0, total });
    let deleted = 0;
    let freed = 0;
    for (let low = 0; low < start.fence && deleted < total; low += DELETE_SPAN) {
      const result = await client.query(
        `WITH gone AS (DELETE ${garbage} AND a.id > $2 RETURNING octet_length(a.bytes) AS n)
         SELECT count(*) AS atoms, coalesce(sum(n), 0)::bigint AS bytes FROM gone`,
        [Math.min(low + DELETE_SPAN, start.fence), low],
      );
      const row = result.rows[0] as { atoms: unknown; bytes: unknown };
      deleted += Number(row.atoms);
      freed += Number(row.bytes);
      report({ phase: 'cleanup', done: Math.min(deleted, total), total });
    }
    await client.query(`UPDATE ${t.root} SET fence = greatest(fence, $1) WHERE id = 1`, [start.fence]);
    await client.query(pruneCommits(t));
    await client.query('COMMIT');
    return freed;
  } catch (error) {
    await rollback(client);
    throw error;
  }
}
