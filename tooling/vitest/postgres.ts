/**
 * Global setup of the test projects that need PostgreSQL (`storage-postgres`, `smoke`): a server of their own, started with
 * `tooling/scripts/postgres.sh` (which installs the Debian package first when it is missing)
 * and stopped by PID after the last test file. `PROTO_POSTGRES_URL` names a server to use
 * instead. When no server can be had, the tests read why through `inject('postgres')` and skip
 * saying so, except under `CI=true`, where they fail.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/** What the tests get: a connection URL, or why there is none. */
export interface PostgresServer {
  readonly url: string | null;
  readonly reason: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresServer;
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url));
export const SCRIPT = `${root}tooling/scripts/postgres.sh`;

/** Runs the server script with its state in `state`; returns its stdout, or throws with its stderr. */
export function postgresScript(command: 'start' | 'stop' | 'kill', state: string): string {
  return execFileSync('bash', [SCRIPT, command], {
    env: { ...process.env, PROTO_POSTGRES_STATE: state },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  }).trim();
}

export default function setup(project: TestProject): () => void {
  const given = process.env.PROTO_POSTGRES_URL;
  if (given !== undefined && given !== '') {
    project.provide('postgres', { url: given, reason: 'PROTO_POSTGRES_URL' });
    return () => undefined;
  }
  const state = `${root}.tmp/postgres-tests-${process.pid}`;
  try {
    const started = Date.now();
    const url = postgresScript('start', state);
    console.info(`${project.name}: PostgreSQL at ${url} (ready in ${Date.now() - started} ms)`);
    project.provide('postgres', { url, reason: 'started by tooling/scripts/postgres.sh' });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const reason = `tooling/scripts/postgres.sh start failed: ${stderr || (error instanceof Error ? error.message : String(error))}`;
    project.provide('postgres', { url: null, reason });
    return () => undefined;
  }
  return () => {
    postgresScript('stop', state);
  };
}
