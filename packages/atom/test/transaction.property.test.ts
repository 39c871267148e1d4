import { isConflict, ObjectSpace, type Transaction } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const ROOTS = ['r0', 'r1', 'r2', 'r3'] as const;
type Step =
  | { kind: 'read'; root: number }
  | { kind: 'write'; root: number }
  | { kind: 'delete'; root: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), root: fc.nat(ROOTS.length - 1) }),
  fc.record({ kind: fc.constant('write' as const), root: fc.nat(ROOTS.length - 1) }),
  fc.record({ kind: fc.constant('delete' as const), root: fc.nat(ROOTS.length - 1) }),
);

interface Run {
  readonly id: number;
  readonly steps: readonly Step[];
  tx?: Transaction;
  next: number;
  observed: (number | undefined)[];
  commitOrder?: number;
  outcome?: Promise<{ ok: true; sequence: number } | { ok: false; error: unknown }>;
}

/** The value a write stores: depends on the transaction and on everything it read so far. */
function written(run: Run, step: number): number {
  return run.id * 1000 + step * 10 + run.observed.reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

function execute(run: Run, step: Step, index: number): void {
  const tx = run.tx as Transaction;
  const name = ROOTS[step.root] as string;
  if (step.kind === 'read') run.observed.push(tx.get<number>(name));
  else if (step.kind === 'write') tx.set(name, written(run, index));
  else tx.delete(name);
}

describe('atom: serializability (model-based)', () => {
  it('explains every committed history by a serial order of the committed transactions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(stepArb, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 7 }),
        fc.array(fc.nat(20), { minLength: 10, maxLength: 80 }),
        fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: ROOTS.length, minLength: ROOTS.length }),
        async (programs, schedule, initial) => {
          const space = await ObjectSpace.open(await openMemoryBackend());
          const db = space.database('m');
          await db.transact((tx) => {
            initial.forEach((v, i) => {
              if (v >= 0) tx.set(ROOTS[i] as string, v);
            });
          });
          const model = new Map<string, number>();
          initial.forEach((v, i) => {
            if (v >= 0) model.set(ROOTS[i] as string, v);
          });
          const runs: Run[] = programs.map((steps, id) => ({ id: id + 1, steps, next: -1, observed: [] }));
          let commits = 0;
          const advance = async (run: Run) => {
            if (run.outcome !== undefined) return;
            if (run.next === -1) {
              run.tx = db.begin();
              run.next = 0;
            } else if (run.next < run.steps.length) {
              execute(run, run.steps[run.next] as Step, run.next);
              run.next++;
            } else {
              run.commitOrder = commits++;
              run.outcome = (run.tx as Transaction).commit().then(
                (info) => ({ ok: true as const, sequence: info.sequence }),
                (error: unknown) => ({ ok: false as const, error }),
              );
            }
          };
          for (const pick of schedule) {
            if (pick >= runs.length) await new Promise((resolve) => setImmediate(resolve));
            else await advance(runs[pick] as Run);
          }
          for (const run of runs) while (run.outcome === undefined) await advance(run);
          const results = await Promise.all(runs.map((r) => r.outcome));

          // Replay the committed transactions serially, in commit order, against the model.
          const committed = runs
            .map((run, i) => ({ run, result: results[i] }))
            .filter((x) => x.result?.ok === true)
            .sort((a, b) => {
              const sa = (a.result as { sequence: number }).sequence;
              const sb = (b.result as { sequence: number }).sequence;
              return sa - sb || (a.run.commitOrder as number) - (b.run.commitOrder as number);
            });
          for (const { run } of committed) {
            const replay: Run = { ...run, observed: [] };
            run.steps.forEach((step, index) => {
              const name = ROOTS[step.root] as string;
              if (step.kind === 'read') replay.observed.push(model.get(name));
              else if (step.kind === 'write') model.set(name, written(replay, index));
              else model.delete(name);
            });
            expect(replay.observed).toEqual(run.observed);
          }
          for (const [i, result] of results.entries()) {
            if (result?.ok === false) {
              expect(isConflict(result.error), `run ${i} failed with ${String(result.error)}`).toBe(true);
            }
          }
          const final = db.begin();
          for (const name of ROOTS) expect(final.get(name)).toBe(model.get(name));
          expect(committed.length).toBeGreaterThan(0);
          await space.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
