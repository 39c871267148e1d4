/**
 * The kernel's own atoms: how a space's committed state is laid out in storage.
 *
 * The backend's root pointer names either a `CommitRecord`, a checkpoint (sequence, time, the
 * current `SpaceState` and a bounded list of earlier states for time travel), or a
 * `DeltaRecord`: one commit's changes (per root: a collection's delta, a whole new value, or
 * a deletion) and a reference to the record before it. A chain of delta records always ends
 * at a checkpoint; the state a delta record names is the checkpoint's with every delta of the
 * chain applied, oldest first. A `SpaceState` maps database names to `DatabaseState`s, which
 * map root names to `RootCell`s holding the root values; each level is its own atom, so a
 * checkpoint rewrites only the cells, database states and collection nodes that changed.
 */
import { Atom, AtomRef, type AtomSlot, registerAtomType, resolveSlot } from './atom.js';
import { StorageError } from './errors.js';
import { resolveRefs } from './values.js';

/** One named root's value. */
export class RootCell extends Atom {
  static readonly typeName = 'proto.root';
  #resolved = false;
  constructor(
    /** The value as stored: nested atoms may still be references. */
    readonly stored: unknown,
  ) {
    super();
  }
  /** The value with nested atoms (collections) loaded. */
  get value(): unknown {
    if (!this.#resolved) {
      this.#value = resolveRefs(this.stored);
      this.#resolved = true;
    }
    return this.#value;
  }
  #value: unknown;
  get atomType(): string {
    return RootCell.typeName;
  }
  toPayload(): unknown {
    return { value: this.stored };
  }
}

function entriesToPayload<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of map) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function slotsFromPayload<T extends Atom>(
  payload: unknown,
  field: string,
  type: string,
): Map<string, AtomSlot<T>> {
  const source = (payload as Record<string, unknown> | null)?.[field];
  if (typeof source !== 'object' || source === null) throw malformed(type);
  const map = new Map<string, AtomSlot<T>>();
  for (const [key, value] of Object.entries(source)) {
    if (!(value instanceof AtomRef) && !(value instanceof Atom)) throw malformed(type);
    map.set(key, value as AtomSlot<T>);
  }
  return map;
}

function malformed(type: string): StorageError {
  return new StorageError({
    layer: 'atom',
    reason: 'corrupt',
    message: `a stored ${type} atom is malformed; the location is damaged or was not written by ProtoBase`,
  });
}

/** The roots of one database. */
export class DatabaseState extends Atom {
  static readonly typeName = 'proto.database';
  constructor(readonly roots: ReadonlyMap<string, AtomSlot<RootCell>>) {
    super();
  }
  get atomType(): string {
    return DatabaseState.typeName;
  }
  toPayload(): unknown {
    return { roots: entriesToPayload(this.roots) };
  }
  override *childAtoms(): Iterable<Atom | AtomRef> {
    yield* this.roots.values();
  }
  cell(name: string): RootCell | undefined {
    const slot = this.roots.get(name);
    return slot === undefined ? undefined : resolveSlot(slot);
  }
}

/** The databases of a space. */
export class SpaceState extends Atom {
  static readonly typeName = 'proto.space';
  static readonly empty = new SpaceState(new Map());
  constructor(readonly databases: ReadonlyMap<string, AtomSlot<DatabaseState>>) {
    super();
  }
  get atomType(): string {
    return SpaceState.typeName;
  }
  toPayload(): unknown {
    return { databases: entriesToPayload(this.databases) };
  }
  override *childAtoms(): Iterable<Atom | AtomRef> {
    yield* this.databases.values();
  }
  database(name: string): DatabaseState | undefined {
    const slot = this.databases.get(name);
    return slot === undefined ? undefined : resolveSlot(slot);
  }
}

/** An earlier commit kept for time travel. */
export interface HistoryEntry {
  readonly sequence: number;
  readonly timestamp: number;
  /** Its state, or its delta record when its state was never written whole (see `DeltaRecord`). */
  readonly state: AtomRef<SpaceState | DeltaRecord>;
}

/** What the backend's root points to: the current state and the history kept. */
export class CommitRecord extends Atom {
  static readonly typeName = 'proto.commit';
  static readonly format = 1;
  constructor(
    readonly sequence: number,
    readonly timestamp: number,
    readonly state: AtomSlot<SpaceState>,
    /** Newest first. */
    readonly history: readonly HistoryEntry[],
  ) {
    super();
  }
  get atomType(): string {
    return CommitRecord.typeName;
  }
  toPayload(): unknown {
    return {
      format: CommitRecord.format,
      sequence: this.sequence,
      timestamp: this.timestamp,
      state: this.state,
      history: this.history.map((h) => [h.sequence, h.timestamp, h.state]),
    };
  }
  override *childAtoms(): Iterable<Atom | AtomRef> {
    yield this.state;
    for (const h of this.history) yield h.state;
  }
}

