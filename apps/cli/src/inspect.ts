/**
 * The commands that look: `info`, `ls`, `get`, `history`. They open the space read-only.
 */
import type { ObjectSpace, Transaction } from '@proto/atom';
import type { Key } from '@proto/collections';
import { kindOf, typeOf } from './collections.js';
import { CliError } from './errors.js';
import { type BackendKind, type Opened, sizeOnDisk } from './open.js';
import { type Context, formatBytes, formatCount, print, printJson, text, valueLine } from './output.js';

/** A read-only transaction on database `name` (at commit `asOf` if given); `not-found` if it does not exist. */
export function readDatabase(space: ObjectSpace, name: string, asOf?: number): Transaction {
  if (!space.databaseNames().includes(name))
    throw new CliError(
      'not-found',
      `no database named ${JSON.stringify(name)}; the databases are: ${space.databaseNames().join(', ') || '(none)'}`,
    );
  return space.database(name).begin(asOf === undefined ? { readOnly: true } : { asOf });
}

function rootValue(tx: Transaction, db: string, root: string): unknown {
  if (!tx.has(root))
    throw new CliError(
      'not-found',
      `database ${db} has no root named ${JSON.stringify(root)}; its roots are: ${tx.rootNames().join(', ') || '(none)'}`,
    );
  return tx.get(root);
}

interface RootInfo {
  readonly name: string;
  readonly type: string;
  /** Entries of a collection. */
  readonly size?: number;
}

function rootsOf(tx: Transaction): RootInfo[] {
  return tx.rootNames().map((name) => {
    const value = tx.get(name);
    const kind = kindOf(value);
    return kind === undefined
      ? { name, type: typeOf(value) }
      : { name, type: kind.name, size: kind.size(value) };
  });
}

function describeRoot(r: RootInfo): string {
  return `${r.name.padEnd(24)} ${r.type.padEnd(24)} ${r.size === undefined ? '' : `${formatCount(r.size)} ${r.size === 1 ? 'entry' : 'entries'}`}`.trimEnd();
}

export function info(opened: Opened, ctx: Context): void {
  const { space } = opened;
  const history = space.history();
  const newest = history[0];
  const databases = space
    .databaseNames()
    .map((name) => ({ name, roots: rootsOf(readDatabase(space, name)) }));
  const capabilities = space.capabilities;
  const stats = space.stats();
  const bytesOnDisk = sizeOnDisk(opened.path, opened.kind);
  if (ctx.json) {
    printJson({
      path: opened.path,
      backend: opened.kind,
      capabilities,
      bytesOnDisk,
      sequence: space.sequence,
      timestamp: newest === undefined ? null : new Date(newest.timestamp).toISOString(),
      commitsKept: history.length,
      databases,
      cache: {
        atoms: stats.cachedAtoms,
        bytes: stats.cachedBytes,
        hits: stats.cacheHits,
        misses: stats.cacheMisses,
        loaded: stats.atomsLoaded,
      },
    });
    return;
  }
  const flags = Object.entries(capabilities)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
  print(`${opened.path}: ${backendName(opened.kind)}, ${formatBytes(bytesOnDisk)} on disk`);
  print(`capabilities: ${flags.join(', ')}; largest atom ${formatBytes(capabilities.maxAtomBytes)}`);
  print(
    newest === undefined
      ? 'commits: none yet'
      : `commits: newest #${newest.sequence} at ${new Date(newest.timestamp).toISOString()}; ${history.length} kept (oldest #${history.at(-1)?.sequence})`,
  );
  if (databases.length === 0) print('databases: none');
  for (const db of databases) {
    print(`database ${db.name}: ${db.roots.length} root${db.roots.length === 1 ? '' : 's'}`);
    for (const r of db.roots) print(`  ${describeRoot(r)}`);
  }
  print(
    `cache: ${formatCount(stats.cachedAtoms)} atoms, ${formatBytes(stats.cachedBytes)}; ${formatCount(stats.atomsLoaded)} loaded, ${formatCount(stats.cacheHits)} hits, ${formatCount(stats.cacheMisses)} misses`,
  );
}

function backendName(kind: BackendKind): string {
  return kind === 'wal' ? 'WAL directory' : 'SQLite file';
}

export function ls(opened: Opened, db: string | undefined, asOf: number | undefined, ctx: Context): void {
  const { space } = opened;
  if (db === undefined) {
    const names = space.databaseNames();
    const rows = names.map((name) => ({ name, roots: readDatabase(space, name, asOf).rootNames().length }));
    if (ctx.json) printJson(rows);
    else
      for (const r of rows)
        print(`${r.name.padEnd(24)} ${formatCount(r.roots)} root${r.roots === 1 ? '' : 's'}`);
    return;
  }
  const roots = rootsOf(readDatabase(space, db, asOf));
  if (ctx.json) printJson(roots);
  else for (const r of roots) print(describeRoot(r));
}

export interface GetOptions {
  readonly key?: Key;
  readonly from?: Key;
  readonly to?: Key;
  readonly reverse: boolean;
  readonly limit: number;
  readonly asOf?: number;
}

export function get(opened: Opened, db: string, root: string, options: GetOptions, ctx: Context): void {
  const tx = readDatabase(opened.space, db, options.asOf);
  const value = rootValue(tx, db, root);
  const kind = kindOf(value);
  if (options.key !== undefined) {
    if (kind === undefined)
      throw new CliError('usage', `${db}/${root} is a ${typeOf(value)}, not a collection: it has no keys`);
    const found = kind.lookup(value, options.key);
    if (found === undefined)
      throw new CliError('not-found', `${db}/${root} has no entry ${valueLine(options.key)}`);
    if (ctx.json) printJson(text.toJson(found));
    else print(JSON.stringify(text.toJson(found), null, 2));
    return;
  }
  if (kind === undefined) {
    if (ctx.json) printJson(text.toJson(value));
    else print(JSON.stringify(text.toJson(value), null, 2));
    return;
  }
  const range = {
    ...(options.from === undefined ? {} : { from: options.from }),
    ...(options.to === undefined ? {} : { to: options.to }),
    reverse: options.reverse,
  };
  const entries: [unknown, unknown][] = [];
  let more = false;
  // Lazily: only the entries shown (and one more, to say there are more) are read.
  for (const [k, v] of kind.entries(value, range)) {
    if (entries.length === options.limit) {
      more = true;
      break;
    }
    entries.push([k, v]);
  }
  const size = kind.size(value);
  if (ctx.json) {
    printJson({
      type: kind.name,
      size,
      entries: entries.map(([k, v]) => [text.toJson(k), text.toJson(v)]),
      more,
    });
    return;
  }
  print(`# ${db}/${root}: ${kind.name}, ${formatCount(size)} entries`);
  for (const [k, v] of entries) print(`${valueLine(k)}\t${valueLine(v)}`);
  if (more) print(`# ... more after ${valueLine(entries.at(-1)?.[0])}: use --from, --limit`);
}

export function history(opened: Opened, ctx: Context): void {
  const commits = opened.space.history().map((c) => ({
    sequence: c.sequence,
    timestamp: new Date(c.timestamp).toISOString(),
  }));
  if (ctx.json) printJson(commits);
  else for (const c of commits) print(`#${c.sequence}\t${c.timestamp}`);
}
