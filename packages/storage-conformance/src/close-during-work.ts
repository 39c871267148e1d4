/**
 * The "close while work is in flight" exercise shared by the lifecycle and atomicity groups:
 * a burst of writes, reads and a chain of compare-and-set calls, with `close()` called before
 * any of them settles, then a few calls after `close()`.
 */
import type { AtomPointer } from '@proto/atom/storage';
import { isProtoError } from '@proto/atom/storage';
import { assert } from 'vitest';
import { expectReason, patternBytes, show } from './assertions.js';
import { commitNode, writeNode } from './fixtures.js';
import type { ScenarioContext } from './scenario.js';

/** A chain node the burst tried to commit, and what its compare-and-set did. */
export interface AttemptedRoot {
  readonly pointer: AtomPointer;
  readonly prev: AtomPointer;
  readonly outcome: 'acknowledged' | 'refused' | 'failed';
}

export interface CloseDuringWorkResult {
  /** The root committed before the burst. */
  readonly base: AtomPointer;
  readonly attempts: readonly AttemptedRoot[];
}

const CHAIN_LENGTH = 8;
const BURST_WRITES = 20;

/**
 * Runs the burst on `context.backend` and checks that every call either resolved or rejected
 * with a ProtoBase error, that `close()` resolved, and that calls made after `close()` rejected
 * with `closed`. The backend is closed afterwards.
 */
export async function closeDuringWork(context: ScenarioContext): Promise<CloseDuringWorkResult> {
  const { backend } = context;
  const base = await commitNode(backend, null, 'base');
  const nodes: { pointer: AtomPointer; prev: AtomPointer }[] = [];
  let prev = base;
  for (let i = 0; i < CHAIN_LENGTH; i += 1) {
    const { pointer } = await writeNode(backend, prev, `burst-${i}`);
    nodes.push({ pointer, prev });
    prev = pointer;
  }

  // Issue everything synchronously, then close before any of it can settle.
  const casCalls = nodes.map((node) => backend.compareAndSetRoot(node.prev, node.pointer));
  const otherCalls: Promise<unknown>[] = [];
  for (let i = 0; i < BURST_WRITES; i += 1) {
    otherCalls.push(backend.writeAtoms([patternBytes(64 + i, 1000 + i), patternBytes(3, i)]));
  }
  otherCalls.push(backend.readRoot(), backend.readAtom(base));
  const closing = backend.close();
  const afterClose = Promise.allSettled([
    backend.writeAtoms([patternBytes(8, 1)]),
    backend.readAtom(base),
    backend.readRoot(),
    backend.compareAndSetRoot(prev, base),
  ]);
  // Observe every outcome at once, so no rejection goes unhandled while others are pending.
  const [casOutcomes, otherOutcomes] = await Promise.all([
    Promise.allSettled(casCalls),
    Promise.allSettled(otherCalls),
    closing,
  ]);
  for (const [index, outcome] of [...casOutcomes, ...otherOutcomes].entries()) {
    if (outcome.status === 'rejected' && !isProtoError(outcome.reason)) {
      assert.fail(
        `call ${index} in flight during close() rejected with an untyped error: ${show(outcome.reason)}`,
      );
    }
  }
  for (const [index, outcome] of (await afterClose).entries()) {
    assert.strictEqual(outcome.status, 'rejected', `call ${index} made after close() must reject`);
    if (outcome.status === 'rejected')
      expectReason(outcome.reason, 'closed', `call ${index} made after close()`);
  }

  const attempts = nodes.map((node, index): AttemptedRoot => {
    const outcome = casOutcomes[index];
    const status =
      outcome?.status === 'fulfilled' ? (outcome.value ? 'acknowledged' : 'refused') : ('failed' as const);
    return { ...node, outcome: status };
  });
  return { base, attempts };
}

/**
 * The roots a location may hold after `result`: the newest acknowledged root (the one no other
 * acknowledged root builds on), or a root whose compare-and-set failed (its outcome is unknown).
 */
export function possibleRoots(result: CloseDuringWorkResult): Set<AtomPointer> {
  const acknowledged = result.attempts.filter((attempt) => attempt.outcome === 'acknowledged');
  const builtOn = new Set(acknowledged.map((attempt) => attempt.prev));
  const tips = [result.base, ...acknowledged.map((attempt) => attempt.pointer)].filter(
    (pointer) => !builtOn.has(pointer),
  );
  assert.strictEqual(tips.length, 1, 'acknowledged compare-and-set calls form one chain from the base root');
  const failed = result.attempts
    .filter((attempt) => attempt.outcome === 'failed')
    .map((attempt) => attempt.pointer);
  return new Set([...tips, ...failed]);
}
