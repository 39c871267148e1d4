import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guardBackend, hasReason } from '@proto/atom/storage';
import { openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { bytesOf, commitAtom, patternBytes, segmentFiles, tempDir, textOf, writtenEnd } from './helpers.js';

describe('storage-wal: backend', () => {
  it('declares durable, persistent, sync reads, single process, no online reclaim and checked reads', async () => {
    const backend = await openWalBackend({ path: tempDir() });
    expect(backend.capabilities).toEqual({
      durable: true,
      persistent: true,
      syncReads: true,
      multiProcess: false,
      maxAtomBytes: 64 * 1024 * 1024,
      reclaim: false,
      checkedReads: true,
    });
    expect(backend.name).toMatch(/^wal:\//);
    await backend.close();
  });

  it('keeps the root and every atom under the same pointers when reopened', async () => {
    const dir = tempDir();
    const first = await openWalBackend({ path: dir });
    const atoms = [bytesOf('alpha'), new Uint8Array(0), patternBytes(70_000, 1)];
    const pointers = await first.writeAtoms(atoms);
    expect(await first.compareAndSetRoot(null, pointers[0] as string)).toBe(true);
    await first.close();

    const second = await openWalBackend({ path: dir });
    expect(await second.readRoot()).toBe(pointers[0]);
    for (const [i, pointer] of pointers.entries()) {
      expect(await second.readAtom(pointer)).toEqual(atoms[i]);
      expect(second.readAtomSync?.(pointer)).toEqual(atoms[i]);
    }
    await second.close();
  });

  it('discards atoms that no commit covered when reopened', async () => {
    const dir = tempDir();
    const first = await openWalBackend({ path: dir });
    const committed = await commitAtom(first, bytesOf('committed'));
    const [loose] = await first.writeAtoms([bytesOf('never committed')]);
    await first.close();

    const second = await openWalBackend({ path: dir });
    expect(await second.readRoot()).toBe(committed);
    await expect(second.readAtom(loose as string)).rejects.toSatisfy((error) =>
      hasReason(error, 'not-found'),
    );
    await second.close();
  });

  it('rolls over to new segment files and reads across them after reopen', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir, segmentBytes: 4096 });
    const written = new Map<string, Uint8Array>();
    for (let i = 0; i < 60; i++) {
      const bytes = patternBytes(200 + i, i);
      written.set(await commitAtom(backend, bytes), bytes);
    }
    await backend.close();
    expect(segmentFiles(dir).length).toBeGreaterThan(3);
    for (const name of segmentFiles(dir)) expect(statSync(join(dir, name)).size).toBeLessThan(4096 + 1024);

    const reopened = await openWalBackend({ path: dir, segmentBytes: 4096 });
    for (const [pointer, bytes] of written) expect(reopened.readAtomSync?.(pointer)).toEqual(bytes);
    expect(await reopened.readRoot()).toBe([...written.keys()].at(-1));
    await reopened.close();
  });

  it('grows the tail file ahead of its appends, and cuts the hole off at rollover and close', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    const file = join(dir, segmentFiles(dir)[0] as string);
    const lengths = new Set<number>();
    const written = new Map<string, Uint8Array>();
    for (let i = 0; i < 200; i++) {
      const bytes = patternBytes(400, i);
      written.set(await commitAtom(backend, bytes), bytes);
      lengths.add(statSync(file).size);
    }
    // About 90 KB of records: the first append grew the file by 1 MiB, no commit since changed
    // its length (an fdatasync then has no new length to journal).
    expect(lengths.size).toBe(1);
    expect(statSync(file).size).toBeGreaterThan(writtenEnd(file) + 512 * 1024);
    await backend.close();
    expect(statSync(file).size).toBe(writtenEnd(file));

    const small = await openWalBackend({ path: dir, segmentBytes: 16 * 1024 });
    for (let i = 0; i < 100; i++) {
      const bytes = patternBytes(500, 1000 + i);
      written.set(await commitAtom(small, bytes), bytes);
    }
    const names = segmentFiles(dir);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names.slice(0, -1))
      expect(statSync(join(dir, name)).size).toBe(writtenEnd(join(dir, name)));
    // Never grown past the segment bound for appends that fit under it.
    expect(statSync(join(dir, names.at(-1) as string)).size).toBeLessThanOrEqual(16 * 1024);
    await small.close();

    const reopened = await openWalBackend({ path: dir });
    for (const [pointer, bytes] of written) expect(reopened.readAtomSync?.(pointer)).toEqual(bytes);
    await reopened.close();
  });

  it('round-trips any root string exactly across a reopen, lone surrogates included', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    const root = `\uD800 é 😀 ${'x'.repeat(200)}`;
    expect(await backend.compareAndSetRoot(null, root)).toBe(true);
    await backend.close();
    const reopened = await openWalBackend({ path: dir });
    expect(await reopened.readRoot()).toBe(root);
    await reopened.close();
  });

  it('rejects an atom above maxAtomBytes with too-large and writes nothing', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir, maxAtomBytes: 1000 });
    const before = statSync(join(dir, segmentFiles(dir)[0] as string)).size;
    await expect(backend.writeAtoms([bytesOf('ok'), new Uint8Array(1001)])).rejects.toSatisfy((error) =>
      hasReason(error, 'too-large'),
    );
    expect(statSync(join(dir, segmentFiles(dir)[0] as string)).size).toBe(before);
    await backend.close();
  });

  it('answers not-found for made-up pointers, foreign shapes and offsets past the end', async () => {
    const backend = await openWalBackend({ path: tempDir() });
    const [pointer] = await backend.writeAtoms([bytesOf('x')]);
    const [segment, offset] = (pointer as string).split('.');
    for (const bogus of [
      'nope',
      '',
      '1.0',
      '01.w.1',
      `${segment}.${offset}.zz`,
      `zz.${offset}.1`,
      '1.zzzz.1',
    ]) {
      expect(() => backend.readAtomSync?.(bogus), bogus).toThrow(
        expect.objectContaining({ reason: 'not-found' }),
      );
    }
    await backend.close();
  });

  it('decides queued compare-and-sets in order against the root the earlier ones leave', async () => {
    const backend = await openWalBackend({ path: tempDir() });
    const [a, b, c] = (await backend.writeAtoms([bytesOf('a'), bytesOf('b'), bytesOf('c')])) as string[];
    const results = await Promise.all([
      backend.compareAndSetRoot(null, a as string),
      backend.compareAndSetRoot(null, b as string), // loses: the root is a by now
      backend.compareAndSetRoot(a as string, c as string),
      backend.compareAndSetRoot(a as string, b as string), // loses: the root is c by now
    ]);
    expect(results).toEqual([true, false, true, false]);
    expect(await backend.readRoot()).toBe(c);
    await backend.close();
  });

  it('lets exactly one of two racing writers win on the same expected root', async () => {
    const backend = await openWalBackend({ path: tempDir() });
    const base = await commitAtom(backend, bytesOf('base'));
    const [x, y] = (await backend.writeAtoms([bytesOf('x'), bytesOf('y')])) as string[];
    const results = await Promise.all([
      backend.compareAndSetRoot(base, x as string),
      backend.compareAndSetRoot(base, y as string),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await backend.readRoot()).toBe(results[0] ? x : y);
    await backend.close();
  });

  it('serves a read-only open without the lock and rejects its writes with unsupported', async () => {
    const dir = tempDir();
    const writer = await openWalBackend({ path: dir });
    const root = await commitAtom(writer, bytesOf('shared'));
    const reader = await openWalBackend({ path: dir, readOnly: true });
    expect(await reader.readRoot()).toBe(root);
    expect(textOf(await reader.readAtom(root))).toBe('shared');
    await expect(reader.writeAtoms([bytesOf('no')])).rejects.toSatisfy((error) =>
      hasReason(error, 'unsupported'),
    );
    await expect(reader.compareAndSetRoot(root, root)).rejects.toSatisfy((error) =>
      hasReason(error, 'unsupported'),
    );
    await reader.close();
    await writer.close();
  });

  it('refuses a read-only open of a directory that holds no database', async () => {
    const dir = tempDir();
    await expect(openWalBackend({ path: join(dir, 'missing'), readOnly: true })).rejects.toSatisfy((error) =>
      hasReason(error, 'not-found'),
    );
    await expect(openWalBackend({ path: dir, readOnly: true })).rejects.toSatisfy((error) =>
      hasReason(error, 'not-found'),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('opens a database whose creation was killed after the manifest temp file was written', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'MANIFEST.tmp'), 'torn manifest');
    const backend = await openWalBackend({ path: dir });
    await commitAtom(backend, bytesOf('after'));
    await backend.close();
    expect(readdirSync(dir)).not.toContain('MANIFEST.tmp');
    const reopened = await openWalBackend({ path: dir });
    const root = await reopened.readRoot();
    expect(root).not.toBeNull();
    expect(textOf(await reopened.readAtom(root as string))).toBe('after');
    await reopened.close();
  });

  it('refuses to guess when the manifest is gone but segment files remain', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir });
    await commitAtom(backend, bytesOf('data'));
    await backend.close();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'MANIFEST'));
    await expect(openWalBackend({ path: dir })).rejects.toSatisfy((error) => hasReason(error, 'corrupt'));
    expect(segmentFiles(dir)).toHaveLength(1);
  });

  it('waits for queued commits on close and then rejects calls with closed', async () => {
    const backend = guardBackend(await openWalBackend({ path: tempDir() }));
    const [p] = (await backend.writeAtoms([bytesOf('late')])) as string[];
    const pending = backend.compareAndSetRoot(null, p as string);
    await backend.close();
    expect(await pending).toBe(true);
    await expect(backend.readRoot()).rejects.toSatisfy((error) => hasReason(error, 'closed'));
  });

  it('rejects invalid options with invalid-argument', async () => {
    await expect(openWalBackend({ path: '' })).rejects.toSatisfy((error) =>
      hasReason(error, 'invalid-argument'),
    );
    await expect(openWalBackend({ path: tempDir(), segmentBytes: 10 })).rejects.toSatisfy((error) =>
      hasReason(error, 'invalid-argument'),
    );
    await expect(openWalBackend({ path: tempDir(), maxAtomBytes: 2 ** 30 })).rejects.toSatisfy((error) =>
      hasReason(error, 'invalid-argument'),
    );
  });
});
