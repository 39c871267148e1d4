/**
 * The `proto` binary (the built `dist/main.js`, as `bin` installs it), run as a process against
 * real WAL and SQLite databases the tests make: browsing, history, export → import round trips
 * compared value by value, verify on damaged databases, a locked database, foreign and missing
 * paths, and a backup taken while another process commits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectSpace, type ObjectSpaceOptions, type StorageBackend } from '@proto/atom';
import type { Dictionary } from '@proto/collections';
import { openSqliteBackend } from '@proto/storage-sqlite';
import { openWalBackend } from '@proto/storage-wal';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contents, fill } from './fixtures/values.ts';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'proto-cli-'));
const wal = join(root, 'shop-wal');
const sqlite = join(root, 'shop.sqlite');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function proto(...args: string[]): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    cwd: root,
    maxBuffer: 256 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(run: Run): unknown {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

async function open(
  path: string,
  kind: 'wal' | 'sqlite',
  options?: ObjectSpaceOptions,
): Promise<ObjectSpace> {
  const backend: StorageBackend =
    kind === 'wal' ? await openWalBackend({ path }) : await openSqliteBackend({ path });
  return ObjectSpace.open(backend, options);
}

async function withSpace<T>(
  path: string,
  kind: 'wal' | 'sqlite',
  fn: (space: ObjectSpace) => T | Promise<T>,
  options?: ObjectSpaceOptions,
) {
  const space = await open(path, kind, options);
  try {
    return await fn(space);
  } finally {
    await space.close();
  }
}

interface Writer {
  readonly child: ChildProcess;
  /** Resolves once the writer reported at least `n` commits. */
  untilCommitted(n: number): Promise<void>;
}

