/**
 * `reclaim()`: deletes atoms the root no longer reaches, keeps every reachable atom under its
 * pointer with its bytes, never deletes atoms of commits in flight (or refuses such a commit
 * when its atoms were already gone), and keeps the file from growing across cycles.
 */
import { statSync } from 'node:fs';
import { encodeAtom } from '@proto/atom/codec';
import type { AtomPointer, ReclaimProgress, StorageBackend } from '@proto/atom/storage';
import { guardBackend, hasReason } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import { childBytes } from '../../../tooling/test-support/chain.js';
import { openSqliteBackend } from '../src/index.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('reclaim');

class Ref {
  constructor(readonly pointer: AtomPointer) {}
}

function node(label: string, children: readonly AtomPointer[], size = 64): Uint8Array {
  return encodeAtom(
    'test.node',
    { label, blob: childBytes(label, size), children: children.map((pointer) => new Ref(pointer)) },
    { reference: (value) => (value instanceof Ref ? value.pointer : undefined) },
  );
}

type Atoms = Map<AtomPointer, Uint8Array>;

async function write(
  backend: StorageBackend,
  atoms: readonly Uint8Array[],
  into?: Atoms,
): Promise<AtomPointer[]> {
  const pointers = [...(await backend.writeAtoms(atoms))];
  for (const [i, pointer] of pointers.entries()) into?.set(pointer, atoms[i] as Uint8Array);
  return pointers;
}

/** A tree of `leaves` leaves under inner nodes of 16, plus `shared`, all under one root. */
async function writeTree(
  backend: StorageBackend,
  name: string,
  leaves: number,
  size: number,
  shared: readonly AtomPointer[] = [],
): Promise<{ root: AtomPointer; atoms: Atoms }> {
  const atoms: Atoms = new Map();
  const leafPointers = await write(
    backend,
    Array.from({ length: leaves }, (_, i) => node(`${name}/leaf-${i}`, [], size)),
    atoms,
  );
  const inner: Uint8Array[] = [];
  for (let i = 0; i < leafPointers.length; i += 16)
    inner.push(node(`${name}/inner-${i}`, leafPointers.slice(i, i + 16)));
  const innerPointers = await write(backend, inner, atoms);
  const [root] = await write(backend, [node(`${name}/root`, [...innerPointers, ...shared])], atoms);
  return { root: root as AtomPointer, atoms };
}

async function expectStored(backend: StorageBackend, atoms: Atoms): Promise<void> {
  for (const [pointer, bytes] of atoms) expect(await backend.readAtom(pointer)).toEqual(bytes);
}

async function expectGone(backend: StorageBackend, pointers: Iterable<AtomPointer>): Promise<void> {
  for (const pointer of pointers) {
    await expect(backend.readAtom(pointer)).rejects.toSatisfy((error: unknown) =>
      hasReason(error, 'not-found'),
    );
  }
}

function fileBytes(path: string): number {
  let total = statSync(path).size;
  try {
    total += statSync(`${path}-wal`).size;
  } catch {
    // no WAL file
  }
  return total;
}

async function open(path: string): Promise<StorageBackend> {
  return guardBackend(await openSqliteBackend({ path }));
}

