/**
 * The op log and the read log of `@proto/atom/extension` (issue 10): one typed log that every
 * tracked collection uses, behaving as `extension/logs.ts` promises (order, sharing,
 * memoization, what "missing" does). The type-level cases are checked by
 * `tsc -p tsconfig.tests.json`.
 */
import { appendOp, type LoggedRead, type OpNode, OpReplay, ReadLog } from '@proto/atom/extension';
import { describe, expect, it } from 'vitest';

/** A toy tracked value: a list of numbers, updated by push and scale. */
type ToyOp =
  | { readonly kind: 'push'; readonly item: number }
  | { readonly kind: 'scale'; readonly by: number };

interface ToyReads {
  length: readonly [seen: number, unused: undefined];
  item: readonly [index: number, seen: number | undefined];
}

function applyToy(state: readonly number[], op: ToyOp): readonly number[] {
  switch (op.kind) {
    case 'push':
      return [...state, op.item];
    case 'scale':
      return state.map((item) => item * op.by);
  }
}

function chain(...ops: ToyOp[]): OpNode<ToyOp> | undefined {
  let node: OpNode<ToyOp> | undefined;
  for (const op of ops) node = appendOp(node, op);
  return node;
}

describe('atom: op log and read log (issue 10)', () => {
  it('replays a chain oldest first when resolving on a newer version', () => {
    const replay = new OpReplay(applyToy);
    const ops = chain({ kind: 'push', item: 2 }, { kind: 'scale', by: 10 }, { kind: 'push', item: 1 });
    expect(replay.resolve(ops, [5])).toEqual([50, 20, 1]);
    expect(replay.version).toEqual([5]);
  });

  it('returns the newer version itself when there is no operation since the view', () => {
    const replay = new OpReplay(applyToy);
    const newer = [1, 2];
    expect(replay.version).toBeUndefined();
    expect(replay.resolve(undefined, newer)).toBe(newer);
  });

  it('applies a shared prefix once when two branches of one view are resolved on one version', () => {
    const applied: ToyOp[] = [];
    const replay = new OpReplay<ToyOp, readonly number[]>((state, op) => {
      applied.push(op);
      return applyToy(state, op);
    });
    const shared = appendOp(undefined, { kind: 'push', item: 1 } as ToyOp);
    shared.marked = true; // a read refers to the state after it
    const left = appendOp(shared, { kind: 'push', item: 2 });
    const right = appendOp(shared, { kind: 'scale', by: 3 });
    const newer = [4];
    expect(replay.resolve(left, newer)).toEqual([4, 1, 2]);
    expect(replay.resolve(right, newer)).toEqual([12, 3]);
    expect(replay.resolve(left, newer)).toEqual([4, 1, 2]);
    expect(applied.map((op) => op.kind)).toEqual(['push', 'push', 'scale']);
    // The nodes are shared, never copied: both branches still point at the same prefix.
    expect(left.prev).toBe(shared);
    expect(right.prev).toBe(shared);
  });

  it('replays again when resolving on another version', () => {
    let calls = 0;
    const replay = new OpReplay<ToyOp, readonly number[]>((state, op) => {
      calls++;
      return applyToy(state, op);
    });
    const ops = chain({ kind: 'push', item: 7 });
    expect(replay.resolve(ops, [1])).toEqual([1, 7]);
    expect(replay.resolve(ops, [2])).toEqual([2, 7]);
    expect(calls).toBe(2);
    expect(replay.version).toEqual([2]);
  });

  it('visits reads in recording order with their typed fields and context when checking', () => {
    const log = new ReadLog<ToyReads, string>();
    expect(log.length).toBe(0);
    log.record('length', 3, undefined, 'view a');
    log.record('item', 1, 20, 'view b');
    log.record('item', 9, undefined, 'view a');
    expect(log.length).toBe(3);
    const seen: unknown[] = [];
    const current = [10, 20, 30];
    const holds = log.every((kind, first, second, context) => {
      seen.push([kind, first, second, context]);
      // `kind` narrows both fields: `first` is a number for both kinds, `second` is
      // `undefined` for `length` and `number | undefined` for `item`.
      if (kind === 'length') return current.length === first;
      return current[first] === second;
    });
    expect(holds).toBe(true);
    expect(seen).toEqual([
      ['length', 3, undefined, 'view a'],
      ['item', 1, 20, 'view b'],
      ['item', 9, undefined, 'view a'],
    ]);
  });

  it('stops at the first read that no longer holds when checking', () => {
    const log = new ReadLog<ToyReads, null>();
    log.record('item', 0, 1, null);
    log.record('item', 1, 2, null);
    log.record('item', 2, 3, null);
    const visited: number[] = [];
    const newer = [1, 5, 3];
    // A check declares all four parameters: that is what narrows the fields on the kind.
    const holds = log.every((kind, first, second, _context) => {
      visited.push(first);
      return kind === 'item' && newer[first] === second;
    });
    expect(holds).toBe(false);
    expect(visited).toEqual([0, 1]);
  });

  it('holds for every version when no read was recorded', () => {
    const log = new ReadLog<ToyReads, null>();
    expect(log.every(() => false)).toBe(true);
  });

  it('rejects a read whose fields do not match its kind at compile time', () => {
    const log = new ReadLog<ToyReads, null>();
    // @ts-expect-error `length` records `undefined` as its second field
    log.record('length', 3, 4, null);
    // @ts-expect-error there is no read kind `size`
    log.record('size', 3, undefined, null);
    type Entry = LoggedRead<ToyReads, null>;
    const entry: Entry = ['item', 0, undefined, null];
    // @ts-expect-error an `item` read's index is a number
    const wrong: Entry = ['item', 'zero', undefined, null];
    expect([entry[0], wrong[0], log.length]).toEqual(['item', 'item', 2]);
  });
});
