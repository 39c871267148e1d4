/**
 * Test helpers: temporary directories, a file layer that records calls and injects failures,
 * directory snapshots, and codec-encoded trees for compaction tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAtom, encodeAtom } from '@proto/atom/codec';
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { nodeFileSystem, type WalFileSystem } from '@proto/storage-wal';
import { onTestFinished } from 'vitest';
import { patternBytes } from './fixtures/pattern.js';

export { patternBytes };

/** A fresh directory, removed when the current test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'proto-wal-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type FsOp =
  | 'open'
  | 'create'
  | 'close'
  | 'read'
  | 'write'
  | 'sync'
  | 'truncate'
  | 'size'
  | 'rename'
  | 'link'
  | 'unlink'
  | 'readdir'
  | 'mkdir'
  | 'syncDir'
  | 'realpath';

export interface FsCall {
  readonly op: FsOp;
  readonly file: string | undefined;
}

/** Operations that change what is on disk (a crash can fall between any two of them). */
export const MUTATING: ReadonlySet<FsOp> = new Set([
  'create',
  'write',
  'sync',
  'truncate',
  'rename',
  'link',
  'unlink',
  'mkdir',
  'syncDir',
]);

export function fsError(code: string, call: FsCall): Error {
  return Object.assign(new Error(`${code}: injected failure on ${call.op} ${call.file ?? ''}`), { code });
}

/**
 * Wraps a file layer: records every call (with the file it concerns) and lets a test throw
 * from any call by returning an error from `inject`.
 */
export function instrumentedFs(base: WalFileSystem = nodeFileSystem) {
  const files = new Map<number, string>();
  const calls: FsCall[] = [];
  let injector: ((call: FsCall) => Error | undefined) | undefined;
  const before = (op: FsOp, file: string | undefined) => {
    const call = { op, file };
    calls.push(call);
    const error = injector?.(call);
    if (error !== undefined) throw error;
  };
  const fs: WalFileSystem = {
    open(path, flags, mode) {
      before(flags.includes('w') ? 'create' : 'open', path);
      const fd = base.open(path, flags, mode);
      files.set(fd, path);
      return fd;
    },
    close(fd) {
      before('close', files.get(fd));
      files.delete(fd);
      base.close(fd);
    },
    read(fd, buffer, offset, length, position) {
      before('read', files.get(fd));
      return base.read(fd, buffer, offset, length, position);
    },
    write(fd, buffer, offset, length, position) {
      before('write', files.get(fd));
      return base.write(fd, buffer, offset, length, position);
    },
    async sync(fd, inline) {
      before('sync', files.get(fd));
      await base.sync(fd, inline);
    },
    truncate(fd, length) {
      before('truncate', files.get(fd));
      base.truncate(fd, length);
    },
    size(fd) {
      before('size', files.get(fd));
      return base.size(fd);
    },
    rename(from, to) {
      before('rename', to);
      base.rename(from, to);
    },
    link(from, to) {
      before('link', to);
      base.link(from, to);
    },
    unlink(path) {
      before('unlink', path);
      base.unlink(path);
    },
    readdir(path) {
      before('readdir', path);
      return base.readdir(path);
    },
    mkdir(path, mode) {
      before('mkdir', path);
      base.mkdir(path, mode);
    },
    async syncDir(path) {
      before('syncDir', path);
      await base.syncDir(path);
    },
    realpath(path) {
      before('realpath', path);
      return base.realpath(path);
    },
  };
  return {
    fs,
    calls,
    inject(next: ((call: FsCall) => Error | undefined) | undefined) {
      injector = next;
    },
    count(op: FsOp, fileSuffix?: string) {
      return calls.filter(
        (call) => call.op === op && (fileSuffix === undefined || call.file?.endsWith(fileSuffix)),
      ).length;
    },
  };
}

/**
 * `nodeFileSystem` without the durability barriers, for tests that open thousands of databases
 * and check logic, not durability (power loss is not simulated anyway).
 */
export const noSyncFs: WalFileSystem = { ...nodeFileSystem, sync: async () => {}, syncDir: async () => {} };