/** Starts the writer fixture; resolves once it printed `ready`. */
async function writer(path: string, kind: 'wal' | 'sqlite', mode?: 'hold'): Promise<Writer> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@proto/source',
      '--import',
      'tsx',
      WRITER,
      path,
      kind,
      ...(mode === undefined ? [] : [mode]),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let committed = 0;
  let output = '';
  const waiting: { n: number; resolve: () => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const match of output.matchAll(/(?:ready|committed (\d+))\n/g))
      committed = Math.max(committed, Number(match[1] ?? 1));
    output = output.slice(output.lastIndexOf('\n') + 1);
    for (const w of waiting.filter((w) => committed >= w.n)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  const untilCommitted = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (committed >= n) return resolve();
      waiting.push({ n, resolve });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before ${n} commits`)));
    });
  await untilCommitted(1);
  return { child, untilCommitted };
}

async function stopWriter({ child }: Writer): Promise<void> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  expect(await exited).toBe(0);
}

beforeAll(async () => {
  expect(existsSync(MAIN), `${MAIN} is built by tsc -b (pnpm test runs it first)`).toBe(true);
  for (const [path, kind] of [
    [wal, 'wal'],
    [sqlite, 'sqlite'],
  ] as const) {
    await withSpace(path, kind, async (space) => {
      await fill(space);
      await space.database('shop').transact((tx) => tx.set('title', 'Corner shop, renamed'));
    });
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe.each([
  ['wal', wal],
  ['sqlite', sqlite],
] as const)('proto on a %s database', (kind, path) => {
  it('info names the backend, the databases and roots with type and size, and commits kept', () => {
    const info = json(proto('info', path, '--json')) as {
      backend: string;
      sequence: number;
      commitsKept: number;
      bytesOnDisk: number;
      databases: { name: string; roots: { name: string; type: string; size?: number }[] }[];
    };
    expect(info.backend).toBe(kind);
    expect(info.sequence).toBe(3);
    expect(info.commitsKept).toBe(3);
    expect(info.bytesOnDisk).toBeGreaterThan(10_000);
    const shop = info.databases.find((d) => d.name === 'shop');
    expect(shop?.roots).toContainEqual({ name: 'orders', type: 'Dictionary', size: 2000 });
    expect(shop?.roots).toContainEqual({ name: 'products', type: 'IndexedCollection', size: 300 });
    expect(shop?.roots).toContainEqual({ name: 'title', type: 'string' });
    const text = proto('info', path);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/orders\s+Dictionary\s+2,000 entries/);
  });

  it('ls lists databases and roots; get pages a collection lazily by key range and limit', () => {
    expect(json(proto('ls', path, '--json'))).toEqual([
      { name: 'audit', roots: 1 },
      { name: 'shop', roots: 11 },
    ]);
    const page = json(proto('get', path, 'shop', 'orders', '--from', '100', '--limit', '3', '--json')) as {
      size: number;
      entries: [number, { total: { $bigint: string } }][];
      more: boolean;
    };
    expect(page.size).toBe(2000);
    expect(page.entries.map(([k]) => k)).toEqual([100, 101, 102]);
    expect(page.entries[0]?.[1].total).toEqual({ $bigint: '10000' });
    expect(page.more).toBe(true);
    const last = json(proto('get', path, 'shop', 'orders', '--from', '1998', '--json')) as {
      entries: unknown[];
      more: boolean;
    };
    expect(last.entries).toHaveLength(2);
    expect(last.more).toBe(false);
    const reversed = json(
      proto('get', path, 'shop', 'orders', '--to', '10', '--reverse', '--limit', '2', '--json'),
    ) as {
      entries: [number][];
    };
    expect(reversed.entries.map(([k]) => k)).toEqual([9, 8]);
    // An indexed collection's range is a primary-key range, either way.
    const products = json(
      proto('get', path, 'shop', 'products', '--from', 'p-290', '--limit', '3', '--json'),
    ) as {
      entries: [string][];
    };
    expect(products.entries.map(([k]) => k)).toEqual(['p-290', 'p-291', 'p-292']);
    const back = json(
      proto('get', path, 'shop', 'products', '--to', 'p-005', '--reverse', '--limit', '2', '--json'),
    ) as { entries: [string][] };
    expect(back.entries.map(([k]) => k)).toEqual(['p-004', 'p-003']);
    // One entry by key; a string key as plain text; a Date key as tagged JSON.
    expect(json(proto('get', path, 'shop', 'products', 'p-007', '--json'))).toMatchObject({
      id: 'p-007',
      name: 'Product 7',
    });
    expect(json(proto('get', path, 'shop', 'byDate', '{"$date":"1970-01-01T00:00:00.005Z"}', '--json'))).toBe(
      'five',
    );
    // Plain values print with their types.
    expect(json(proto('get', path, 'shop', 'scalars', '--json'))).toMatchObject({
      minusZero: { $number: '-0' },
      big: { $bigint: (-(2n ** 100n)).toString() },
      date: { $date: '2026-01-02T03:04:05.678Z' },
      bytes: { $bytes: 'AAH+/w==' },
      sparse: {
        $sparse: 5,
        items: [
          [0, 1],
          [4, 'five'],
        ],
      },
      dollar: { $object: { $date: 'not a date', plain: 1 } },
    });
    const text = proto('get', path, 'shop', 'orders', '--limit', '2');
    expect(text.stdout.split('\n')[0]).toBe('# shop/orders: Dictionary, 2,000 entries');
  });

  it('history lists the commits kept, and get --as-of reads an earlier one', () => {
    const commits = json(proto('history', path, '--json')) as { sequence: number }[];
    expect(commits.map((c) => c.sequence)).toEqual([3, 2, 1]);
    expect(json(proto('get', path, 'shop', 'title', '--json'))).toBe('Corner shop, renamed');
    expect(json(proto('get', path, 'shop', 'title', '--as-of', '2', '--json'))).toBe('Corner shop');
    expect(proto('get', path, 'shop', 'title', '--as-of', '99').code).toBe(3);
  });

  it('names a missing database, root or key with exit code 3', () => {
    const db = proto('get', path, 'nope', 'x');
    expect(db.code).toBe(3);
    expect(db.stderr).toContain('no database named "nope"; the databases are: audit, shop');
    expect(proto('get', path, 'shop', 'nope').stderr).toContain('has no root named "nope"');
    expect(proto('get', path, 'shop', 'orders', '5000').code).toBe(3);
  });

  it('verify reads every atom of a sound database and exits 0', () => {
    const report = json(proto('verify', path, '--json')) as { atoms: number; problems: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.atoms).toBeGreaterThan(50);
  });

  it('reads without writing: the files are unchanged after every read-only command', () => {
    const files = () =>
      (kind === 'wal' ? readdirSync(path).map((f) => join(path, f)) : [path])
        .filter((f) => !f.endsWith('LOCK'))
        .map((f) => [f, statSync(f).size, readFileSync(f).toString('base64')]);
    const before = files();
    for (const args of [
      ['info'],
      ['ls'],
      ['history'],
      ['verify'],
      ['export', '-o', join(root, `${kind}-ro.jsonl`)],
    ])
      expect(proto(args[0] as string, path, ...args.slice(1)).code).toBe(0);
    expect(files()).toEqual(before);
  });
});

describe('export and import', () => {
  it.each([
    ['wal', wal, 'copy.sqlite', 'sqlite'],
    ['sqlite', sqlite, 'copy-wal', 'wal'],
  ] as const)(
    'round-trip a %s database into the other backend, value by value',
    async (kind, from, to, toKind) => {
      const file = join(root, `${kind}.jsonl`);
      const exported = proto('export', from, '-o', file);
      expect(exported.code).toBe(0);
      // Not a terminal: no progress bar drawn, only the summary.
      expect(exported.stderr).toBe('exported 12 roots, 2,322 entries\n');
      const target = join(root, to);
      const imported = proto('import', target, file);
      expect(imported.stderr).toBe('');
      expect(imported.stdout).toBe('imported 12 roots, 2,322 entries\n');
      const expected = await withSpace(from, kind, (space) => contents(space));
      expect(await withSpace(target, toKind, (space) => contents(space))).toEqual(expected);
      // Exported again, the copy gives the same lines (but for the header's commit).
      const again = join(root, `${kind}-again.jsonl`);
      expect(proto('export', target, '-o', again).code).toBe(0);
      const body = (f: string) => readFileSync(f, 'utf8').split('\n').slice(1);
      expect(body(again)).toEqual(body(file));
      // The copy is of the other backend kind.
      const info = json(proto('info', target, '--json')) as { backend: string };
      expect(info.backend).toBe(toKind);
    },
  );

  it('filters by --db and --root, refuses to overwrite a root unless --replace', () => {
    const file = join(root, 'title.jsonl');
    expect(proto('export', wal, '--db', 'shop', '--root', 'title', '-o', file).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] as string)).toEqual({
      db: 'shop',
      root: 'title',
      value: 'Corner shop, renamed',
    });
    const target = join(root, 'titles');
    expect(proto('import', target, file).code).toBe(0);
    const twice = proto('import', target, file);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('already has a root "title"; pass --replace');
    expect(proto('import', target, file, '--replace').code).toBe(0);
  });

  it('rejects a file that is not an export, or is cut short, naming the line; writes nothing of that root', () => {
    const target = join(root, 'bad-import');
    const notExport = join(root, 'not-export.jsonl');
    writeFileSync(notExport, '{"hello":1}\n');
    const r1 = proto('import', target, notExport);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('line 1: not a ProtoBase export');
    const full = readFileSync(join(root, 'wal.jsonl'), 'utf8').split('\n');
    const cut = join(root, 'cut.jsonl');
    writeFileSync(cut, full.slice(0, 40).join('\n'));
    const r2 = proto('import', target, cut);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/ends inside shop\/\w+ \(opened at line \d+\): it was cut short/);
    // The roots before the cut were imported; the one it cut is not there, nor its working root.
    const left = json(proto('ls', target, 'shop', '--json')) as { name: string }[];
    expect(left.map((r) => r.name).filter((name) => name.startsWith('.import:'))).toEqual([]);
    const garbled = join(root, 'garbled.jsonl');
    writeFileSync(garbled, [full[0], full[1], '{"e":[1,{"$bigint":"x1"}]}'].join('\n'));
    const r3 = proto('import', join(root, 'bad-import-2'), garbled);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('line 3: not a valid value: $bigint takes a string of digits');
  });
});

describe('damaged, locked, foreign and missing databases', () => {
  it('verify finds a damaged WAL record and names the segment file and offset (exit 6)', async () => {
    const path = join(root, 'damaged-wal');
    await withSpace(path, 'wal', (space) => fill(space));
    const segment = readdirSync(path).find((f) => f.endsWith('.wal')) as string;
    const file = join(path, segment);
    const bytes = readFileSync(file);
    // A byte a third of the way in: inside one of the many leaves the first commit wrote.
    const at = Math.floor(bytes.length / 3);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const r = proto('verify', path);
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(
      new RegExp(`damaged: atom \\S+ \\(referred to by \\S+\\): .*${segment}.*offset \\d+`),
    );
    expect(r.stdout).toMatch(/1 damaged atom; [\d,]+ atoms read fine/);
    const report = JSON.parse(proto('verify', path, '--json').stdout) as { problems: { reason: string }[] };
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.reason).toBe('corrupt');
  });

  it('a database too damaged to open exits 6 naming what is damaged', async () => {
    const path = join(root, 'damaged-manifest');
    await withSpace(path, 'wal', (space) => fill(space));
    writeFileSync(join(path, 'MANIFEST'), 'not a manifest at all');
    const r = proto('info', path);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('MANIFEST');
  });

  it('verify finds a damaged SQLite atom row (exit 6)', async () => {
    const path = join(root, 'damaged.sqlite');
    await withSpace(path, 'sqlite', (space) => fill(space));
    const raw = new Database(path);
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    const atoms = tables.find((t) => t.name.includes('atom'))?.name as string;
    const columns = raw.prepare(`PRAGMA table_info(${atoms})`).all() as { name: string; type: string }[];
    const blob = columns.find((c) => c.type.toUpperCase() === 'BLOB')?.name as string;
    const row = raw
      .prepare(`SELECT rowid AS id, ${blob} AS bytes FROM ${atoms} ORDER BY rowid LIMIT 1 OFFSET 10`)
      .get() as {
      id: number;
      bytes: Buffer;
    };
    const bytes = Buffer.from(row.bytes);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = (bytes[mid] as number) ^ 0xff;
    raw.prepare(`UPDATE ${atoms} SET ${blob} = ? WHERE rowid = ?`).run(bytes, row.id);
    raw.close();
    const r = proto('verify', path, '--json');
    expect(r.code).toBe(6);
    const report = JSON.parse(r.stdout) as { problems: { reason: string; message: string }[] };
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.reason).toBe('corrupt');
  });

  it('a WAL database held by another process: reads work, writes exit 4 naming the lock', async () => {
    const path = join(root, 'held-wal');
    const held = await writer(path, 'wal', 'hold');
    try {
      expect(json(proto('get', path, 'live', 'counter', '--json'))).toBe(1);
      for (const args of [
        ['compact', path],
        ['import', path, join(root, 'title.jsonl')],
      ]) {
        const r = proto(...(args as [string, ...string[]]));
        expect(r.code).toBe(4);
        expect(r.stderr).toMatch(/lock/i);
      }
    } finally {
      await stopWriter(held);
    }
    expect(proto('compact', path).code).toBe(0);
  });

  it('missing (3), foreign (5) and usage errors (2) are told apart', () => {
    const missing = proto('info', join(root, 'nothing-here'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no database at');
    const text = join(root, 'notes.txt');
    writeFileSync(text, 'just some text, long enough to have a header');
    expect(proto('info', text).code).toBe(5);
    const dir = join(root, 'some-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'file'), 'x');
    const foreignDir = proto('info', dir);
    expect(foreignDir.code).toBe(5);
    expect(foreignDir.stderr).toContain('not a ProtoBase WAL database');
    const other = join(root, 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE people (name TEXT)');
    raw.close();
    expect(proto('info', other).code).toBe(5);
    expect(proto('info').code).toBe(2);
    expect(proto('frobnicate', wal).code).toBe(2);
    expect(proto('get', wal, 'shop', 'orders', '--limit', 'many').code).toBe(2);
    expect(proto('info', wal, '--backend', 'sqlite').code).toBe(5);
    const asJson = proto('info', join(root, 'nothing-here'), '--json');
    expect(JSON.parse(asJson.stderr)).toMatchObject({ reason: 'not-found', exitCode: 3 });
  });

  it('every command has --help', () => {
    for (const command of [
      'info',
      'ls',
      'get',
      'history',
      'export',
      'import',
      'verify',
      'compact',
      'reclaim',
      'backup',
    ]) {
      const r = proto(command, '--help');
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: proto ${command}`);
    }
    expect(proto('--help').stdout).toContain('Commands:');
  });
});

