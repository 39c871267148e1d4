/**
 * Space reclaim: mark what the current root reaches, delete every other atom that existed when
 * the reclaim started, then give the freed pages back to the file system.
 *
 * 1. scan: one statement reads the root and the highest atom id (the fence). Atoms reachable
 *    from the root are marked in a connection-private temp table, a chunk at a time so the event
 *    loop (and this process's commits) keep running.
 * 2. cleanup: in one `BEGIN IMMEDIATE` transaction (commits wait for it), roots committed since
 *    the scan are traced too, then unmarked atoms at or below the fence are deleted; atoms
 *    written after the scan began are above the fence and kept. The fence is recorded so that a
 *    commit whose atoms were written before the reclaim but whose compare-and-set comes after
 *    it is refused rather than left dangling (see `SqliteBackend.missingAfterReclaim`).
 *    Then `PRAGMA incremental_vacuum` returns the free pages and a TRUNCATE checkpoint folds the
 *    WAL into the file, so the file shrinks.
 * Every step is one SQLite transaction, so a crash anywhere leaves the same root and contents.
 */
import { statSync } from 'node:fs';
import type { AtomPointer, ReclaimOptions, ReclaimProgress, ReclaimReport } from '@proto/atom/storage';
import type { SqliteStatementLike } from './database-like.js';
import { storageError, translate } from './errors.js';
import { idOf } from './pointer.js';
import { strictReferencesOf } from './references.js';
import type { AtomStore } from './store.js';

/** Atoms marked between two yields to the event loop during the scan. */
const SCAN_CHUNK = 512;
/** Ids covered by one DELETE statement during cleanup. */
const DELETE_SPAN = 8192;
/** A reclaim restarts its scan when another connection's reclaim deleted atoms under it. */
const MAX_ATTEMPTS = 5;

class RestartScan extends Error {}

/** Marks atoms live in `temp.proto_reclaim_live`, following references depth first. */
class Marker {
  private readonly stack: AtomPointer[] = [];
  marked = 0;

  constructor(
    private readonly store: AtomStore,
    private readonly insertLive: SqliteStatementLike,
    /** Called when an atom is missing; throws `RestartScan` or a corruption error. */
    private readonly onMissing: (pointer: AtomPointer) => never,
  ) {}

  push(pointer: AtomPointer | null): void {
    if (pointer !== null) this.stack.push(pointer);
  }

  /** Marks up to `budget` atoms; returns true when nothing is left to visit. */
  step(budget: number): boolean {
    let left = budget;
    while (left > 0) {
      const pointer = this.stack.pop();
      if (pointer === undefined) return true;
      const id = idOf(pointer);
      if (id === undefined) {
        throw storageError(
          'corrupt',
          `the live graph of ${this.store.where} refers to ${JSON.stringify(pointer)}, which this backend never issues; reclaim stopped without deleting anything`,
        );
      }
      if (Number(this.insertLive.run(id).changes) === 0) continue;
      const bytes = this.store.read(id, pointer);
      if (bytes === undefined) this.onMissing(pointer);
      let references: readonly AtomPointer[];
      try {
        references = strictReferencesOf(bytes as Uint8Array);
      } catch (error) {
        throw storageError(
          'corrupt',
          `atom ${pointer} of ${this.store.where} is reachable from the root but does not decode (${error instanceof Error ? error.message : String(error)}); reclaim stopped without deleting anything`,
          { cause: error },
        );
      }
      for (const reference of references) this.stack.push(reference);
      this.marked += 1;
      left -= 1;
    }
    return this.stack.length === 0;
  }
}

