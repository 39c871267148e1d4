/**
 * `reclaim`: atoms unreachable from the root are freed while everything reachable keeps its
 * pointer and its bytes. Graphs are built with the kernel's codec (`@proto/atom/codec`), because
 * backends trace references with `atomReferences`.
 */
import { encodeAtom } from '@proto/atom/codec';
import type { AtomPointer, ReclaimProgress, StorageBackend } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectStored, patternBytes } from '../assertions.js';
import { remember } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

const TYPE = 'proto-conformance.node';
const PHASES: readonly ReclaimProgress['phase'][] = ['scan', 'copy', 'switch', 'cleanup', 'done'];

/** A reference to a stored atom inside a payload; the codec stores it as a pointer. */
class Ref {
  constructor(readonly pointer: AtomPointer) {}
}

function node(label: string, children: readonly AtomPointer[], blobSize = 32): Uint8Array {
  const payload = {
    label,
    blob: patternBytes(blobSize, label.length * 31 + children.length),
    children: children.map((pointer) => new Ref(pointer)),
  };
  return encodeAtom(TYPE, payload, {
    reference: (value) => (value instanceof Ref ? value.pointer : undefined),
  });
}

/** Atoms a scenario wrote, by pointer. */
type Atoms = Map<AtomPointer, Uint8Array>;

async function write(
  backend: StorageBackend,
  atoms: readonly Uint8Array[],
  into: Atoms,
): Promise<AtomPointer[]> {
  const pointers = await backend.writeAtoms(atoms);
  remember(into, pointers, atoms);
  return [...pointers];
}

/**
 * Writes a generation bottom-up: four leaves, two inner nodes sharing one leaf, a root over the
 * inner nodes and `shared` (atoms of an older generation). Returns the root and what it reaches.
 */
async function writeGeneration(
  backend: StorageBackend,
  name: string,
  shared: readonly AtomPointer[] = [],
): Promise<{ root: AtomPointer; reachable: Atoms }> {
  const reachable: Atoms = new Map();
  const leaves = await write(
    backend,
    [0, 1, 2, 3].map((i) => node(`${name}/leaf-${i}`, [], 64 + i)),
    reachable,
  );
  const [l0, l1, l2, l3] = leaves as [AtomPointer, AtomPointer, AtomPointer, AtomPointer];
  const inner = await write(
    backend,
    [node(`${name}/inner-a`, [l0, l1, l2]), node(`${name}/inner-b`, [l2, l3])],
    reachable,
  );
  const [root] = await write(backend, [node(`${name}/root`, [...inner, ...shared])], reachable);
  return { root: root as AtomPointer, reachable };
}

/** Writes atoms nothing committed refers to (some refer to live atoms), about 64 KiB in all. */
async function writeGarbage(backend: StorageBackend, liveTargets: readonly AtomPointer[]): Promise<void> {
  const atoms = Array.from({ length: 16 }, (_, i) => node(`garbage-${i}`, liveTargets.slice(0, i % 3), 4096));
  const [first] = await backend.writeAtoms(atoms);
  await backend.writeAtoms([node('garbage-parent', [first as AtomPointer], 128)]);
}

function reclaimOf(backend: StorageBackend): NonNullable<StorageBackend['reclaim']> {
  const reclaim = backend.reclaim?.bind(backend);
  assert.isFunction(reclaim, 'reclaim on a backend that declares capabilities.reclaim');
  return reclaim as NonNullable<StorageBackend['reclaim']>;
}

/** Commits an old generation, replaces it with a new one sharing some atoms, adds garbage. */
async function liveGraphWithGarbage(backend: StorageBackend): Promise<{ root: AtomPointer; live: Atoms }> {
  const old = await writeGeneration(backend, 'old');
  assert.isTrue(await backend.compareAndSetRoot(null, old.root), 'commit the old generation');
  const kept = [...old.reachable.keys()].slice(0, 2);
  const current = await writeGeneration(backend, 'new', kept);
  assert.isTrue(await backend.compareAndSetRoot(old.root, current.root), 'commit the new generation');
  const live = new Map(current.reachable);
  for (const pointer of kept) live.set(pointer, old.reachable.get(pointer) as Uint8Array);
  await writeGarbage(backend, [...live.keys()]);
  return { root: current.root, live };
}

