import { copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AtomPointer } from '@proto/atom/storage';
import { hasReason, isProtoError } from '@proto/atom/storage';
import { openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { noSyncFs, patternBytes, segmentFiles, tempDir, writtenEnd } from './helpers.js';

const SEGMENT_DATA_START = 32;
const HEADER = 16;

interface Step {
  readonly root: AtomPointer;
  /** Bytes of the segment file once this commit was durable. */
  readonly end: number;
  /** Every atom written up to this commit, with its bytes. */
  readonly atoms: ReadonlyMap<AtomPointer, Uint8Array>;
}

/** A one-segment database with `commits` commits of a few atoms each, then uncommitted atoms. */
async function buildHistory(dir: string, commits: number) {
  const backend = await openWalBackend({ path: dir });
  const atoms = new Map<AtomPointer, Uint8Array>();
  const steps: Step[] = [];
  let root: AtomPointer | null = null;
  for (let k = 0; k < commits; k++) {
    const batch = [patternBytes(5 + k * 7, k), patternBytes(k % 3, 100 + k), patternBytes(40, 200 + k)];
    const pointers = await backend.writeAtoms(batch);
    for (const [i, pointer] of pointers.entries()) atoms.set(pointer, batch[i] as Uint8Array);
    const next = pointers[2] as AtomPointer;
    expect(await backend.compareAndSetRoot(root, next)).toBe(true);
    root = next;
    const file = join(dir, segmentFiles(dir)[0] as string);
    steps.push({ root, end: writtenEnd(file), atoms: new Map(atoms) });
  }
  const loose = await backend.writeAtoms([patternBytes(90, 999), patternBytes(10, 998)]);
  await backend.close();
  const segment = segmentFiles(dir)[0] as string;
  return { steps, segment, loose, size: statSync(join(dir, segment)).size };
}

/** A copy of the database in `from` whose segment file holds `bytes`. */
function variant(from: string, into: string, segment: string, bytes: Uint8Array): string {
  mkdirSync(into);
  copyFileSync(join(from, 'MANIFEST'), join(into, 'MANIFEST'));
  writeFileSync(join(into, segment), bytes, { mode: 0o600 });
  return into;
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ 0x5a;
  return copy;
}

function offsetOf(pointer: AtomPointer): number {
  return Number.parseInt(pointer.split('.')[1] as string, 36);
}

describe('storage-wal: recovery', () => {
  it('opens at the last commit wholly before the cut when the segment is truncated at many offsets', async () => {
    const dir = tempDir();
    const { steps, segment, size } = await buildHistory(join(dir, 'db'), 8);
    const original = readFileSync(join(dir, 'db', segment));
    // Every offset from the end of the second-to-last commit on, every record boundary and its neighbours,
    // and a stride through the rest.
    const boundaries = [
      SEGMENT_DATA_START,
      ...steps.flatMap((step) => [step.end, ...[...step.atoms.keys()].map(offsetOf)]),
    ];
    const cuts = new Set<number>();
    for (const at of boundaries) for (const delta of [-1, 0, 1, HEADER - 1, HEADER]) cuts.add(at + delta);
    for (let cut = SEGMENT_DATA_START; cut <= size; cut += 29) cuts.add(cut);
    for (let cut = (steps.at(-2) as Step).end; cut <= size; cut++) cuts.add(cut);
    const sorted = [...cuts].filter((cut) => cut >= SEGMENT_DATA_START && cut <= size).sort((a, b) => a - b);
    expect(sorted.length).toBeGreaterThan(250);
    for (const cut of sorted) {
      const at = variant(join(dir, 'db'), join(dir, `cut-${cut}`), segment, original.subarray(0, cut));
      const expected = steps.filter((step) => step.end <= cut).at(-1);
      const backend = await openWalBackend({ path: at, fs: noSyncFs });
      expect(await backend.readRoot(), `cut at ${cut}`).toBe(expected?.root ?? null);
      for (const [pointer, bytes] of expected?.atoms ?? [])
        expect(backend.readAtomSync?.(pointer)).toEqual(bytes);
      // The torn tail is gone and the database takes new commits.
      expect(statSync(join(at, segment)).size).toBe(expected?.end ?? SEGMENT_DATA_START);
      const [next] = await backend.writeAtoms([patternBytes(3, cut)]);
      expect(await backend.compareAndSetRoot(expected?.root ?? null, next as string)).toBe(true);
      await backend.close();
    }
  });

  it('reports corrupt naming the file when the segment header itself is cut or damaged', async () => {
    const dir = tempDir();
    const { segment } = await buildHistory(join(dir, 'db'), 2);
    const original = readFileSync(join(dir, 'db', segment));
    const cases = [original.subarray(0, 20), flip(original, 21)];
    for (const [i, bytes] of cases.entries()) {
      const at = variant(join(dir, 'db'), join(dir, `v${i}`), segment, bytes);
      const error = await openWalBackend({ path: at }).catch((e: unknown) => e);
      expect(hasReason(error, 'corrupt')).toBe(true);
      expect(isProtoError(error) && error.details).toMatchObject({ file: join(at, segment), offset: 0 });
    }
  });

  it('discards a damaged last commit and opens at the one before it', async () => {
    const dir = tempDir();
    const { steps, segment } = await buildHistory(join(dir, 'db'), 6);
    const original = readFileSync(join(dir, 'db', segment));
    const last = steps.at(-1) as Step;
    const previous = steps.at(-2) as Step;
    const lastAtom = [...last.atoms.keys()].at(-1) as AtomPointer;
    // Each byte of the last commit record, and bytes of the atoms only it covers.
    const targets = [
      ...Array.from(
        { length: last.end - (offsetOf(lastAtom) + HEADER + 40) },
        (_, i) => offsetOf(lastAtom) + HEADER + 40 + i,
      ),
      previous.end + 3,
      offsetOf(lastAtom) + HEADER + 5,
    ];
    for (const target of targets) {
      const at = variant(join(dir, 'db'), join(dir, `flip-${target}`), segment, flip(original, target));
      const backend = await openWalBackend({ path: at, fs: noSyncFs });
      expect(await backend.readRoot(), `flipped byte ${target}`).toBe(previous.root);
      for (const [pointer, bytes] of previous.atoms) expect(backend.readAtomSync?.(pointer)).toEqual(bytes);
      await backend.close();
    }
  });

  it('ignores a damaged byte in the uncommitted tail and opens at the last commit', async () => {
    const dir = tempDir();
    const { steps, segment, loose } = await buildHistory(join(dir, 'db'), 4);
    const original = readFileSync(join(dir, 'db', segment));
    const at = variant(
      join(dir, 'db'),
      join(dir, 'tail'),
      segment,
      flip(original, offsetOf(loose[1] as string) + 2),
    );
    const backend = await openWalBackend({ path: at });
    expect(await backend.readRoot()).toBe((steps.at(-1) as Step).root);
    await backend.close();
  });

  it('opens but reports corrupt with file and offset when reading an atom damaged in the middle', async () => {
    const dir = tempDir();
    const { steps, segment } = await buildHistory(join(dir, 'db'), 6);
    const original = readFileSync(join(dir, 'db', segment));
    const victim = [...(steps[1] as Step).atoms.keys()].at(-1) as AtomPointer;
    const at = variant(
      join(dir, 'db'),
      join(dir, 'middle'),
      segment,
      flip(original, offsetOf(victim) + HEADER + 7),
    );
    const backend = await openWalBackend({ path: at });
    expect(await backend.readRoot()).toBe((steps.at(-1) as Step).root);
    const error = await backend.readAtom(victim).catch((e: unknown) => e);
    expect(hasReason(error, 'corrupt')).toBe(true);
    expect(isProtoError(error) && error.details).toEqual({
      file: join(at, segment),
      offset: offsetOf(victim),
    });
    expect(String((error as Error).message)).toContain(`${join(at, segment)} at offset ${offsetOf(victim)}`);
    expect(() => backend.readAtomSync?.(victim)).toThrow(expect.objectContaining({ reason: 'corrupt' }));
    // Undamaged atoms still read.
    const intact = [...(steps.at(-1) as Step).atoms].at(-1) as [AtomPointer, Uint8Array];
    expect(await backend.readAtom(intact[0])).toEqual(intact[1]);
    await backend.close();
  });

  it('refuses to open with corrupt when the last two commits are both damaged', async () => {
    const dir = tempDir();
    const { steps, segment } = await buildHistory(join(dir, 'db'), 6);
    const original = readFileSync(join(dir, 'db', segment));
    const lastAtom = [...(steps.at(-1) as Step).atoms.keys()].at(-1) as AtomPointer;
    const previousAtom = [...(steps.at(-2) as Step).atoms.keys()].at(-1) as AtomPointer;
    const damaged = flip(
      flip(original, offsetOf(lastAtom) + HEADER + 1),
      offsetOf(previousAtom) + HEADER + 1,
    );
    const at = variant(join(dir, 'db'), join(dir, 'both'), segment, damaged);
    const error = await openWalBackend({ path: at }).catch((e: unknown) => e);
    expect(hasReason(error, 'corrupt')).toBe(true);
    expect(isProtoError(error) && error.details).toMatchObject({ file: join(at, segment) });
    // Nothing was truncated: the evidence stays for inspection.
    expect(statSync(join(at, segment)).size).toBe(original.byteLength);
  });

  it('finds the last commit in the previous segment when the newest segment holds none', async () => {
    const dir = tempDir();
    const backend = await openWalBackend({ path: dir, segmentBytes: 2048 });
    let root: AtomPointer | null = null;
    while (segmentFiles(dir).length < 3) {
      const [p] = await backend.writeAtoms([patternBytes(300, segmentFiles(dir).length)]);
      expect(await backend.compareAndSetRoot(root, p as string)).toBe(true);
      root = p as string;
    }
    await backend.close();
    const newest = join(dir, segmentFiles(dir).at(-1) as string);
    // Cut the newest segment back to its header: its commits never happened.
    truncateSync(newest, SEGMENT_DATA_START);
    const reopened = await openWalBackend({ path: dir, segmentBytes: 2048 });
    const recovered = await reopened.readRoot();
    expect(recovered).not.toBeNull();
    expect(
      recovered?.startsWith(
        `${Number.parseInt(segmentFiles(dir).at(-2)?.slice(4, 12) as string, 16).toString(36)}.`,
      ),
    ).toBe(true);
    await reopened.close();
  });
});