/** How one root changed in a delta commit. */
export type RootChange =
  /** The root holds `value` (written whole: a new root, or a value without deltas). */
  | { readonly root: string; readonly kind: 'value'; readonly value: unknown }
  /** The root holds its earlier value with `delta` applied (`Atom.withDelta`). */
  | { readonly root: string; readonly kind: 'delta'; readonly delta: unknown }
  /** The root was deleted. */
  | { readonly root: string; readonly kind: 'deleted' };

/** The changes of one database in a delta commit (no roots: the database was created). */
export interface DatabaseChange {
  readonly database: string;
  readonly roots: readonly RootChange[];
}

/** A commit stored as its changes on top of the record before it (see the module comment). */
export class DeltaRecord extends Atom {
  static readonly typeName = 'proto.commit.delta';
  static readonly format = 1;
  constructor(
    readonly sequence: number,
    readonly timestamp: number,
    /** The record of the commit before this one (sequence - 1): a delta record or a checkpoint. */
    readonly base: AtomRef<CommitRecord | DeltaRecord>,
    readonly changes: readonly DatabaseChange[],
  ) {
    super();
  }
  get atomType(): string {
    return DeltaRecord.typeName;
  }
  toPayload(): unknown {
    return {
      format: DeltaRecord.format,
      sequence: this.sequence,
      timestamp: this.timestamp,
      base: this.base,
      changes: this.changes.map((db) => [
        db.database,
        db.roots.map((c) =>
          c.kind === 'value' ? [c.root, 0, c.value] : c.kind === 'delta' ? [c.root, 1, c.delta] : [c.root, 2],
        ),
      ]),
    };
  }
}

function decodeChanges(changes: unknown): DatabaseChange[] {
  if (!Array.isArray(changes)) throw malformed('delta commit');
  return changes.map((db): DatabaseChange => {
    if (!Array.isArray(db) || typeof db[0] !== 'string' || !Array.isArray(db[1]))
      throw malformed('delta commit');
    const roots = (db[1] as unknown[]).map((c): RootChange => {
      if (!Array.isArray(c) || typeof c[0] !== 'string') throw malformed('delta commit');
      const root = c[0];
      if (c[1] === 0 && c.length === 3) return { root, kind: 'value', value: c[2] };
      if (c[1] === 1 && c.length === 3) return { root, kind: 'delta', delta: c[2] };
      if (c[1] === 2 && c.length === 2) return { root, kind: 'deleted' };
      throw malformed('delta commit');
    });
    return { database: db[0], roots };
  });
}

registerAtomType(DeltaRecord.typeName, (payload) => {
  const p = payload as Record<string, unknown> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    p.format !== DeltaRecord.format ||
    typeof p.sequence !== 'number' ||
    typeof p.timestamp !== 'number' ||
    !(p.base instanceof AtomRef)
  ) {
    throw malformed('delta commit');
  }
  return new DeltaRecord(
    p.sequence,
    p.timestamp,
    p.base as AtomRef<CommitRecord | DeltaRecord>,
    decodeChanges(p.changes),
  );
});

registerAtomType(RootCell.typeName, (payload) => {
  if (typeof payload !== 'object' || payload === null || !('value' in payload)) throw malformed('root');
  return new RootCell((payload as { value: unknown }).value);
});
registerAtomType(
  DatabaseState.typeName,
  (payload) => new DatabaseState(slotsFromPayload(payload, 'roots', 'database')),
);
registerAtomType(
  SpaceState.typeName,
  (payload) => new SpaceState(slotsFromPayload(payload, 'databases', 'space')),
);
registerAtomType(CommitRecord.typeName, (payload) => {
  const p = payload as Record<string, unknown> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    p.format !== CommitRecord.format ||
    typeof p.sequence !== 'number' ||
    typeof p.timestamp !== 'number' ||
    !(p.state instanceof AtomRef) ||
    !Array.isArray(p.history)
  ) {
    throw malformed('commit');
  }
  const history = (p.history as unknown[]).map((h): HistoryEntry => {
    if (
      !Array.isArray(h) ||
      typeof h[0] !== 'number' ||
      typeof h[1] !== 'number' ||
      !(h[2] instanceof AtomRef)
    ) {
      throw malformed('commit');
    }
    return { sequence: h[0], timestamp: h[1], state: h[2] as AtomRef<SpaceState | DeltaRecord> };
  });
  return new CommitRecord(p.sequence, p.timestamp, p.state as AtomRef<SpaceState>, history);
});
