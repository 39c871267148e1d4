import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { AtomPointer } from '@proto/atom/storage';
import { hasReason } from '@proto/atom/storage';
import { nodeFileSystem, openWalBackend, type WalFileSystem } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  commitAtom,
  fsError,
  instrumentedFs,
  patternBytes,
  segmentFiles,
  tempDir,
} from './helpers.js';

const isIo = (error: unknown) => hasReason(error, 'io');

/** Opens `dir` with a clean file layer and checks every acknowledged root's atom is there. */
async function expectIntact(
  dir: string,
  acknowledged: ReadonlyMap<AtomPointer, Uint8Array>,
  roots: AtomPointer[],
) {
  const backend = await openWalBackend({ path: dir });
  expect(roots).toContain(await backend.readRoot());
  for (const [pointer, bytes] of acknowledged) expect(await backend.readAtom(pointer)).toEqual(bytes);
  await backend.close();
}

describe('storage-wal: injected write and fsync failures', () => {
  for (const code of ['ENOSPC', 'EIO']) {
    it(`rejects writeAtoms with io and stays usable when a write fails with ${code}`, async () => {
      const dir = tempDir();
      const { fs, inject } = instrumentedFs();
      const backend = await openWalBackend({ path: dir, fs });
      const acknowledged = new Map<AtomPointer, Uint8Array>();
      const first = await commitAtom(backend, bytesOf('first'));
      acknowledged.set(first, bytesOf('first'));
      const file = join(dir, segmentFiles(dir)[0] as string);
      const size = statSync(file).size;

      inject((call) => (call.op === 'write' ? fsError(code, call) : undefined));
      const error = await backend.writeAtoms([patternBytes(5000, 1)]).catch((e: unknown) => e);
      expect(isIo(error)).toBe(true);
      expect(String((error as Error).message)).toContain(code);
      expect(statSync(file).size).toBe(size);
      inject(undefined);

      const second = await commitAtom(backend, bytesOf('second'));
      acknowledged.set(second, bytesOf('second'));
      await backend.close();
      await expectIntact(dir, acknowledged, [second]);
    });

    it(`rejects the commit with io and keeps the old root when writing its record fails with ${code}`, async () => {
      const dir = tempDir();
      const { fs, inject } = instrumentedFs();
      const backend = await openWalBackend({ path: dir, fs });
      const first = await commitAtom(backend, bytesOf('first'));
      const [next] = await backend.writeAtoms([bytesOf('next')]);
      inject((call) => (call.op === 'write' ? fsError(code, call) : undefined));
      await expect(backend.compareAndSetRoot(first, next as string)).rejects.toSatisfy(isIo);
      inject(undefined);
      expect(await backend.readRoot()).toBe(first);
      // The atoms written before the failed commit are still there and can be committed now.
      expect(await backend.compareAndSetRoot(first, next as string)).toBe(true);
      await backend.close();
      await expectIntact(dir, new Map([[next as string, bytesOf('next')]]), [next as string]);
    });

    it(`fails the backend until reopened when fsync fails with ${code}, losing nothing acknowledged`, async () => {
      const dir = tempDir();
      const { fs, inject } = instrumentedFs();
      const backend = await openWalBackend({ path: dir, fs });
      const acknowledged = new Map<AtomPointer, Uint8Array>();
      for (let i = 0; i < 5; i++)
        acknowledged.set(await commitAtom(backend, patternBytes(100, i)), patternBytes(100, i));
      const lastAcknowledged = [...acknowledged.keys()].at(-1) as AtomPointer;
      const [doomed] = await backend.writeAtoms([bytesOf('doomed')]);

      inject((call) => (call.op === 'sync' ? fsError(code, call) : undefined));
      const failure = await backend
        .compareAndSetRoot(lastAcknowledged, doomed as string)
        .catch((e: unknown) => e);
      expect(isIo(failure)).toBe(true);
      expect(String((failure as Error).message)).toContain('reopen');
      inject(undefined);

      // Failed state: writes are refused with a message saying what to do; reads still work.
      const refused = await backend.writeAtoms([bytesOf('after')]).catch((e: unknown) => e);
      expect(isIo(refused)).toBe(true);
      expect(String((refused as Error).message)).toMatch(/close and reopen/);
      await expect(backend.compareAndSetRoot(lastAcknowledged, doomed as string)).rejects.toSatisfy(isIo);
      expect(await backend.readRoot()).toBe(lastAcknowledged);
      expect(await backend.readAtom(lastAcknowledged)).toEqual(acknowledged.get(lastAcknowledged));
      await backend.close();

      // The commit whose fsync failed was never acknowledged: it may or may not have survived.
      await expectIntact(dir, acknowledged, [lastAcknowledged, doomed as string]);
      const reopened = await openWalBackend({ path: dir });
      await commitAtom(reopened, bytesOf('life goes on'));
      await reopened.close();
    });
  }

  it('undoes a torn (partial) write so the file holds only whole records', async () => {
    const dir = tempDir();
    let tear = false;
    const tearing: WalFileSystem = {
      ...nodeFileSystem,
      write(fd, buffer, offset, length, position) {
        if (!tear) return nodeFileSystem.write(fd, buffer, offset, length, position);
        nodeFileSystem.write(fd, buffer, offset, Math.floor(length / 2), position);
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const backend = await openWalBackend({ path: dir, fs: tearing });
    const first = await commitAtom(backend, bytesOf('first'));
    const file = join(dir, segmentFiles(dir)[0] as string);
    const size = statSync(file).size;
    tear = true;
    await expect(backend.writeAtoms([patternBytes(3000, 9)])).rejects.toSatisfy(isIo);
    expect(statSync(file).size).toBe(size);
    tear = false;
    const second = await commitAtom(backend, bytesOf('second'));
    await backend.close();
    await expectIntact(
      dir,
      new Map([
        [first, bytesOf('first')],
        [second, bytesOf('second')],
      ]),
      [second],
    );
  });

  it('fails the backend when a write fails and undoing it fails too', async () => {
    const dir = tempDir();
    const { fs, inject } = instrumentedFs();
    const backend = await openWalBackend({ path: dir, fs });
    const first = await commitAtom(backend, bytesOf('first'));
    inject((call) => (call.op === 'write' || call.op === 'truncate' ? fsError('EIO', call) : undefined));
    await expect(backend.writeAtoms([bytesOf('x')])).rejects.toSatisfy(isIo);
    inject(undefined);
    const refused = await backend.writeAtoms([bytesOf('y')]).catch((e: unknown) => e);
    expect(String((refused as Error).message)).toMatch(/stopped accepting writes/);
    await backend.close();
    await expectIntact(dir, new Map([[first, bytesOf('first')]]), [first]);
  });

  it('keeps committing in the old segment when a new segment file cannot be created', async () => {
    const dir = tempDir();
    const { fs, inject } = instrumentedFs();
    const backend = await openWalBackend({ path: dir, fs, segmentBytes: 2048 });
    inject((call) =>
      call.op === 'create' && call.file?.endsWith('.wal') ? fsError('ENOSPC', call) : undefined,
    );
    const acknowledged = new Map<AtomPointer, Uint8Array>();
    for (let i = 0; i < 20; i++)
      acknowledged.set(await commitAtom(backend, patternBytes(300, i)), patternBytes(300, i));
    expect(segmentFiles(dir)).toHaveLength(1);
    inject(undefined);
    const last = await commitAtom(backend, bytesOf('rolled'));
    await backend.close();
    expect(segmentFiles(dir)).toHaveLength(2);
    acknowledged.set(last, bytesOf('rolled'));
    await expectIntact(dir, acknowledged, [last]);
  });

  it('fails the backend when syncing a new segment fails, and reopens with every acknowledged commit', async () => {
    const dir = tempDir();
    const { fs, inject } = instrumentedFs();
    const backend = await openWalBackend({ path: dir, fs, segmentBytes: 2048 });
    const acknowledged = new Map<AtomPointer, Uint8Array>();
    let failed: unknown;
    inject((call) => (call.op === 'syncDir' ? fsError('EIO', call) : undefined));
    for (let i = 0; i < 20 && failed === undefined; i++) {
      try {
        acknowledged.set(await commitAtom(backend, patternBytes(300, i)), patternBytes(300, i));
      } catch (error) {
        failed = error;
      }
    }
    expect(isIo(failed)).toBe(true);
    inject(undefined);
    await backend.close();
    await expectIntact(dir, acknowledged, [[...acknowledged.keys()].at(-1) as AtomPointer]);
  });

  it('rejects the open with io and leaves no lock behind when reading fails', async () => {
    const dir = tempDir();
    const setup = await openWalBackend({ path: dir });
    await commitAtom(setup, bytesOf('x'));
    await setup.close();
    const { fs, inject } = instrumentedFs();
    inject((call) => (call.op === 'read' && call.file?.endsWith('.wal') ? fsError('EIO', call) : undefined));
    await expect(openWalBackend({ path: dir, fs })).rejects.toSatisfy(isIo);
    const again = await openWalBackend({ path: dir });
    expect(await again.readRoot()).not.toBeNull();
    await again.close();
  });
});