/** Every regular file in `dir` with its bytes. */
export function snapshot(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name))]),
  );
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^seg-[0-9a-f]{8}\.wal$/.test(name))
    .sort();
}

/**
 * Where the records of a segment end while the database is open: the file's length less the
 * zeros the tail's file was grown by ahead of its appends. Only for a file whose last record is
 * a commit (its trailer, 'PWCE', is not zero); a closed database's files end at their records.
 */
export function writtenEnd(file: string): number {
  const bytes = readFileSync(file);
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

export const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
export const textOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Commits `bytes` as the new root on top of the current one; fails unless it wins. */
export async function commitAtom(backend: StorageBackend, bytes: Uint8Array): Promise<AtomPointer> {
  const [pointer] = await backend.writeAtoms([bytes]);
  if (pointer === undefined) throw new Error('no pointer');
  const won = await backend.compareAndSetRoot(await backend.readRoot(), pointer);
  if (!won) throw new Error('compare-and-set lost');
  return pointer;
}

// ---------------------------------------------------------------------------------------------
// codec trees, for compaction

/** A reference to another atom inside an encoded payload. */
export class Ref {
  constructor(readonly pointer: AtomPointer) {}
}

const reference = (value: object) => (value instanceof Ref ? value.pointer : undefined);

export function encodeNode(typeName: string, payload: unknown): Uint8Array {
  return encodeAtom(typeName, payload, { reference });
}

/** Decodes the whole graph under `root` into plain data, references replaced by their content. */
export async function materialize(backend: StorageBackend, root: AtomPointer | null): Promise<unknown> {
  if (root === null) return null;
  const load = async (pointer: AtomPointer): Promise<unknown> => {
    const children: Ref[] = [];
    const { typeName, payload } = decodeAtom(await backend.readAtom(pointer), {
      reference: (p) => {
        const ref = new Ref(p);
        children.push(ref);
        return ref;
      },
    });
    const resolved = new Map<Ref, unknown>();
    for (const child of children) resolved.set(child, await load(child.pointer));
    return { typeName, payload: replaceRefs(payload, resolved) };
  };
  return load(root);
}

function replaceRefs(value: unknown, resolved: Map<Ref, unknown>): unknown {
  if (value instanceof Ref) return resolved.get(value);
  if (Array.isArray(value)) return value.map((item) => replaceRefs(item, resolved));
  if (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date)
  ) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceRefs(item, resolved)]));
  }
  return value;
}

/**
 * Builds a small document store: `versions` commits, each replacing some leaves of a two-level
 * tree (so older leaves and inner nodes become garbage). Returns the final root.
 */
export async function buildTree(
  backend: StorageBackend,
  options: { versions: number; fanout: number; leafBytes: number },
): Promise<AtomPointer> {
  const { versions, fanout, leafBytes } = options;
  const groups: AtomPointer[][] = [];
  let root = await backend.readRoot();
  for (let version = 0; version < versions; version++) {
    const groupCount = fanout;
    for (let g = 0; g < groupCount; g++) {
      if (groups[g] !== undefined && (version + g) % 3 !== 0) continue;
      const leaves = Array.from({ length: fanout }, (_, i) =>
        encodeNode('leaf', {
          version,
          group: g,
          index: i,
          data: patternBytes(leafBytes, version * 1000 + g * 31 + i),
        }),
      );
      groups[g] = [...(await backend.writeAtoms(leaves))];
    }
    const inner = groups.map((leaves, g) =>
      encodeNode('inner', { group: g, leaves: leaves.map((p) => new Ref(p)) }),
    );
    const innerPointers = await backend.writeAtoms(inner);
    const [top] = await backend.writeAtoms([
      encodeNode('root', { version, label: `v${version}`, groups: innerPointers.map((p) => new Ref(p)) }),
    ]);
    if (top === undefined || !(await backend.compareAndSetRoot(root, top))) throw new Error('commit lost');
    root = top;
  }
  if (root === null) throw new Error('no root');
  return root;
}