function bytesOf(store: AtomStore, file: string | undefined): number {
  if (file !== undefined) {
    let total = 0;
    for (const path of [file, `${file}-wal`]) {
      try {
        total += statSync(path).size;
      } catch {
        // No WAL file at the moment: it counts as zero bytes.
      }
    }
    return total;
  }
  const pages = store.db.prepare('PRAGMA page_count').get() as { page_count: number };
  const size = store.db.prepare('PRAGMA page_size').get() as { page_size: number };
  return Number(pages.page_count) * Number(size.page_size);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one reclaim on `store` (see the module comment). `file` is measured for the report. */
export async function runReclaim(
  store: AtomStore,
  file: string | undefined,
  options: ReclaimOptions,
): Promise<ReclaimReport> {
  const report = (progress: ReclaimProgress) => options.onProgress?.(progress);
  try {
    const bytesBefore = bytesOf(store, file);
    store.db.exec('CREATE TEMP TABLE IF NOT EXISTS proto_reclaim_live (id INTEGER PRIMARY KEY)');
    try {
      const liveAtoms = await markAndSweep(store, options.keep ?? [], report);
      const autoVacuum = store.db.prepare('PRAGMA auto_vacuum').get() as { auto_vacuum: number };
      if (Number(autoVacuum.auto_vacuum) === 2) store.db.exec('PRAGMA incremental_vacuum');
      if (file !== undefined) store.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
      const bytesAfter = bytesOf(store, file);
      report({ phase: 'done', done: liveAtoms, total: liveAtoms });
      return { liveAtoms, bytesBefore, bytesAfter };
    } finally {
      store.db.exec('DROP TABLE IF EXISTS temp.proto_reclaim_live');
    }
  } catch (error) {
    throw translate(error, `reclaiming space in ${store.where}`);
  }
}

async function markAndSweep(
  store: AtomStore,
  keep: readonly AtomPointer[],
  report: (progress: ReclaimProgress) => void,
): Promise<number> {
  for (const pointer of keep) {
    const id = idOf(pointer);
    if (id === undefined || store.read(id, pointer) === undefined) {
      throw storageError(
        'not-found',
        `atom ${pointer} to keep does not exist in ${store.where}; reclaim stopped without deleting anything`,
        { details: { pointer } },
      );
    }
  }
  const insertLive = store.db.prepare('INSERT OR IGNORE INTO temp.proto_reclaim_live (id) VALUES (?)');
  for (let attempt = 1; ; attempt += 1) {
    store.db.exec('DELETE FROM temp.proto_reclaim_live');
    const start = store.state();
    const missing = (pointer: AtomPointer): never => {
      if (store.state().generation !== start.generation && attempt < MAX_ATTEMPTS) throw new RestartScan();
      throw storageError(
        'corrupt',
        `atom ${pointer} is reachable from the root of ${store.where} but missing; reclaim stopped without deleting anything`,
        { details: { pointer } },
      );
    };
    const marker = new Marker(store, insertLive, missing);
    marker.push(start.root);
    for (const pointer of keep) marker.push(pointer);
    report({ phase: 'scan', done: 0 });
    try {
      while (!marker.step(SCAN_CHUNK)) {
        report({ phase: 'scan', done: marker.marked });
        await yieldToEventLoop();
      }
      report({ phase: 'scan', done: marker.marked });
      return sweep(store, marker, start.root, start.maxId, report);
    } catch (error) {
      if (error instanceof RestartScan) continue;
      throw error;
    }
  }
}

/** The cleanup transaction: trace roots committed since the scan, delete the rest up to the fence. */
function sweep(
  store: AtomStore,
  marker: Marker,
  scannedRoot: AtomPointer | null,
  fence: number,
  report: (progress: ReclaimProgress) => void,
): number {
  const countGarbage = store.db.prepare(
    'SELECT count(*) AS n FROM proto_atoms WHERE id <= ? AND id NOT IN (SELECT id FROM temp.proto_reclaim_live)',
  );
  const deleteGarbage = store.db.prepare(
    'DELETE FROM proto_atoms WHERE id > ? AND id <= ? AND id NOT IN (SELECT id FROM temp.proto_reclaim_live)',
  );
  const recordFence = store.db.prepare(
    `UPDATE proto_meta SET value = CASE key
       WHEN 'reclaim_fence' THEN max(value, ?)
       ELSE value + 1 END
     WHERE key IN ('reclaim_fence', 'reclaim_generation')`,
  );
  const countLive = store.db.prepare('SELECT count(*) AS n FROM temp.proto_reclaim_live');
  return store.writeTransaction(true, () => {
    const now = store.state();
    if (now.root !== scannedRoot) {
      marker.push(now.root);
      marker.step(Number.POSITIVE_INFINITY);
    }
    const total = Number((countGarbage.get(fence) as { n: number }).n);
    let deleted = 0;
    report({ phase: 'cleanup', done: 0, total });
    for (let low = 0; low < fence && deleted < total; low += DELETE_SPAN) {
      deleted += Number(deleteGarbage.run(low, Math.min(low + DELETE_SPAN, fence)).changes);
      report({ phase: 'cleanup', done: Math.min(deleted, total), total });
    }
    recordFence.run(fence);
    return Number((countLive.get() as { n: number }).n);
  });
}
