/**
 * Structural diffs: what differs between two versions of a value, and between two commits of
 * a database.
 *
 * Versions of a collection share every subtree that did not change, so a collection finds its
 * differences by walking only the subtrees the two versions do not share (`Atom.diffEntries`):
 * the cost follows what changed, not the collection's size. `diff(older, newer)` yields the
 * differing entries lazily, in the collection's order (key order; index order for lists; hash
 * order for a `HashDictionary`), each with its key and both values. A value that is not a
 * collection (a number, a plain object, a `Date` ...) is one entry whose key is `undefined`.
 *
 * A diff reads the two versions as they are stored; read it while both are readable (during
 * the change listener, or before a `reclaim` that may free an older version).
 */
import { Atom, AtomRef, resolveSlot, sameAtom } from './atom.js';
import type { DatabaseState, RootCell } from './state.js';
import { valuesEqual } from './values.js';

/** How an entry differs between two versions. */
export type ChangeKind = 'added' | 'removed' | 'changed';

/** One entry that differs between two versions of a value. */
export interface EntryChange<K = unknown, V = unknown> {
  /** `added`: only in the newer version; `removed`: only in the older; `changed`: in both, not equal. */
  readonly kind: ChangeKind;
  /**
   * The entry's key: a dictionary's key, a set's element, a list's index (in the older
   * version for `removed`, in the newer one otherwise), `undefined` for a value that is not a
   * collection.
   */
  readonly key: K;
  /** The older version's value (`undefined` when `added`; for sets, `true`). */
  readonly oldValue: V | undefined;
  /** The newer version's value (`undefined` when `removed`; for sets, `true`). */
  readonly newValue: V | undefined;
}

/**
 * The entries that differ from `older` to `newer`, lazily, in the collection's order.
 * `undefined` stands for an absent value (everything added, or everything removed). Two
 * collections of one kind are compared entry by entry, visiting only the subtrees they do not
 * share; any other pair of values, when not equal (`valuesEqual`), is one change with key
 * `undefined`.
 * @example
 * for (const c of diff(before, after)) console.log(c.kind, c.key, c.oldValue, c.newValue);
 */
export function diff(older: unknown, newer: unknown): Iterable<EntryChange> {
  if (Object.is(older, newer)) return [];
  if (older instanceof Atom && newer instanceof Atom && sameAtom(older, newer)) return [];
  if (newer instanceof Atom && newer.diffEntries !== undefined) {
    if (older === undefined) return newer.diffEntries(undefined) ?? whole(older, newer);
    if (older instanceof Atom && older.atomType === newer.atomType)
      return newer.diffEntries(older) ?? whole(older, newer);
  }
  if (newer === undefined && older instanceof Atom && older.diffEntries !== undefined) {
    const added = older.diffEntries(undefined);
    if (added !== undefined) return inverted(added);
  }
  return whole(older, newer);
}

function whole(older: unknown, newer: unknown): EntryChange[] {
  if (older !== undefined && newer !== undefined && valuesEqual(older, newer)) return [];
  const kind: ChangeKind = older === undefined ? 'added' : newer === undefined ? 'removed' : 'changed';
  return [{ kind, key: undefined, oldValue: older, newValue: newer }];
}

function* inverted(added: Iterable<EntryChange>): Generator<EntryChange> {
  for (const c of added) yield { kind: 'removed', key: c.key, oldValue: c.newValue, newValue: undefined };
}

/** A root that differs between two commits of a database. */
export interface RootDiff {
  readonly root: string;
  /** `added`: the root was created; `removed`: deleted; `changed`: given another value. */
  readonly kind: ChangeKind;
  /** Its value in the older commit (`undefined` when `added`). */
  readonly oldValue: unknown;
  /** Its value in the newer commit (`undefined` when `removed`). */
  readonly newValue: unknown;
  /** The entries that differ, lazily: `diff(oldValue, newValue)`. */
  entries(): Iterable<EntryChange>;
}

/**
 * The roots that differ between two states of one database (either may be absent), sorted by
 * name; only roots in `only` when it is given. Roots whose cells are the same atoms are skipped
 * without being read.
 */
export function diffDatabases(
  older: DatabaseState | undefined,
  newer: DatabaseState | undefined,
  only?: ReadonlySet<string>,
): RootDiff[] {
  if (older === newer) return [];
  const names = new Set<string>();
  for (const state of [older, newer]) {
    if (state === undefined) continue;
    if (only === undefined) for (const name of state.roots.keys()) names.add(name);
    else for (const name of only) if (state.roots.has(name)) names.add(name);
  }
  const out: RootDiff[] = [];
  for (const root of [...names].sort()) {
    const a = older?.roots.get(root);
    const b = newer?.roots.get(root);
    if (a !== undefined && b !== undefined && sameAtom(a, b)) continue;
    const before = a === undefined ? undefined : resolveSlot<RootCell>(a);
    const after = b === undefined ? undefined : resolveSlot<RootCell>(b);
    if (before !== undefined && after !== undefined && Object.is(before.stored, after.stored)) continue;
    const oldValue = before?.value;
    const newValue = after?.value;
    if (
      oldValue !== undefined &&
      newValue !== undefined &&
      !isCollection(newValue) &&
      valuesEqual(oldValue, newValue)
    )
      continue;
    const kind: ChangeKind = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    out.push({ root, kind, oldValue, newValue, entries: () => diff(oldValue, newValue) });
  }
  return out;
}

function isCollection(value: unknown): boolean {
  return value instanceof Atom || value instanceof AtomRef;
}
