/**
 * Delta commits: the changes between two space states as a delta record stores them, and
 * their replay. A changed root whose old and new values are atoms of one type that can
 * describe the change (`Atom.deltaSince`) is stored as that delta; any other changed root is
 * stored whole, and a deleted one as a deletion.
 */
import { Atom, resolveSlot, sameAtom } from '../atom.js';
import { StorageError } from '../errors.js';
import { type DatabaseChange, DatabaseState, RootCell, type RootChange, SpaceState } from '../state.js';

/**
 * The changes that turn `base` into `next`, database by database (a database of `next`
 * missing from `base` is listed even when it has no roots). Databases and roots that are the
 * same atoms in both are skipped without being read.
 */
export function changesBetween(base: SpaceState, next: SpaceState): DatabaseChange[] {
  const out: DatabaseChange[] = [];
  for (const [name, slot] of next.databases) {
    const before = base.databases.get(name);
    if (before !== undefined && sameAtom(before, slot)) continue;
    const older = before === undefined ? undefined : resolveSlot(before);
    const newer = resolveSlot(slot);
    const roots: RootChange[] = [];
    for (const [root, cellSlot] of newer.roots) {
      const oldSlot = older?.roots.get(root);
      if (oldSlot !== undefined && sameAtom(oldSlot, cellSlot)) continue;
      const cell = resolveSlot(cellSlot);
      const oldCell = oldSlot === undefined ? undefined : resolveSlot(oldSlot);
      // The same value (`Object.is`: 0 and -0 are stored apart) needs no change.
      if (oldCell !== undefined && Object.is(oldCell.stored, cell.stored)) continue;
      roots.push(rootChange(root, oldCell?.value, cell));
    }
    for (const root of older?.roots.keys() ?? []) {
      if (!newer.roots.has(root)) roots.push({ root, kind: 'deleted' });
    }
    if (roots.length > 0 || older === undefined) out.push({ database: name, roots });
  }
  return out;
}

function rootChange(root: string, older: unknown, cell: RootCell): RootChange {
  const value = cell.stored;
  if (
    older instanceof Atom &&
    value instanceof Atom &&
    older.atomType === value.atomType &&
    value.deltaSince !== undefined &&
    older.withDelta !== undefined
  ) {
    const delta = value.deltaSince(older);
    if (delta !== undefined) return { root, kind: 'delta', delta };
  }
  return { root, kind: 'value', value };
}

/** `state` with `changes` applied (a delta record's replay). Throws `corrupt` when one cannot apply. */
export function applyChanges(state: SpaceState, changes: readonly DatabaseChange[]): SpaceState {
  if (changes.length === 0) return state;
  const databases = new Map(state.databases);
  for (const { database, roots: changed } of changes) {
    const slot = databases.get(database);
    const current = slot === undefined ? undefined : resolveSlot(slot);
    const roots = new Map(current?.roots ?? []);
    for (const change of changed) {
      switch (change.kind) {
        case 'deleted':
          roots.delete(change.root);
          break;
        case 'value':
          roots.set(change.root, new RootCell(change.value));
          break;
        case 'delta': {
          const older = current?.cell(change.root)?.value;
          if (!(older instanceof Atom) || older.withDelta === undefined) {
            throw corrupt(`root '${change.root}' of database '${database}' has no value a delta applies to`);
          }
          roots.set(change.root, new RootCell(older.withDelta(change.delta)));
          break;
        }
      }
    }
    databases.set(database, new DatabaseState(roots));
  }
  return new SpaceState(databases);
}

function corrupt(message: string): StorageError {
  return new StorageError({
    layer: 'atom',
    reason: 'corrupt',
    message: `a delta commit does not apply: ${message}; the location is damaged or was not written by ProtoBase`,
  });
}
