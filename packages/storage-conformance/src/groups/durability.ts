/**
 * Guarantee 2, durability, as far as one process can check it: a committed root and every atom
 * written before it survive `close()` and a reopen of the same location. (Surviving a process
 * kill or a power loss needs a harness of its own.)
 */
import type { AtomPointer } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectStored, patternBytes } from '../assertions.js';
import { commitNode, remember, walkChain, writeNode } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

export const durability: ScenarioGroup = {
  name: 'durability',
  title: 'durability across reopen',
  scenarios: [
    {
      key: 'durability.reopen-keeps-root-and-atoms',
      title: 'a reopened location has the last committed root and every atom written before it',
      requires: { persistent: true },
      async run({ backend, reopen }) {
        const written = new Map<AtomPointer, Uint8Array>();
        let root: AtomPointer | null = null;
        for (let generation = 0; generation < 3; generation += 1) {
          const atoms = [0, 1, 2, 3, 4].map((i) => patternBytes(1 + i * 97, generation * 100 + i));
          const pointers = await backend.writeAtoms(atoms);
          remember(written, pointers, atoms);
          const node = await writeNode(backend, root, `generation-${generation}`);
          written.set(node.pointer, node.bytes);
          assert.isTrue(
            await backend.compareAndSetRoot(root, node.pointer),
            `commit of generation ${generation}`,
          );
          root = node.pointer;
        }
        const reopened = await reopen(backend);
        assert.strictEqual(await reopened.readRoot(), root, 'root after reopen');
        await expectStored(reopened, written, 'after reopen');
        assert.deepStrictEqual(await walkChain(reopened, root), [
          'generation-2',
          'generation-1',
          'generation-0',
        ]);
      },
    },
    {
      key: 'durability.uncommitted-not-root-visible-after-reopen',
      title:
        'atoms written after the last commit, and refused compare-and-sets, do not change the reopened root',
      requires: { persistent: true },
      async run({ backend, reopen }) {
        const root = await commitNode(backend, null, 'committed');
        const stray = await writeNode(backend, root, 'never committed');
        assert.isFalse(
          await backend.compareAndSetRoot(stray.pointer, stray.pointer),
          'compare-and-set on a wrong root',
        );
        await backend.writeAtoms([patternBytes(500, 9)]);
        const reopened = await reopen(backend);
        assert.strictEqual(await reopened.readRoot(), root, 'root after reopen');
        assert.deepStrictEqual(await walkChain(reopened, root), ['committed']);
      },
    },
    {
      key: 'durability.never-committed-reopens-empty',
      title: 'a location that was written to but never committed reopens with a null root',
      requires: { persistent: true },
      async run({ backend, reopen }) {
        await backend.writeAtoms([patternBytes(10, 1), patternBytes(20, 2)]);
        const reopened = await reopen(backend);
        assert.isNull(await reopened.readRoot());
        const node = await writeNode(reopened, null, 'first');
        assert.isTrue(await reopened.compareAndSetRoot(null, node.pointer), 'first commit after reopen');
      },
    },
    {
      key: 'durability.writes-after-reopen-keep-old-atoms',
      title: 'atoms and commits made after a reopen never disturb atoms from before it',
      requires: { persistent: true },
      async run({ backend, reopen }) {
        const before = new Map<AtomPointer, Uint8Array>();
        const oldAtoms = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => patternBytes(40, i));
        remember(before, await backend.writeAtoms(oldAtoms), oldAtoms);
        const first = await commitNode(backend, null, 'before');
        let current = await reopen(backend);
        const newAtoms = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => patternBytes(40, 50 + i));
        const newPointers = await current.writeAtoms(newAtoms);
        for (const pointer of newPointers) {
          assert.isFalse(before.has(pointer), `pointer ${pointer} issued after reopen was already in use`);
        }
        const second = await commitNode(current, first, 'after');
        await expectStored(current, before, 'atoms from before the reopen');
        current = await reopen(current);
        assert.strictEqual(await current.readRoot(), second, 'root after the second reopen');
        assert.deepStrictEqual(await walkChain(current, second), ['after', 'before']);
        await expectStored(current, before, 'atoms from before the first reopen');
        const after = remember(new Map(), newPointers, newAtoms);
        await expectStored(current, after, 'atoms from between the reopens');
      },
    },
  ],
};
