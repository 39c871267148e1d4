/** Temporary database files for the tests, removed when the test file finishes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh directory under the system temp dir; removed after all tests of the calling file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `proto-sqlite-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;

/** A path that does not exist yet, inside `dir`. */
export function freshPath(dir: string, name = 'db'): string {
  counter += 1;
  return join(dir, `${name}-${counter}.sqlite`);
}
