#!/usr/bin/env node
/**
 * `proto`: look inside, export, import, verify, compact, reclaim and back up ProtoBase
 * databases (a WAL directory or an SQLite file). `proto --help` and `proto <command> --help`
 * describe each command; exit codes are in `errors.ts` and the README.
 */
import { ObjectSpace } from '@proto/atom';
import { Command, CommanderError, Option } from 'commander';
import { CliError, describeError, EXIT, exitCodeOf } from './errors.js';
import { get, history, info, ls } from './inspect.js';
import { backup, compact, reclaim, verify } from './maintain.js';
import {
  type BackendKind,
  kindForNew,
  type Opened,
  openBackend,
  openSpace,
  parseBackend,
  spaceOptions,
} from './open.js';
import { type Context, parseKey, print, printJson } from './output.js';
import { startStudio } from './studio/server.js';
import { describeTransfer, exportTo, importFrom } from './transfer.js';

interface Global {
  readonly backend?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

function contextOf(command: Command): Context {
  const g = command.optsWithGlobals<Global>();
  return { json: g.json === true, quiet: g.quiet === true };
}

function backendOf(command: Command): BackendKind | undefined {
  return parseBackend(command.optsWithGlobals<Global>().backend);
}

/** Opens `path` read-only with every kept commit readable, runs `fn`, closes. */
async function reading<T>(
  path: string,
  command: Command,
  fn: (opened: Opened) => T | Promise<T>,
): Promise<T> {
  const opened = await openSpace(path, {
    backend: backendOf(command),
    write: false,
    historyLimit: 1_000_000,
  });
  try {
    return await fn(opened);
  } finally {
    await opened.space.close();
  }
}

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new CliError(
        'usage',
        `${name} takes an integer of at least ${min}, not ${JSON.stringify(value)}`,
      );
    return n;
  };
}

const program = new Command('proto')
  .description(
    'Inspect, export, import, verify and back up ProtoBase databases (a WAL directory or an SQLite file).',
  )
  .addOption(
    new Option('--backend <kind>', 'force the backend instead of detecting it').choices(['wal', 'sqlite']),
  )
  .option('--json', 'print results as JSON (errors too, on stderr)')
  .option('-q, --quiet', 'no progress bars (they are drawn only on a terminal anyway)')
  .showHelpAfterError()
  .exitOverride();

program
  .command('info')
  .description('backend, capabilities, size on disk, commits kept, databases and roots, cache figures')
  .argument('<path>', 'the database (a WAL directory or an SQLite file)')
  .action(async (path: string, _o, command: Command) => {
    await reading(path, command, (opened) => info(opened, contextOf(command)));
  });

program
  .command('ls')
  .description('list the databases, or the roots of one database with their type and size')
  .argument('<path>', 'the database')
  .argument('[db]', 'a database name')
  .option('--as-of <sequence>', 'read an earlier kept commit (see history)', integer('--as-of', 0))
  .action(async (path: string, db: string | undefined, o: { asOf?: number }, command: Command) => {
    await reading(path, command, (opened) => ls(opened, db, o.asOf, contextOf(command)));
  });

program
  .command('get')
  .description(
    'print a root, or entries of a collection root (lazily: a key range and a limit), or one entry by key',
  )
  .argument('<path>', 'the database')
  .argument('<db>', 'the database name')
  .argument('<root>', 'the root name')
  .argument('[key]', 'one entry: a key as JSON (42, "42", {"$date":"..."}), or plain text for a string key')
  .option('--from <key>', 'first key of the range (inclusive)')
  .option('--to <key>', 'end of the range (exclusive)')
  .option('--reverse', 'from the end of the range')
  .option('--limit <n>', 'entries to print (default 20)', integer('--limit', 0), 20)
  .option('--as-of <sequence>', 'read an earlier kept commit (see history)', integer('--as-of', 0))
  .action(
    async (
      path: string,
      db: string,
      root: string,
      key: string | undefined,
      o: { from?: string; to?: string; reverse?: boolean; limit: number; asOf?: number },
      command: Command,
    ) => {
      await reading(path, command, (opened) =>
        get(
          opened,
          db,
          root,
          {
            ...(key === undefined ? {} : { key: parseKey(key) }),
            ...(o.from === undefined ? {} : { from: parseKey(o.from) }),
            ...(o.to === undefined ? {} : { to: parseKey(o.to) }),
            reverse: o.reverse === true,
            limit: o.limit,
            ...(o.asOf === undefined ? {} : { asOf: o.asOf }),
          },
          contextOf(command),
        ),
      );
    },
  );

program
  .command('history')
  .description('the commits kept (readable with get/ls --as-of), newest first')
  .argument('<path>', 'the database')
  .action(async (path: string, _o, command: Command) => {
    await reading(path, command, (opened) => history(opened, contextOf(command)));
  });

