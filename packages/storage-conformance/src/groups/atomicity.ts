/**
 * Guarantee 1, atomicity: a root set by compare-and-set is visible together with every atom
 * written before it, or not at all; atoms written without a commit never become the root.
 */
import type { AtomPointer } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectStored, jsonAtom, patternBytes } from '../assertions.js';
import { closeDuringWork, possibleRoots } from '../close-during-work.js';
import { commitNode, remember, walkChain, writeNode } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

export const atomicity: ScenarioGroup = {
  name: 'atomicity',
  title: 'atomicity',
  scenarios: [
    {
      key: 'atomicity.uncommitted-not-root-visible',
      title: 'atoms written without compare-and-set leave the root unchanged',
      async run({ backend }) {
        await backend.writeAtoms([patternBytes(32, 1), jsonAtom({ prev: null, label: 'never committed' })]);
        assert.isNull(await backend.readRoot(), 'root of a location that was only written to');
        const root = await commitNode(backend, null, 'committed');
        await writeNode(backend, root, 'written after the commit');
        await backend.writeAtoms([patternBytes(100, 2)]);
        assert.strictEqual(await backend.readRoot(), root, 'root after further uncommitted writes');
      },
    },
    {
      key: 'atomicity.commit-makes-prior-atoms-readable',
      title: 'every atom written before a successful compare-and-set is readable with the new root',
      async run({ backend }) {
        const written = new Map<AtomPointer, Uint8Array>();
        const batches = await Promise.all(
          [0, 1, 2].map(async (batch) => {
            const atoms = [0, 1, 2, 3].map((i) => patternBytes(16 + i * 50, batch * 10 + i));
            const pointers = await backend.writeAtoms(atoms);
            remember(written, pointers, atoms);
            return pointers;
          }),
        );
        const rootBytes = jsonAtom({ children: batches.flat() });
        const [root] = await backend.writeAtoms([rootBytes]);
        assert.isTrue(await backend.compareAndSetRoot(null, root as AtomPointer), 'first commit');
        written.set(root as AtomPointer, rootBytes);
        assert.strictEqual(await backend.readRoot(), root);
        await expectStored(backend, written, 'after the commit');
      },
    },
    {
      key: 'atomicity.close-during-work-no-torn-state',
      title: 'after close() with commits in flight, a reopen finds an acknowledged root and its whole chain',
      requires: { persistent: true },
      async run(context) {
        const result = await closeDuringWork(context);
        const reopened = await context.open();
        const root = await reopened.readRoot();
        assert.isNotNull(root, 'root after reopen');
        const allowed = possibleRoots(result);
        assert.isTrue(
          allowed.has(root as AtomPointer),
          `root after reopen ${root} is one of ${[...allowed].join(', ')}`,
        );
        const labels = (await walkChain(reopened, root)).reverse();
        const expected = ['base', ...labels.slice(1).map((_, i) => `burst-${i}`)];
        assert.deepStrictEqual(labels, expected, 'the chain from the reopened root, oldest first');
      },
    },
  ],
};
