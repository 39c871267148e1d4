/**
 * `export` and `import`: JSON Lines, one snapshot, every value type exactly (see `values.ts`).
 *
 * The file is a header line, then per root either one line holding its value, or, for a
 * collection, a line naming its kind (and an indexed collection's key path and indexes), one
 * line per entry in the collection's order, and a closing line with the count:
 *
 *   {"format":"protobase-export","version":1,"sequence":42,"timestamp":"2026-..."}
 *   {"db":"shop","root":"title","value":"Corner shop"}
 *   {"db":"shop","root":"orders","collection":"Dictionary"}
 *   {"e":[1,{"total":{"$bigint":"1200"}}]}
 *   {"end":1}
 *
 * Export walks each collection lazily, so its memory stays flat whatever the size (the
 * space's cache bounds what is loaded). Import commits a collection's entries every 10,000 to
 * a working root (`.import:<root>`), so that what it built so far is stored and leaves memory,
 * and when the closing line is read moves it to its root in one transaction: a root is never
 * seen half imported. A file cut short fails without writing that root (the working root is
 * deleted; a crash leaves it, to delete or import again).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Transaction } from '@proto/atom';
import { type Builder, kindNamed, kindOf } from './collections.js';
import { CliError } from './errors.js';
import { readDatabase } from './inspect.js';
import type { Opened } from './open.js';
import { type Context, formatCount, LineWriter, text } from './output.js';
import { progress } from './progress.js';
import type { Json } from './values.js';

export const FORMAT = 'protobase-export';
/** Entries of a collection imported between two commits of its working root. */
const CHUNK = 10_000;
/** The root a collection is built under while it is imported. */
const workingRoot = (root: string) => `.import:${root}`;
export const VERSION = 1;

export interface ExportOptions {
  readonly db?: string;
  readonly root?: string;
  readonly out?: string;
}

export interface TransferReport {
  readonly roots: number;
  readonly entries: number;
}

export async function exportTo(
  opened: Opened,
  options: ExportOptions,
  ctx: Context,
): Promise<TransferReport> {
  const { space } = opened;
  const sequence = space.sequence;
  const names = options.db === undefined ? space.databaseNames() : [options.db];
  // Every database read at the same commit.
  const txs = names.map((name) => [name, readDatabase(space, name, sequence)] as const);
  const selected: [string, Transaction, string][] = [];
  for (const [name, tx] of txs)
    for (const root of tx.rootNames())
      if (options.root === undefined || root === options.root) selected.push([name, tx, root]);
  if (options.root !== undefined && selected.length === 0)
    throw new CliError('not-found', `no root named ${JSON.stringify(options.root)} to export`);
  const total = selected.reduce((sum, [, tx, root]) => {
    const value = tx.get(root);
    return sum + (kindOf(value)?.size(value) ?? 1);
  }, 0);
  const bar = progress('export', { quiet: ctx.quiet || ctx.json, unit: 'entries' });
  const out = new LineWriter(options.out);
  let entries = 0;
  try {
    const timestamp = space.history()[0]?.timestamp;
    await out.line(
      JSON.stringify({
        format: FORMAT,
        version: VERSION,
        sequence,
        timestamp: timestamp === undefined ? null : new Date(timestamp).toISOString(),
      }),
    );
    for (const [db, tx, root] of selected) {
      const value = tx.get(root);
      const kind = kindOf(value);
      if (kind === undefined) {
        await out.line(JSON.stringify({ db, root, value: text.toJson(value) }));
        bar.update(++entries, total);
        continue;
      }
      await out.line(JSON.stringify({ db, root, collection: kind.name, ...kind.header(value, text.toJson) }));
      let count = 0;
      for (const [k, v] of kind.entries(value)) {
        await out.line(JSON.stringify({ e: [text.toJson(k), text.toJson(v)] }));
        count++;
        if (++entries % 1024 === 0) bar.update(entries, total);
      }
      await out.line(JSON.stringify({ end: count }));
      bar.update(entries, total);
    }
  } finally {
    bar.stop();
    await out.close();
  }
  return { roots: selected.length, entries };
}

export interface ImportOptions {
  readonly file: string;
  /** Replace roots that exist already (default: refuse). */
  readonly replace: boolean;
}

/** The lines of a file (`-`: standard input), numbered from 1. */
async function* lines(file: string): AsyncGenerator<[number, string]> {
  const input = file === '-' ? process.stdin : createReadStream(file);
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of reader) {
    n++;
    if (line.length > 0) yield [n, line];
  }
}

type Line = { readonly [key: string]: Json };

