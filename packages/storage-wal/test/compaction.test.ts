import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AtomPointer, ReclaimProgress } from '@proto/atom/storage';
import { hasReason, isProtoError } from '@proto/atom/storage';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import {
  buildTree,
  bytesOf,
  commitAtom,
  encodeNode,
  fsError,
  instrumentedFs,
  MUTATING,
  materialize,
  Ref,
  segmentFiles,
  snapshot,
  tempDir,
} from './helpers.js';

const SEGMENT_BYTES = 4096;

/** A database with history (garbage) in several segments; returns its logical content. */
async function seed(dir: string, versions = 6) {
  const backend = await openWalBackend({ path: dir, segmentBytes: SEGMENT_BYTES });
  const root = await buildTree(backend, { versions, fanout: 4, leafBytes: 120 });
  const content = await materialize(backend, root);
  await backend.close();
  return { root, content };
}

function directoryBytes(dir: string): number {
  return segmentFiles(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Segment ids named by the manifest. */
function manifestSegments(dir: string): number[] {
  const body = readFileSync(join(dir, 'MANIFEST'), 'utf8').split('\n')[0] as string;
  return (JSON.parse(body) as { segments: number[] }).segments;
}

async function contentOf(dir: string): Promise<unknown> {
  const backend = await openWalBackend({ path: dir, segmentBytes: SEGMENT_BYTES });
  try {
    return await materialize(backend, await backend.readRoot());
  } finally {
    await backend.close();
  }
}

describe('storage-wal: compaction', () => {
  it('keeps the live graph, frees the garbage and deletes the old segments', async () => {
    const dir = tempDir();
    const { content } = await seed(dir);
    const oldSegments = segmentFiles(dir);
    const before = directoryBytes(dir);
    const report = await compactWal(dir, { segmentBytes: SEGMENT_BYTES });

    // 1 root + 4 inner + 16 leaves are live.
    expect(report.liveAtoms).toBe(21);
    expect(report.bytesBefore).toBe(before);
    expect(report.bytesAfter).toBe(directoryBytes(dir));
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore / 2);
    for (const name of oldSegments) expect(segmentFiles(dir)).not.toContain(name);
    expect(readdirSync(dir).sort()).toEqual(['MANIFEST', ...segmentFiles(dir)].sort());

    const backend = await openWalBackend({ path: dir });
    expect(await backend.readRoot()).toBe(report.root);
    expect(await materialize(backend, report.root)).toEqual(content);
    await backend.close();
  });

  it('reports progress through scan, copy, switch, cleanup and done, in order', async () => {
    const dir = tempDir();
    await seed(dir);
    const oldSegments = segmentFiles(dir).length;
    const events: ReclaimProgress[] = [];
    const report = await compactWal(dir, { onProgress: (progress) => events.push(progress) });
    const phases = events.map((event) => event.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['scan', 'copy', 'switch', 'cleanup', 'done']);
    expect(events.filter((event) => event.phase === 'copy').at(-1)).toEqual({
      phase: 'copy',
      done: report.liveAtoms,
      total: report.liveAtoms,
    });
    expect(events.filter((event) => event.phase === 'cleanup').map((event) => event.done)).toEqual(
      Array.from({ length: oldSegments }, (_, i) => i + 1),
    );
    expect(events.at(-1)).toEqual({ phase: 'done', done: report.liveAtoms, total: report.liveAtoms });
    for (const phase of ['scan', 'copy', 'cleanup'] as const) {
      const done = events.filter((event) => event.phase === phase).map((event) => event.done);
      expect(done).toEqual([...done].sort((a, b) => a - b));
    }
  });

  it('opens with the same root and contents after a crash at every step of compaction', async () => {
    const template = tempDir();
    const { root, content } = await seed(join(template, 'db'), 4);
    const work = tempDir();
    let finishedAt: number | undefined;
    let switched = 0;
    for (let crashAt = 1; finishedAt === undefined; crashAt++) {
      const dir = join(work, `crash-${crashAt}`);
      cpSync(join(template, 'db'), dir, { recursive: true });
      const { fs, inject } = instrumentedFs();
      let steps = 0;
      let dead = false;
      // The process "dies" at the crashAt-th change to the disk: that call and every later
      // call fail, so no clean-up code can repair anything.
      inject((call) => {
        if (!dead && MUTATING.has(call.op) && ++steps === crashAt) dead = true;
        return dead ? fsError('EIO', call) : undefined;
      });
      const outcome = await compactWal(dir, { fs, segmentBytes: SEGMENT_BYTES }).catch(
        (error: unknown) => error,
      );
      if (!dead) {
        finishedAt = crashAt;
        expect(isProtoError(outcome)).toBe(false);
      } else {
        expect(
          isProtoError(outcome),
          `crash at step ${crashAt}: ${String(outcome)} ${(outcome as Error)?.stack}`,
        ).toBe(true);
      }
      // Whatever happened, the database opens with the same contents ...
      expect(await contentOf(dir), `contents after a crash at step ${crashAt}`).toEqual(content);
      const backend = await openWalBackend({ path: dir });
      const after = await backend.readRoot();
      if (after !== root) switched += 1;
      await backend.close();
      // ... holds only the files its manifest names ...
      expect(segmentFiles(dir).map((name) => Number.parseInt(name.slice(4, 12), 16))).toEqual(
        manifestSegments(dir),
      );
      // ... and can be compacted again.
      await compactWal(dir, { segmentBytes: SEGMENT_BYTES });
      expect(await contentOf(dir)).toEqual(content);
    }
    expect(finishedAt).toBeGreaterThan(20);
    // Crashes fell on both sides of the switch.
    expect(switched).toBeGreaterThan(0);
    expect(switched).toBeLessThan(finishedAt as number);
  });

  it('removes its new files and leaves the database as it was when a write fails with ENOSPC', async () => {
    const dir = tempDir();
    const { content } = await seed(dir);
    const before = segmentFiles(dir);
    const { fs, inject } = instrumentedFs();
    let writes = 0;
    // Fail the third write into a new segment file: the copy is under way, files exist.
    const isNewSegment = (file: string | undefined) =>
      file?.endsWith('.wal') === true && !before.some((name) => file.endsWith(name));
    inject((call) =>
      call.op === 'write' && isNewSegment(call.file) && ++writes === 3 ? fsError('ENOSPC', call) : undefined,
    );
    const error = await compactWal(dir, { fs, segmentBytes: 1024 }).catch((e: unknown) => e);
    expect(hasReason(error, 'io')).toBe(true);
    expect(String((error as Error).message)).toContain('ENOSPC');
    expect(writes).toBe(3);
    expect(segmentFiles(dir)).toEqual(before);
    expect(await contentOf(dir)).toEqual(content);
  });

  it('keeps taking commits after compaction, and they survive a reopen', async () => {
    const dir = tempDir();
    const { content } = await seed(dir, 3);
    const report = await compactWal(dir);
    const backend = await openWalBackend({ path: dir });
    const [extra] = await backend.writeAtoms([
      encodeNode('extra', { old: new Ref(report.root as AtomPointer) }),
    ]);
    expect(await backend.compareAndSetRoot(report.root, extra as AtomPointer)).toBe(true);
    await backend.close();
    const reopened = await openWalBackend({ path: dir });
    expect(await materialize(reopened, await reopened.readRoot())).toEqual({
      typeName: 'extra',
      payload: { old: content },
    });
    await reopened.close();
  });

  it('compacts a database that was never committed to into an empty one', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    await backend.writeAtoms([encodeNode('loose', { n: 1 })]);
    await backend.close();
    const report = await compactWal(dir);
    expect(report).toMatchObject({ liveAtoms: 0, root: null });
    const reopened = await openWalBackend({ path: dir });
    expect(await reopened.readRoot()).toBeNull();
    await commitAtom(reopened, encodeNode('first', {}));
    await reopened.close();
  });

  it('rejects with not-found for a directory without a database, creating nothing', async () => {
    const dir = tempDir();
    await expect(compactWal(join(dir, 'nothing-here'))).rejects.toSatisfy((error) =>
      hasReason(error, 'not-found'),
    );
    await expect(compactWal(dir)).rejects.toSatisfy((error) => hasReason(error, 'not-found'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails without touching the database when an atom is not a codec frame', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    const [leaf] = await backend.writeAtoms([bytesOf('raw bytes, not a frame')]);
    await commitAtom(backend, encodeNode('parent', { child: new Ref(leaf as AtomPointer) }));
    await backend.close();
    const before = snapshot(dir);
    const error = await compactWal(dir).catch((e: unknown) => e);
    expect(hasReason(error, 'corrupt')).toBe(true);
    expect(String((error as Error).message)).toContain(leaf as string);
    expect(snapshot(dir)).toEqual(before);
  });
});