describe('compact, reclaim and backup', () => {
  it('compact shrinks a WAL database after overwrites; reclaim frees an SQLite one; contents stay', async () => {
    for (const [path, kind, command] of [
      [join(root, 'churn-wal'), 'wal', 'compact'],
      [join(root, 'churn.sqlite'), 'sqlite', 'reclaim'],
    ] as const) {
      // No history kept: the overwritten orders are garbage.
      await withSpace(
        path,
        kind,
        async (space) => {
          await fill(space);
          for (let i = 0; i < 5; i++) await space.database('shop').transact((tx) => tx.set('orders', i));
        },
        { historyLimit: 0 },
      );
      const before = await withSpace(path, kind, (space) => contents(space));
      const r = json(proto(command, path, '--json')) as { bytesBefore: number; bytesAfter: number };
      expect(r.bytesAfter).toBeLessThan(r.bytesBefore);
      expect(await withSpace(path, kind, (space) => contents(space))).toEqual(before);
      const wrong = proto(command === 'compact' ? 'reclaim' : 'compact', path);
      expect(wrong.code).toBe(2);
    }
  });

  it.each([
    ['wal', 'backup-from-wal.sqlite', 'sqlite'],
    ['sqlite', 'backup-from-sqlite', 'wal'],
  ] as const)(
    'a backup of a %s database taken while another process commits opens as exactly the commit it copied',
    async (kind, to, toKind) => {
      const source = join(root, `busy-${kind}${kind === 'sqlite' ? '.sqlite' : ''}`);
      const busy = await writer(source, kind);
      let report: { sequence: number; atoms: number };
      try {
        // Let it commit for a while first, then copy while it goes on.
        await busy.untilCommitted(100);
        report = json(proto('backup', source, join(root, to), '--json')) as {
          sequence: number;
          atoms: number;
        };
      } finally {
        await stopWriter(busy);
      }
      const copy = await withSpace(join(root, to), toKind, (space) => {
        const tx = space.database('live').begin({ readOnly: true });
        return {
          sequence: space.sequence,
          counter: tx.get<number>('counter') as number,
          items: [...(tx.get<Dictionary<number, string>>('items')?.keys() ?? [])],
        };
      });
      expect(copy.sequence).toBe(report.sequence);
      // Each commit of the writer sets counter to n and adds item n: the copy is one whole commit.
      expect(copy.items).toEqual(Array.from({ length: copy.counter }, (_, i) => i + 1));
      // The writer's commit at that sequence had exactly this counter (one commit per step).
      const final = await withSpace(source, kind, (space) => ({
        sequence: space.sequence,
        counter: space.database('live').begin({ readOnly: true }).get<number>('counter') as number,
      }));
      expect(final.counter - copy.counter).toBe(final.sequence - copy.sequence);
      expect(final.counter).toBeGreaterThan(copy.counter);
      expect(proto('backup', source, join(root, to)).code).toBe(2);
    },
  );
});
