/**
 * The op log and the read log: the two records a tracked value keeps for the kernel's rebase
 * (the tracking protocol, `track.ts`). Every tracked collection uses them, whatever its shape.
 *
 * - The op log is a chain of `OpNode`s, newest first: each value derived from a bound view
 *   points at the last operation that produced it, and shares the earlier ones with its
 *   siblings. An operation (`Op`) is a discriminated union by `kind`, one member per kind of
 *   update, with named, typed fields. `OpReplay` replays a chain on a newer version.
 * - The read log is flat: a read is four array slots (kind, two fields, the view that read),
 *   never an object, so a read inside a transaction costs one push of each slot. The kinds
 *   and their fields are a map type (`kind` → `[first, second]`); what a check sees is a
 *   discriminated union over it (`LoggedRead`), so a `switch` on the kind types both fields.
 *
 * The logs guarantee:
 * 1. Order: `ReadLog.every` visits reads in the order they were recorded and stops at the
 *    first `false`; `OpReplay.resolve` applies a chain oldest first.
 * 2. Sharing: a node is never copied or changed by the log except for `marked`, so a chain
 *    can be shared by every value derived from the same view, and branches freely.
 * 3. Memoization: for one newer version, `resolve` applies each operation at most once per
 *    chain it ends; the state after a `marked` node (one a read or a nested view refers to)
 *    and after the node asked for is kept until `resolve` is called with another version.
 *    `apply` must therefore be pure: same state and operation, same result.
 * 4. No I/O of its own: the logs read no storage; `apply` and checks may (through `AtomRef`).
 *
 * What "missing" does: `resolve(undefined, newer)` is `newer` (no operation since the view);
 * an empty read log holds for every version (`every` returns true). An operation kind that
 * `apply` does not know is the value type's bug: throw, never skip it.
 */

/** The common shape of an operation: a discriminated union member. */
export interface Operation {
  readonly kind: string;
}

/**
 * One recorded operation in the op log; `prev` links to the operation before it, `undefined`
 * for the first one after the bound view.
 */
export interface OpNode<Op extends Operation = Operation> {
  readonly prev: OpNode<Op> | undefined;
  readonly op: Op;
  /**
   * A read or a nested view refers to the state after this operation: `resolve` keeps that
   * state during a replay. Set it (`node.marked = true`) when recording such a read.
   */
  marked: boolean;
}

/**
 * The op log after `op`: a new node on top of `prev` (which is shared, not copied).
 * @example
 * type CounterOp = { readonly kind: 'add'; readonly delta: number };
 * let ops: OpNode<CounterOp> | undefined;
 * ops = appendOp(ops, { kind: 'add', delta: 2 });
 */
export function appendOp<Op extends Operation>(prev: OpNode<Op> | undefined, op: Op): OpNode<Op> {
  return { prev, op, marked: false };
}

const NO_VERSION: unique symbol = Symbol('no version');

/**
 * Replays op logs on a newer version, memoized per version (guarantee 3). One per bound view:
 * every value derived from the view shares it, so a rebase that replays several of them (and
 * checks reads taken between their operations) applies each operation once.
 * @example
 * const replay = new OpReplay<CounterOp, number>((state, op) => state + op.delta);
 * replay.resolve(ops, 40); // 42
 */
export class OpReplay<Op extends Operation, State> {
  #version: State | typeof NO_VERSION = NO_VERSION;
  readonly #memo = new Map<OpNode<Op>, State>();

  /** `apply(state, op)` returns the state after one operation; pure (guarantee 3). */
  constructor(private readonly apply: (state: State, op: Op) => State) {}

  /** The newer version the last `resolve` started from, or `undefined` before the first. */
  get version(): State | undefined {
    const version = this.#version;
    return version === NO_VERSION ? undefined : version;
  }

  /** The state after the operations of `ops` (oldest first), replayed on `newer`. */
  resolve(ops: OpNode<Op> | undefined, newer: State): State {
    if (this.#version !== newer) {
      this.#memo.clear();
      this.#version = newer;
    }
    if (ops === undefined) return newer;
    const memo = this.#memo;
    const hit = memo.get(ops);
    if (hit !== undefined) return hit;
    const chain: OpNode<Op>[] = [];
    let state = newer;
    for (let node: OpNode<Op> | undefined = ops; node !== undefined; node = node.prev) {
      const known = memo.get(node);
      if (known !== undefined) {
        state = known;
        break;
      }
      chain.push(node);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = chain[i] as OpNode<Op>;
      state = this.apply(state, node.op);
      if (node.marked || i === 0) memo.set(node, state);
    }
    return state;
  }
}

/**
 * The read kinds of a value type: each kind maps to the two fields a read of that kind records
 * (label them; use `undefined` for an unused one).
 * @example
 * interface CounterReads {
 *   value: readonly [seen: number, unused: undefined];
 * }
 */
export type ReadKinds<Reads> = { readonly [Kind in keyof Reads]: readonly [unknown, unknown] };

/**
 * One logged read as a check sees it: `[kind, first, second, context]`, a discriminated union
 * over the kinds of `Reads`. A check declared as `(kind, first, second, context) => ...` and
 * typed by it narrows `first` and `second` on `kind` (declare all four parameters; TypeScript
 * accepts no shorter list against a union of tuples).
 */
export type LoggedRead<Reads extends ReadKinds<Reads>, Context> = {
  [Kind in keyof Reads & string]: [kind: Kind, ...Reads[Kind], context: Context];
}[keyof Reads & string];

/**
 * A flat log of reads: four slots per read, no object per read. `Context` is what the value
 * type needs to check a read besides its fields, usually the view that read.
 * @example
 * const log = new ReadLog<CounterReads, Counter>();
 * log.record('value', 41, undefined, view);
 * log.every((kind, seen, _unused, view) => current(view) === seen);
 */
export class ReadLog<Reads extends ReadKinds<Reads>, Context> {
  readonly #slots: unknown[] = [];

  /** The number of reads recorded. */
  get length(): number {
    return this.#slots.length >> 2;
  }

  /** Records a read of `kind` with its two fields, made by `context`. */
  record<Kind extends keyof Reads & string>(
    kind: Kind,
    first: Reads[Kind][0],
    second: Reads[Kind][1],
    context: Context,
  ): void {
    this.#slots.push(kind, first, second, context);
  }

  /** True when `check` returns true for every read, in recording order (guarantee 1). */
  every(check: (...read: LoggedRead<Reads, Context>) => boolean): boolean {
    const slots = this.#slots;
    const visit = check as unknown as (
      kind: unknown,
      first: unknown,
      second: unknown,
      context: unknown,
    ) => boolean;
    for (let i = 0; i < slots.length; i += 4) {
      if (!visit(slots[i], slots[i + 1], slots[i + 2], slots[i + 3])) return false;
    }
    return true;
  }
}
