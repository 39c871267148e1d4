/**
 * The power-loss simulator keeps its rules: what is synced survives, what is not may be lost,
 * torn at sector boundaries or reordered, and names need a directory sync.
 */
import { describe, expect, it } from 'vitest';
import { type DiskImage, emptyImage, PowerLossFs, SECTOR_BYTES } from './fixtures/power-loss-fs.js';
import { DiskModel, Random } from './fixtures/power-loss-model.js';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

/** Replays `fs`'s record from `initial` and draws images under every mode. */
function images(initial: DiskImage, fs: PowerLossFs, count = 200): DiskImage[] {
  const model = new DiskModel(initial);
  for (const event of fs.events) model.apply(event);
  const random = new Random(7);
  return [
    model.image(random, 'all'),
    model.image(random, 'none'),
    ...Array.from({ length: count }, () => model.image(random, 'random')),
  ];
}

function fileIn(image: DiskImage, path: string): Uint8Array | undefined {
  return new PowerLossFs(image).readPath(path);
}

describe('storage-wal: power-loss simulator', () => {
  it('keeps synced data and may drop, tear or reorder what was written after the sync', async () => {
    const initial = emptyImage(['/d']);
    const fs = new PowerLossFs(initial);
    const fd = fs.open('/d/f', 'wx');
    fs.write(fd, bytes(1000, 1), 0, 1000, 0);
    await fs.sync(fd);
    await fs.syncDir('/d');
    fs.write(fd, bytes(3 * SECTOR_BYTES, 2), 0, 3 * SECTOR_BYTES, 1000);
    const seen = new Set<string>();
    for (const image of images(initial, fs)) {
      const file = fileIn(image, '/d/f') as Uint8Array;
      expect(file.subarray(0, 1000)).toEqual(bytes(1000, 1));
      // Every byte after the synced part is the new one or, where its sector did not land, zero.
      expect(file.subarray(1000).every((byte) => byte === 0 || byte === 2)).toBe(true);
      // The write touches four sectors; its piece in each starts at one of these offsets.
      const pieces = [1000, SECTOR_BYTES * 2, SECTOR_BYTES * 3, SECTOR_BYTES * 4];
      seen.add(`${file.byteLength}:${pieces.map((at) => (file[at] === 2 ? 'y' : 'n')).join('')}`);
    }
    expect(seen.has('1000:nnnn')).toBe(true); // nothing landed
    expect(seen.has(`${1000 + 3 * SECTOR_BYTES}:yyyy`)).toBe(true); // everything landed
    expect([...seen].some((key) => /n+y/.test(key))).toBe(true); // a hole before a later sector
  });

  it('counts only writes issued before a sync started as synced by it', async () => {
    const initial = emptyImage(['/d']);
    const fs = new PowerLossFs(initial);
    const fd = fs.open('/d/f', 'wx');
    await fs.syncDir('/d');
    fs.write(fd, bytes(10, 1), 0, 10, 0);
    const sync = fs.sync(fd);
    fs.write(fd, bytes(10, 2), 0, 10, 10);
    await sync;
    const lengths = new Set(images(initial, fs).map((image) => fileIn(image, '/d/f')?.byteLength));
    expect(lengths).toEqual(new Set([10, 20]));
  });

  it('needs a directory sync for a new name, and fdatasync does not give one', async () => {
    const initial = emptyImage(['/d']);
    const fs = new PowerLossFs(initial);
    const fd = fs.open('/d/f', 'wx');
    fs.write(fd, bytes(10, 1), 0, 10, 0);
    await fs.sync(fd);
    const names = images(initial, fs).map((image) => fileIn(image, '/d/f')?.byteLength);
    expect(names).toContain(undefined);
    expect(names).toContain(10);
    await fs.syncDir('/d');
    for (const image of images(initial, fs)) expect(fileIn(image, '/d/f')).toEqual(bytes(10, 1));
  });

  it('makes a rename whole: the target holds the old or the new file, never nothing', async () => {
    const initial = emptyImage(['/d']);
    const fs = new PowerLossFs(initial);
    for (const [name, fill] of [
      ['/d/target', 1],
      ['/d/temp', 2],
    ] as const) {
      const fd = fs.open(name, 'wx');
      fs.write(fd, bytes(4, fill), 0, 4, 0);
      await fs.sync(fd);
      fs.close(fd);
      if (fill === 1) await fs.syncDir('/d');
    }
    fs.rename('/d/temp', '/d/target');
    const seen = new Set(images(initial, fs).map((image) => fileIn(image, '/d/target')?.[0]));
    expect(seen).toEqual(new Set([1, 2]));
  });

  it('loses a new directory with everything in it unless its parent is synced', async () => {
    const initial = emptyImage(['/p']);
    const fs = new PowerLossFs(initial);
    fs.mkdir('/p/db', 0o700);
    const fd = fs.open('/p/db/f', 'wx');
    fs.write(fd, bytes(4, 1), 0, 4, 0);
    await fs.sync(fd);
    await fs.syncDir('/p/db');
    const seen = images(initial, fs).map((image) => fileIn(image, '/p/db/f')?.byteLength);
    expect(seen).toContain(undefined);
    await fs.syncDir('/p');
    for (const image of images(initial, fs)) expect(fileIn(image, '/p/db/f')?.byteLength).toBe(4);
  });

  it('enumerates every combination of pending names when asked', async () => {
    const initial = emptyImage(['/d']);
    const fs = new PowerLossFs(initial);
    for (const name of ['a', 'b', 'c']) fs.close(fs.open(`/d/${name}`, 'wx'));
    const model = new DiskModel(initial);
    for (const event of fs.events) model.apply(event);
    expect(model.pendingNameCount()).toBe(3);
    const listings = new Set<string>();
    for (let names = 0; names < 8; names++)
      listings.add(new PowerLossFs(model.image(new Random(1), 'all', names)).readdir('/d').join());
    expect(listings.size).toBe(8);
  });
});
