/**
 * Guarantee 3, compare-and-set: a call whose `expected` is not the root changes nothing and
 * resolves false; of calls racing on the same `expected`, exactly one wins.
 */
import type { AtomPointer, StorageBackend } from '@proto/atom/storage';
import { assert } from 'vitest';
import { commitNode, walkChain, writeNode } from '../fixtures.js';
import type { ScenarioGroup } from '../scenario.js';

const RACERS = 20;

/** Races `RACERS` compare-and-set calls from `expected`, spread over `backends`; returns the winner. */
async function race(backends: readonly StorageBackend[], expected: AtomPointer | null): Promise<AtomPointer> {
  const candidates = await Promise.all(
    Array.from({ length: RACERS }, (_, i) =>
      writeNode(backends[i % backends.length] as StorageBackend, expected, `racer-${i}`),
    ),
  );
  const results = await Promise.all(
    candidates.map((candidate, i) =>
      (backends[i % backends.length] as StorageBackend).compareAndSetRoot(expected, candidate.pointer),
    ),
  );
  const winners = candidates.filter((_, i) => results[i] === true);
  assert.strictEqual(winners.length, 1, `compare-and-set calls that resolved true, of ${RACERS} racing`);
  const winner = (winners[0] as { pointer: AtomPointer }).pointer;
  for (const backend of backends) {
    assert.strictEqual(await backend.readRoot(), winner, 'root after the race is the winner');
  }
  return winner;
}

export const compareAndSet: ScenarioGroup = {
  name: 'cas',
  title: 'compare-and-set',
  scenarios: [
    {
      key: 'cas.first-commit-expects-null',
      title: 'the first commit succeeds only with expected null',
      async run({ backend }) {
        const other = await writeNode(backend, null, 'other');
        const node = await writeNode(backend, null, 'first');
        assert.isFalse(
          await backend.compareAndSetRoot(other.pointer, node.pointer),
          'expected a non-null root',
        );
        assert.isNull(await backend.readRoot(), 'root after a refused first commit');
        assert.isTrue(await backend.compareAndSetRoot(null, node.pointer), 'expected null');
        assert.strictEqual(await backend.readRoot(), node.pointer);
        assert.isFalse(
          await backend.compareAndSetRoot(null, other.pointer),
          'expected null once a root exists',
        );
        assert.strictEqual(await backend.readRoot(), node.pointer, 'root after a refused commit');
      },
    },
    {
      key: 'cas.wrong-expected-returns-false',
      title: 'compare-and-set with a wrong expected root resolves false and changes nothing',
      async run({ backend }) {
        const root = await commitNode(backend, null, 'root');
        const stale = await writeNode(backend, null, 'not the root');
        const next = await writeNode(backend, stale.pointer, 'next');
        assert.isFalse(await backend.compareAndSetRoot(stale.pointer, next.pointer), 'wrong expected');
        assert.isFalse(
          await backend.compareAndSetRoot(next.pointer, stale.pointer),
          'expected a root that never was',
        );
        assert.strictEqual(await backend.readRoot(), root, 'root after refused calls');
        const good = await commitNode(backend, root, 'good');
        assert.strictEqual(await backend.readRoot(), good, 'a correct compare-and-set still works');
      },
    },
    {
      key: 'cas.same-root-again',
      title: 'compare-and-set from the current root to itself resolves true',
      async run({ backend }) {
        const root = await commitNode(backend, null, 'root');
        assert.isTrue(await backend.compareAndSetRoot(root, root), 'compareAndSetRoot(root, root)');
        assert.strictEqual(await backend.readRoot(), root);
      },
    },
    {
      key: 'cas.race-exactly-one-wins',
      title: `exactly one of ${RACERS} concurrent compare-and-sets on the same expected root wins`,
      async run({ backend }) {
        const base = await commitNode(backend, null, 'base');
        const winner = await race([backend], base);
        const late = await writeNode(backend, base, 'late');
        assert.isFalse(
          await backend.compareAndSetRoot(base, late.pointer),
          'the old expected root after the race',
        );
        assert.deepStrictEqual((await walkChain(backend, winner)).slice(1), ['base']);
      },
    },
    {
      key: 'cas.race-from-empty-exactly-one-wins',
      title: `exactly one of ${RACERS} concurrent first commits (expected null) wins`,
      async run({ backend }) {
        await race([backend], null);
      },
    },
    {
      key: 'cas.chain',
      title: 'a chain of compare-and-sets each builds on the last; stale expected roots are refused',
      async run({ backend }) {
        const roots: AtomPointer[] = [];
        let root: AtomPointer | null = null;
        for (let i = 0; i < 25; i += 1) {
          root = await commitNode(backend, root, `link-${i}`);
          roots.push(root);
          assert.strictEqual(await backend.readRoot(), root, `root after link ${i}`);
        }
        const extra = await writeNode(backend, null, 'extra');
        for (const stale of [null, roots[0], roots[12], roots[23]]) {
          assert.isFalse(
            await backend.compareAndSetRoot(stale ?? null, extra.pointer),
            `stale expected ${stale}`,
          );
        }
        assert.strictEqual(await backend.readRoot(), root);
        const labels = await walkChain(backend, root);
        assert.deepStrictEqual(labels, roots.map((_, i) => `link-${i}`).reverse());
      },
    },
    {
      key: 'cas.concurrent-writers-lose-no-commit',
      title: 'concurrent writers retrying read-root/write/compare-and-set lose no commit',
      async run({ backend }) {
        const writers = 8;
        const commitsEach = 6;
        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            for (let n = 0; n < commitsEach; n += 1) {
              for (let attempt = 0; ; attempt += 1) {
                assert.isBelow(attempt, 1000, 'a writer made no progress');
                const prev = await backend.readRoot();
                const node = await writeNode(backend, prev, `w${writer}-${n}`);
                if (await backend.compareAndSetRoot(prev, node.pointer)) break;
              }
            }
          }),
        );
        const labels = await walkChain(backend, await backend.readRoot());
        assert.strictEqual(labels.length, writers * commitsEach, 'commits on the final chain');
        for (let writer = 0; writer < writers; writer += 1) {
          const own = labels.filter((label) => label.startsWith(`w${writer}-`)).reverse();
          assert.deepStrictEqual(
            own,
            Array.from({ length: commitsEach }, (_, n) => `w${writer}-${n}`),
          );
        }
      },
    },
    {
      key: 'cas.race-across-instances',
      title: 'two backends open on one location see each other’s commits and exactly one racer wins',
      requires: { multiProcess: true },
      async run({ backend, open }) {
        const second = await open();
        const base = await commitNode(backend, null, 'base');
        assert.strictEqual(await second.readRoot(), base, 'the second backend sees the first one’s commit');
        assert.deepStrictEqual(await walkChain(second, base), ['base']);
        await race([backend, second], base);
      },
    },
  ],
};