function parseLine(n: number, line: string): Line {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new CliError('invalid-input', `line ${n} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError('invalid-input', `line ${n} is not a JSON object`);
  return parsed as Line;
}

export async function importFrom(
  opened: Opened,
  options: ImportOptions,
  ctx: Context,
): Promise<TransferReport> {
  const { space } = opened;
  const bar = progress('import', { quiet: ctx.quiet || ctx.json, unit: 'entries' });
  let roots = 0;
  let entries = 0;
  let header = false;
  let open: { db: string; root: string; builder: Builder; count: number; line: number } | undefined;
  const checkFree = (db: string, root: string) => {
    if (options.replace || !space.databaseNames().includes(db)) return;
    if (space.database(db).read((tx) => tx.has(root)))
      throw new CliError(
        'usage',
        `database ${db} already has a root ${JSON.stringify(root)}; pass --replace to overwrite it`,
      );
  };
  const commit = async (db: string, root: string, value: unknown) => {
    checkFree(db, root);
    await space.database(db).transact((tx) => {
      tx.set(root, value);
      if (tx.has(workingRoot(root))) tx.delete(workingRoot(root));
    });
    roots++;
  };
  const at = (n: number, message: string) => new CliError('invalid-input', `line ${n}: ${message}`);
  const rethrowAt = (n: number, error: unknown): never => {
    if (error instanceof CliError && error.reason === 'invalid-input') throw at(n, error.message);
    throw error;
  };
  try {
    for await (const [n, raw] of lines(options.file)) {
      const line = parseLine(n, raw);
      if (!header) {
        if (line.format !== FORMAT)
          throw at(n, `not a ProtoBase export (the first line must have "format":"${FORMAT}")`);
        if (line.version !== VERSION)
          throw at(
            n,
            `export format version ${String(line.version)} is not supported (this version reads ${VERSION})`,
          );
        header = true;
        continue;
      }
      if (open !== undefined) {
        if ('e' in line) {
          const e = line.e;
          if (!Array.isArray(e) || e.length !== 2) throw at(n, 'an entry line is {"e":[key, value]}');
          try {
            open.builder.add(text.fromJson(e[0] as Json), text.fromJson(e[1] as Json));
          } catch (error) {
            rethrowAt(n, error);
          }
          open.count++;
          if (++entries % 1024 === 0) bar.update(entries);
          if (open.count % CHUNK === 0) {
            // Stored, the part built so far is held by the cache, not by the builder.
            const { db, root, builder } = open;
            await space.database(db).transact((tx) => tx.set(workingRoot(root), builder.value()));
            // Written whole (not as a delta record), its nodes are stored and unpinned now.
            await space.checkpoint();
          }
          continue;
        }
        if ('end' in line) {
          if (line.end !== open.count)
            throw at(
              n,
              `${open.db}/${open.root} closes with ${String(line.end)} entries but ${open.count} were read`,
            );
          let value: unknown;
          try {
            value = open.builder.finish();
          } catch (error) {
            rethrowAt(n, error);
          }
          await commit(open.db, open.root, value);
          open = undefined;
          continue;
        }
        throw at(n, `${open.db}/${open.root} is not closed (an {"end":count} line is missing)`);
      }
      const { db, root } = line;
      if (typeof db !== 'string' || db.length === 0 || typeof root !== 'string')
        throw at(n, 'a root line names its "db" and "root"');
      if ('value' in line) {
        let value: unknown;
        try {
          value = text.fromJson(line.value as Json);
        } catch (error) {
          rethrowAt(n, error);
        }
        await commit(db, root, value);
        bar.update(++entries);
        continue;
      }
      if ('collection' in line) {
        let builder: Builder;
        try {
          builder = kindNamed(line.collection).builder(line, text.fromJson);
        } catch (error) {
          return rethrowAt(n, error);
        }
        checkFree(db, root);
        open = { db, root, builder, count: 0, line: n };
        continue;
      }
      throw at(n, 'a root line has a "value" or a "collection"');
    }
  } finally {
    bar.stop();
  }
  if (!header) throw new CliError('invalid-input', `${options.file} is empty: not a ProtoBase export`);
  if (open !== undefined) {
    const { db, root } = open;
    if (space.databaseNames().includes(db) && space.database(db).read((tx) => tx.has(workingRoot(root))))
      await space.database(db).transact((tx) => tx.delete(workingRoot(root)));
    throw new CliError(
      'invalid-input',
      `the file ends inside ${open.db}/${open.root} (opened at line ${open.line}): it was cut short; that root was not imported`,
    );
  }
  return { roots, entries };
}

export function describeTransfer(verb: string, report: TransferReport): string {
  return `${verb} ${formatCount(report.roots)} root${report.roots === 1 ? '' : 's'}, ${formatCount(report.entries)} ${report.entries === 1 ? 'entry' : 'entries'}`;
}