export const reclaim: ScenarioGroup = {
  name: 'reclaim',
  title: 'reclaim',
  scenarios: [
    {
      key: 'reclaim.keeps-live-graph',
      title:
        'reclaim frees unreachable atoms and keeps every reachable atom under its pointer with its bytes',
      requires: { reclaim: true },
      async run({ backend }) {
        const { root, live } = await liveGraphWithGarbage(backend);
        const report = await reclaimOf(backend)();
        assert.strictEqual(await backend.readRoot(), root, 'root after reclaim');
        await expectStored(backend, live, 'live atom after reclaim');
        assert.strictEqual(report.liveAtoms, live.size, 'report.liveAtoms');
        assert.isBelow(
          report.bytesAfter,
          report.bytesBefore,
          'report.bytesAfter, with about 64 KiB of garbage freed',
        );
        assert.isAtLeast(report.bytesAfter, 0, 'report.bytesAfter');
      },
    },
    {
      key: 'reclaim.keeps-what-keep-reaches',
      title:
        'reclaim keeps the atoms options.keep reaches (the snapshots open transactions read) besides the live graph',
      requires: { reclaim: true },
      async run({ backend }) {
        const old = await writeGeneration(backend, 'old');
        assert.isTrue(await backend.compareAndSetRoot(null, old.root), 'commit the old generation');
        const current = await writeGeneration(backend, 'new');
        assert.isTrue(await backend.compareAndSetRoot(old.root, current.root), 'commit the new generation');
        await writeGarbage(backend, []);
        const report = await reclaimOf(backend)({ keep: [old.root] });
        const kept = new Map([...current.reachable, ...old.reachable]);
        await expectStored(backend, kept, 'atom reachable from the root or from keep');
        assert.strictEqual(report.liveAtoms, kept.size, 'report.liveAtoms counts what keep reaches');
        // Once nothing keeps the old generation, the next reclaim frees it.
        const again = await reclaimOf(backend)();
        assert.strictEqual(again.liveAtoms, current.reachable.size, 'report.liveAtoms without keep');
        await expectStored(backend, current.reachable, 'live atom after the second reclaim');
      },
    },
    {
      key: 'reclaim.reports-progress',
      title: 'reclaim reports progress phases in order and ends with done',
      requires: { reclaim: true },
      async run({ backend }) {
        await liveGraphWithGarbage(backend);
        const events: ReclaimProgress[] = [];
        await reclaimOf(backend)({ onProgress: (progress) => events.push({ ...progress }) });
        assert.isAbove(events.length, 0, 'progress events');
        assert.strictEqual(events.at(-1)?.phase, 'done', 'the last event');
        let previous: ReclaimProgress | undefined;
        for (const event of events) {
          const order = PHASES.indexOf(event.phase);
          assert.isAtLeast(order, 0, `phase ${event.phase}`);
          assert.isTrue(
            Number.isSafeInteger(event.done) && event.done >= 0,
            `done ${event.done} of ${event.phase}`,
          );
          if (event.total !== undefined)
            assert.isAtMost(event.done, event.total, `done of ${event.phase} within total`);
          if (previous !== undefined) {
            const before = PHASES.indexOf(previous.phase);
            assert.isAtLeast(order, before, `phase ${event.phase} after ${previous.phase}`);
            if (order === before)
              assert.isAtLeast(event.done, previous.done, `done in phase ${event.phase} never decreases`);
          }
          previous = event;
        }
      },
    },
    {
      key: 'reclaim.empty-location',
      title: 'reclaim on a never-committed location keeps nothing and the backend keeps working',
      requires: { reclaim: true },
      async run({ backend }) {
        await writeGarbage(backend, []);
        const report = await reclaimOf(backend)();
        assert.strictEqual(report.liveAtoms, 0, 'report.liveAtoms');
        assert.isNull(await backend.readRoot(), 'root after reclaim');
        const { root, reachable } = await writeGeneration(backend, 'after');
        assert.isTrue(await backend.compareAndSetRoot(null, root), 'first commit after reclaim');
        await expectStored(backend, reachable, 'atoms written after reclaim');
      },
    },
    {
      key: 'reclaim.commits-continue-after',
      title: 'after reclaim, new atoms and commits never disturb the live graph, and reclaim runs again',
      requires: { reclaim: true },
      async run({ backend }) {
        const { root, live } = await liveGraphWithGarbage(backend);
        const reclaimNow = reclaimOf(backend);
        await reclaimNow();
        const next = await writeGeneration(backend, 'next', [root]);
        for (const pointer of next.reachable.keys()) {
          assert.isFalse(live.has(pointer), `pointer ${pointer} issued after reclaim is still live`);
        }
        assert.isTrue(await backend.compareAndSetRoot(root, next.root), 'commit after reclaim');
        const all = new Map([...live, ...next.reachable]);
        const report = await reclaimNow();
        assert.strictEqual(report.liveAtoms, all.size, 'report.liveAtoms of the second reclaim');
        await expectStored(backend, all, 'live atom after the second reclaim');
      },
    },
    {
      key: 'reclaim.survives-reopen',
      title: 'a reclaimed location reopens with the same root and live graph',
      requires: { reclaim: true, persistent: true },
      async run({ backend, reopen }) {
        const { root, live } = await liveGraphWithGarbage(backend);
        await reclaimOf(backend)();
        const reopened = await reopen(backend);
        assert.strictEqual(await reopened.readRoot(), root, 'root after reopen');
        await expectStored(reopened, live, 'live atom after reclaim and reopen');
      },
    },
  ],
};
