/**
 * Model-based check: random sequences of writes, reads, compare-and-sets and reopens on the
 * memory backend agree with a plain Map and a root variable.
 */
import { guardBackend, hasReason, type StorageBackend } from '@proto/atom/storage';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryLocation, openMemoryBackend } from '../src/index.js';

type Op =
  | { kind: 'write'; atoms: Uint8Array[] }
  | { kind: 'read'; pick: number }
  | { kind: 'readUnknown' }
  | { kind: 'cas'; expectedPick: number | null; nextPick: number }
  | { kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    atoms: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
  }),
  fc.record({ kind: fc.constant('read' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('readUnknown' as const) }),
  fc.record({
    kind: fc.constant('cas' as const),
    expectedPick: fc.option(fc.nat(), { nil: null }),
    nextPick: fc.nat(),
  }),
  fc.record({ kind: fc.constant('reopen' as const) }),
);

describe('storage-memory: model', () => {
  it('agrees with a Map and a root variable on any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const location = createMemoryLocation();
        let backend: StorageBackend = guardBackend(await openMemoryBackend({ location }));
        const model = new Map<string, Uint8Array>();
        let root: string | null = null;
        const pick = (n: number) => [...model.keys()][n % Math.max(model.size, 1)];
        for (const step of ops) {
          if (step.kind === 'write') {
            const pointers = await backend.writeAtoms(step.atoms);
            pointers.forEach((pointer, i) => {
              expect(model.has(pointer)).toBe(false);
              model.set(pointer, Uint8Array.from(step.atoms[i]!));
            });
            for (const atom of step.atoms) atom.fill(7);
          } else if (step.kind === 'read') {
            const pointer = pick(step.pick);
            if (pointer !== undefined) expect(await backend.readAtom(pointer)).toEqual(model.get(pointer));
          } else if (step.kind === 'readUnknown') {
            await backend.readAtom('unknown').then(
              () => expect.unreachable('an unknown pointer resolved'),
              (error: unknown) => expect(hasReason(error, 'not-found')).toBe(true),
            );
          } else if (step.kind === 'cas') {
            const next = pick(step.nextPick);
            if (next === undefined) continue;
            const expected = step.expectedPick === null ? null : (pick(step.expectedPick) ?? null);
            const ok = await backend.compareAndSetRoot(expected, next);
            expect(ok).toBe(expected === root);
            if (ok) root = next;
          } else {
            await backend.close();
            backend = guardBackend(await openMemoryBackend({ location }));
          }
          expect(await backend.readRoot()).toBe(root);
        }
        await backend.close();
      }),
      { numRuns: 200 },
    );
  });
});
