/**
 * The lifecycle: declared capabilities, close (once, twice, with work in flight), use after
 * close, reopen, and who may hold a location.
 */
import { assert } from 'vitest';
import { expectReason, expectRejects, expectThrows, patternBytes } from '../assertions.js';
import { closeDuringWork } from '../close-during-work.js';
import { commitNode, writeOne } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

const BOOLEAN_CAPABILITIES = ['durable', 'persistent', 'syncReads', 'multiProcess', 'reclaim'] as const;

export const lifecycle: ScenarioGroup = {
  name: 'lifecycle',
  title: 'lifecycle',
  scenarios: [
    {
      key: 'lifecycle.capabilities-declared',
      title: 'the backend has a name and declares every capability, the same after reopen',
      async run({ backend, capabilities, reopen }) {
        assert.isString(backend.name);
        assert.isAbove(backend.name.length, 0, 'name length');
        for (const name of BOOLEAN_CAPABILITIES) assert.isBoolean(capabilities[name], `capabilities.${name}`);
        assert.isTrue(
          Number.isSafeInteger(capabilities.maxAtomBytes),
          'capabilities.maxAtomBytes is an integer',
        );
        assert.isAbove(capabilities.maxAtomBytes, 0, 'capabilities.maxAtomBytes');
        if (capabilities.checkedReads !== undefined)
          assert.isBoolean(capabilities.checkedReads, 'capabilities.checkedReads (optional)');
        assert.strictEqual(
          typeof backend.readAtomSync === 'function',
          capabilities.syncReads,
          'readAtomSync ⇔ syncReads',
        );
        assert.strictEqual(
          typeof backend.reclaim === 'function',
          capabilities.reclaim,
          'reclaim ⇔ capabilities.reclaim',
        );
        const reopened = await reopen(backend);
        assert.deepStrictEqual(
          { ...reopened.capabilities },
          { ...capabilities },
          'capabilities after reopen',
        );
      },
    },
    {
      key: 'lifecycle.use-after-close-rejects-closed',
      title: 'every call after close() rejects (or throws) with reason closed',
      async run({ backend, capabilities }) {
        const pointer = await writeOne(backend, patternBytes(16, 1));
        await backend.close();
        await expectRejects(backend.writeAtoms([patternBytes(4, 2)]), 'closed', 'writeAtoms after close');
        await expectRejects(backend.readAtom(pointer), 'closed', 'readAtom after close');
        await expectRejects(backend.readRoot(), 'closed', 'readRoot after close');
        await expectRejects(
          backend.compareAndSetRoot(null, pointer),
          'closed',
          'compareAndSetRoot after close',
        );
        if (capabilities.syncReads) {
          expectThrows(() => backend.readAtomSync?.(pointer), 'closed', 'readAtomSync after close');
        }
        if (capabilities.reclaim)
          await expectRejects(backend.reclaim?.() ?? Promise.resolve(), 'closed', 'reclaim after close');
      },
    },
    {
      key: 'lifecycle.double-close',
      title: 'close() can be called twice at once and again later; all calls resolve',
      async run({ backend }) {
        await commitNode(backend, null, 'root');
        await Promise.all([backend.close(), backend.close()]);
        await backend.close();
      },
    },
    {
      key: 'lifecycle.close-during-work-settles',
      title: 'calls in flight when close() is called resolve or reject with a typed error; close() resolves',
      async run(context) {
        const { attempts } = await closeDuringWork(context);
        assert.strictEqual(attempts.length, 8, 'compare-and-set calls in the burst');
      },
    },
    {
      key: 'lifecycle.reopen-after-close',
      title: 'a closed location opens again and the new backend works',
      async run({ backend, reopen }) {
        await commitNode(backend, null, 'before');
        const reopened = await reopen(backend);
        const bytes = patternBytes(50, 5);
        const pointer = await writeOne(reopened, bytes);
        const root = await reopened.readRoot();
        assert.isTrue(await reopened.compareAndSetRoot(root, pointer), 'a commit on the reopened backend');
        assert.strictEqual(await reopened.readRoot(), pointer);
      },
    },
    {
      key: 'lifecycle.watch-root',
      title: 'watchRoot reports each commit another backend on the location makes, until it is stopped',
      requires: { multiProcess: true },
      timeout: 20_000,
      async run({ backend, open }) {
        assert.isFunction(backend.watchRoot, 'a multi-process backend is guarded with a watchRoot');
        const other = await open();
        let committed = 0;
        let reported = 0;
        let wake: (() => void) | undefined;
        const stop = (backend.watchRoot as NonNullable<typeof backend.watchRoot>)(() => {
          reported = committed;
          wake?.();
        });
        try {
          let root = await other.readRoot();
          // Two rounds: a call after each commit, so one early call cannot pass for both.
          for (const round of [1, 2]) {
            root = await commitNode(other, root, `watched ${round}`);
            committed = round;
            const deadline = Date.now() + 5_000;
            while (reported < round) {
              assert.isBelow(Date.now(), deadline, `watchRoot did not report commit ${round} within 5 s`);
              await new Promise<void>((resolve) => {
                wake = resolve;
                setTimeout(resolve, 100);
              });
            }
            assert.strictEqual(await backend.readRoot(), root, 'the watching backend reads the new root');
          }
        } finally {
          stop();
          await other.close();
        }
      },
    },
    {
      key: 'lifecycle.exclusive-location',
      title: 'a second open of a location held by an open backend rejects with locked, and works after close',
      requires: { multiProcess: false },
      async run({ backend, open }) {
        const root = await commitNode(backend, null, 'held');
        let second: unknown;
        try {
          second = await open();
        } catch (error) {
          expectReason(error, 'locked', 'second open of a held location');
        }
        assert.isUndefined(second, 'a second open of a held location must reject');
        assert.strictEqual(await backend.readRoot(), root, 'the first backend is unaffected');
        await backend.close();
        const after = await open();
        await after.readRoot();
      },
    },
  ],
};