describe('storage-sqlite: reclaim', () => {
  it('deletes unreachable atoms and keeps every reachable one byte for byte when garbage exists', async () => {
    const path = freshPath(dir);
    const backend = await open(path);
    const old = await writeTree(backend, 'old', 64, 512);
    expect(await backend.compareAndSetRoot(null, old.root)).toBe(true);
    const kept = [...old.atoms.keys()].slice(0, 3);
    const current = await writeTree(backend, 'new', 64, 512, kept);
    expect(await backend.compareAndSetRoot(old.root, current.root)).toBe(true);
    const garbage = await write(
      backend,
      Array.from({ length: 40 }, (_, i) => node(`garbage-${i}`, kept, 4096)),
    );

    const live = new Map(current.atoms);
    for (const pointer of kept) live.set(pointer, old.atoms.get(pointer) as Uint8Array);
    const events: ReclaimProgress[] = [];
    const report = await backend.reclaim?.({ onProgress: (event) => events.push(event) });

    expect(report?.liveAtoms).toBe(live.size);
    expect(report?.bytesAfter).toBeLessThan(report?.bytesBefore ?? 0);
    expect(await backend.readRoot()).toBe(current.root);
    await expectStored(backend, live);
    await expectGone(backend, [...garbage, ...[...old.atoms.keys()].filter((pointer) => !live.has(pointer))]);
    expect(events.map((event) => event.phase).filter((phase, i, all) => phase !== all[i - 1])).toEqual([
      'scan',
      'cleanup',
      'done',
    ]);
    const cleanup = events.filter((event) => event.phase === 'cleanup').at(-1);
    expect(cleanup).toEqual({
      phase: 'cleanup',
      done: garbage.length + old.atoms.size - kept.length,
      total: garbage.length + old.atoms.size - kept.length,
    });
    await backend.close();

    const reopened = await open(path);
    expect(await reopened.readRoot()).toBe(current.root);
    await expectStored(reopened, live);
    await reopened.close();
  });

  it('keeps the file size bounded when data is replaced and reclaimed over many cycles', async () => {
    const path = freshPath(dir);
    const backend = await open(path);
    let root: AtomPointer | null = null;
    let latest: Atoms = new Map();
    const sizes: number[] = [];
    let written = 0;
    for (let cycle = 0; cycle < 24; cycle += 1) {
      const tree = await writeTree(backend, `cycle-${cycle}`, 48, 2048);
      await write(
        backend,
        Array.from({ length: 48 }, (_, i) => node(`junk-${cycle}-${i}`, [], 2048)),
      );
      written += 96 * 2048;
      expect(await backend.compareAndSetRoot(root, tree.root)).toBe(true);
      root = tree.root;
      latest = tree.atoms;
      const report = await backend.reclaim?.();
      expect(report?.liveAtoms).toBe(latest.size);
      sizes.push(fileBytes(path));
    }
    await expectStored(backend, latest);
    await backend.close();
    const settled = sizes[3] as number;
    // The live data is the same size every cycle; so must the file be, give or take free pages.
    expect(Math.max(...sizes.slice(4))).toBeLessThanOrEqual(settled * 1.5);
    expect(sizes.at(-1)).toBeLessThan(written / 8);
  });

  it('keeps a commit’s atoms when they were written before the scan and its compare-and-set lands during it', async () => {
    const backend = await open(freshPath(dir));
    const base = await writeTree(backend, 'base', 2048, 16);
    expect(await backend.compareAndSetRoot(null, base.root)).toBe(true);
    const garbage = await write(backend, [node('garbage', [], 64)]);
    // Written before the reclaim starts (so at or below its fence), committed while it scans.
    const inFlight = await writeTree(backend, 'in-flight', 40, 32, [base.root]);
    let committed: Promise<boolean> | undefined;
    const report = await backend.reclaim?.({
      onProgress: (event) => {
        if (event.phase === 'scan' && event.done > 0 && committed === undefined) {
          committed = backend.compareAndSetRoot(base.root, inFlight.root);
        }
      },
    });
    expect(await committed).toBe(true);
    expect(await backend.readRoot()).toBe(inFlight.root);
    await expectStored(backend, new Map([...base.atoms, ...inFlight.atoms]));
    await expectGone(backend, garbage);
    expect(report?.liveAtoms).toBe(base.atoms.size + inFlight.atoms.size);
    await backend.close();
  });

  it('keeps atoms nothing refers to yet when they were written while the scan runs', async () => {
    const backend = await open(freshPath(dir));
    const base = await writeTree(backend, 'base', 2048, 16);
    expect(await backend.compareAndSetRoot(null, base.root)).toBe(true);
    let written: Promise<AtomPointer[]> | undefined;
    const atoms = [node('written-during-scan', [base.root], 64)];
    await backend.reclaim?.({
      onProgress: (event) => {
        if (event.phase === 'scan' && event.done > 0 && written === undefined)
          written = write(backend, atoms);
      },
    });
    const [pointer] = (await written) ?? [];
    expect(await backend.readAtom(pointer as AtomPointer)).toEqual(atoms[0]);
    expect(await backend.compareAndSetRoot(base.root, pointer as AtomPointer)).toBe(true);
    await backend.close();
  });

  it('refuses a commit with conflict when reclaim deleted its atoms before its compare-and-set arrived', async () => {
    const path = freshPath(dir);
    const backend = await open(path);
    const base = await writeTree(backend, 'base', 8, 16);
    expect(await backend.compareAndSetRoot(null, base.root)).toBe(true);
    // A commit in flight: its atoms are written, its compare-and-set not yet made.
    const slow = await writeTree(backend, 'slow', 8, 16, [base.root]);
    // Another commit whose children predate the reclaim but whose root atom comes after it.
    const [orphan] = await write(backend, [node('orphan-child', [], 16)]);
    await backend.reclaim?.();
    await expectGone(backend, [slow.root, orphan as AtomPointer]);
    await expect(backend.compareAndSetRoot(base.root, slow.root)).rejects.toSatisfy(
      (error: unknown) =>
        hasReason(error, 'conflict') && (error as { retryable?: boolean }).retryable === true,
    );
    const [late] = await write(backend, [node('late-root', [orphan as AtomPointer, base.root])]);
    await expect(backend.compareAndSetRoot(base.root, late as AtomPointer)).rejects.toSatisfy(
      (error: unknown) => hasReason(error, 'conflict'),
    );
    expect(await backend.readRoot()).toBe(base.root);
    // A commit written after the reclaim goes through, and the check costs nothing afterwards.
    const fresh = await writeTree(backend, 'fresh', 8, 16, [base.root]);
    expect(await backend.compareAndSetRoot(base.root, fresh.root)).toBe(true);
    await expectStored(backend, new Map([...base.atoms, ...fresh.atoms]));
    await backend.close();
  });

  it('refuses another connection’s commit with conflict when a reclaim on the same file deleted its atoms', async () => {
    const path = freshPath(dir);
    const writer = await open(path);
    const reclaimer = await open(path);
    const base = await writeTree(writer, 'base', 8, 16);
    expect(await writer.compareAndSetRoot(null, base.root)).toBe(true);
    const slow = await writeTree(writer, 'slow', 8, 16, [base.root]);
    const report = await reclaimer.reclaim?.();
    expect(report?.liveAtoms).toBe(base.atoms.size);
    await expect(writer.compareAndSetRoot(base.root, slow.root)).rejects.toSatisfy((error: unknown) =>
      hasReason(error, 'conflict'),
    );
    expect(await reclaimer.readRoot()).toBe(base.root);
    await Promise.all([writer.close(), reclaimer.close()]);
  });

  it('stops without deleting anything when a reachable atom does not decode', async () => {
    const backend = await open(freshPath(dir));
    const [raw] = await write(backend, [Uint8Array.of(1, 2, 3)]);
    const [junk] = await write(backend, [node('junk', [], 16)]);
    expect(await backend.compareAndSetRoot(null, raw as AtomPointer)).toBe(true);
    await expect(backend.reclaim?.()).rejects.toSatisfy((error: unknown) => hasReason(error, 'corrupt'));
    expect(await backend.readAtom(junk as AtomPointer)).toEqual(node('junk', [], 16));
    await backend.close();
  });
});
