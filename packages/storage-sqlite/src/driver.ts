/**
 * Loads better-sqlite3 on demand. It is an optional peer dependency: a consumer who passes an
 * open database, or never opens a SQLite backend, does not need it installed.
 */
import type { SqliteDatabaseConstructor } from './database-like.js';
import { storageError } from './errors.js';

/** Imports better-sqlite3; a parameter so that tests can simulate a missing package. */
export type DriverImporter = () => Promise<unknown>;

const importBetterSqlite3: DriverImporter = () => import('better-sqlite3');

const INSTALL_HINT = 'install better-sqlite3 (pnpm add better-sqlite3)';

function isMissing(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(specifier);
}

/**
 * The better-sqlite3 `Database` constructor. Rejects with reason `unsupported` and an install
 * hint when the package is missing. `importer` exists for tests.
 */
export async function loadBetterSqlite3(
  importer: DriverImporter = importBetterSqlite3,
): Promise<SqliteDatabaseConstructor> {
  const specifier = 'better-sqlite3';
  let loaded: unknown;
  try {
    loaded = await importer();
  } catch (error) {
    if (isMissing(error, specifier)) {
      throw storageError('unsupported', `the SQLite backend needs better-sqlite3: ${INSTALL_HINT}`, {
        cause: error,
      });
    }
    throw storageError(
      'unsupported',
      `better-sqlite3 could not be loaded: ${error instanceof Error ? error.message : String(error)}; reinstall or rebuild it (pnpm rebuild better-sqlite3)`,
      { cause: error },
    );
  }
  const candidate = (loaded as { default?: unknown } | null)?.default ?? loaded;
  if (typeof candidate !== 'function') {
    throw storageError(
      'unsupported',
      `better-sqlite3 did not export a Database constructor; ${INSTALL_HINT}`,
    );
  }
  return candidate as SqliteDatabaseConstructor;
}