program
  .command('export')
  .description('write the newest commit as JSON Lines (every value type round-trips), streaming')
  .argument('<path>', 'the database')
  .option('--db <name>', 'only this database')
  .option('--root <name>', 'only this root')
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (path: string, o: { db?: string; root?: string; out?: string }, command: Command) => {
    const ctx = contextOf(command);
    const report = await reading(path, command, (opened) => exportTo(opened, o, ctx));
    if (ctx.json && o.out !== undefined) printJson(report);
    else if (!ctx.quiet) process.stderr.write(`${describeTransfer('exported', report)}\n`);
  });

program
  .command('import')
  .description('read a JSON Lines export into a database (created if absent); each root commits whole')
  .argument('<path>', 'the database (new: a WAL directory, or SQLite for .db/.sqlite/.sqlite3 or --backend)')
  .argument('<file>', 'the export file, or - for standard input')
  .option('--replace', 'overwrite roots that exist already (default: refuse)')
  .action(async (path: string, file: string, o: { replace?: boolean }, command: Command) => {
    const ctx = contextOf(command);
    const forced = backendOf(command);
    const opened = await openForWrite(path, forced);
    try {
      const report = await importFrom(opened, { file, replace: o.replace === true }, ctx);
      if (ctx.json) printJson(report);
      else print(describeTransfer('imported', report));
    } finally {
      await opened.space.close();
    }
  });

program
  .command('verify')
  .description(
    'read and decode every atom reachable from the root and the kept history; exit 6 if any is damaged',
  )
  .argument('<path>', 'the database')
  .action(async (path: string, _o, command: Command) => {
    const report = await reading(path, command, (opened) => verify(opened, contextOf(command)));
    if (report.problems.length > 0) process.exitCode = EXIT.damaged;
  });

program
  .command('compact')
  .description(
    'rewrite a WAL database with only what the root reaches (offline: no process may have it open)',
  )
  .argument('<path>', 'the WAL database directory')
  .action(async (path: string, _o, command: Command) => {
    await compact(path, backendOf(command), contextOf(command));
  });

program
  .command('reclaim')
  .description('free what no commit reaches in an SQLite database (online: other processes may use it)')
  .argument('<path>', 'the SQLite database file')
  .action(async (path: string, _o, command: Command) => {
    await reclaim(path, backendOf(command), contextOf(command));
  });

program
  .command('backup')
  .description(
    'copy the newest commit into a new location, of the same or the other backend, while the source stays in use',
  )
  .argument('<path>', 'the database to copy')
  .argument('<to>', 'a new path: a WAL directory, or SQLite for .db/.sqlite/.sqlite3 or --to-backend')
  .addOption(new Option('--to-backend <kind>', 'the backend of the copy').choices(['wal', 'sqlite']))
  .action(async (path: string, to: string, o: { toBackend?: string }, command: Command) => {
    await reading(path, command, (opened) =>
      backup(opened, to, parseBackend(o.toBackend), contextOf(command)),
    );
  });

program
  .command('studio')
  .description(
    'serve a local web page (127.0.0.1, with an access token) to browse, query and step through the history of a database',
  )
  .argument('<path>', 'the database')
  .option('--write', 'allow changing entries from the page (default: read-only)')
  .option('--port <n>', 'the port to listen on (default: a free one)', integer('--port', 1))
  .action(async (path: string, o: { write?: boolean; port?: number }, command: Command) => {
    const write = o.write === true;
    const opened = await openSpace(path, { backend: backendOf(command), write, historyLimit: 1_000_000 });
    try {
      const studio = await startStudio(opened, { write, ...(o.port === undefined ? {} : { port: o.port }) });
      if (contextOf(command).json) printJson({ url: studio.url, port: studio.port, write });
      else
        print(
          `ProtoBase Studio for ${path} (${write ? 'read-write' : 'read-only'}): ${studio.url}\n` +
            'open the link in a browser on this machine; stop with Ctrl-C',
        );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await studio.close();
    } finally {
      await opened.space.close();
    }
  });

async function openForWrite(path: string, forced: BackendKind | undefined): Promise<Opened> {
  try {
    return await openSpace(path, { backend: forced, write: true });
  } catch (error) {
    if (!(error instanceof CliError) || error.reason !== 'not-found') throw error;
  }
  // A new database.
  const kind = kindForNew(path, forced);
  const space = await ObjectSpace.open(
    await openBackend(path, kind, { readOnly: false }),
    spaceOptions(false),
  );
  return { space, kind, path };
}

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; a usage error was printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeOf(error);
    const json = argv.includes('--json');
    if (json)
      process.stderr.write(
        `${JSON.stringify({ error: describeError(error), reason: (error as { reason?: string }).reason ?? null, exitCode: code })}\n`,
      );
    else process.stderr.write(`proto: ${describeError(error)}\n`);
    return code;
  }
}

// A reader that stops early (`proto export db | head`) closes the pipe: that ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  throw error;
});

process.exitCode = await main(process.argv);
