/**
 * Loads node-postgres on demand. It is an optional peer dependency: a consumer who passes a
 * pool of their own, or never opens a PostgreSQL backend, does not need it installed.
 */
import { storageError } from './errors.js';
import type { PostgresPoolConstructor } from './pool-like.js';

/** Imports `pg`; a parameter so that tests can simulate a missing package. */
export type DriverImporter = () => Promise<unknown>;

const importPg: DriverImporter = () => import('pg');

const INSTALL_HINT = 'install pg (pnpm add pg)';

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes("'pg'");
}

/** The `pg.Pool` constructor. Rejects with reason `unsupported` and an install hint when `pg` is missing. */
export async function loadPg(importer: DriverImporter = importPg): Promise<PostgresPoolConstructor> {
  let loaded: unknown;
  try {
    loaded = await importer();
  } catch (error) {
    const why = isMissing(error)
      ? INSTALL_HINT
      : `pg could not be loaded (${error instanceof Error ? error.message : String(error)}); reinstall it`;
    throw storageError('unsupported', `the PostgreSQL backend needs pg to open a connection string: ${why}`, {
      cause: error,
    });
  }
  const module = loaded as { default?: { Pool?: unknown }; Pool?: unknown } | null;
  const Pool = module?.default?.Pool ?? module?.Pool;
  if (typeof Pool !== 'function') {
    throw storageError('unsupported', `pg did not export a Pool constructor; ${INSTALL_HINT}`);
  }
  return Pool as PostgresPoolConstructor;
}
