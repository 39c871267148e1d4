/** This package's tests share the repository's PostgreSQL global setup. */
export { default, type PostgresServer, postgresScript } from '../../../../tooling/vitest/postgres.js';
