/**
 * Backup: a consistent copy of one committed state of a space into an empty location of any
 * backend (so also the migration path between backend kinds).
 *
 * Every atom reachable from the state is copied once, children before parents, re-encoded
 * with the target's pointers (a stored atom's bytes name the source's pointers, so they cannot
 * be copied as they are). Shared subtrees are copied once. The copy ends with a checkpoint of
 * the same sequence and time and the root's compare-and-set: the target then opens as exactly
 * that commit (without the source's earlier history). Writers of the source go on meanwhile:
 * the state is immutable, and the caller keeps its snapshot from `reclaim` while copying.
 */
import { Atom, AtomRef, type AtomSlot, pointerOf } from '../atom.js';
import type { BackupOptions, BackupReport } from '../backup.js';
import { encodeAtom } from '../codec.js';
import { TransactionError } from '../errors.js';
import { CommitRecord, type SpaceState } from '../state.js';
import type { AtomPointer, StorageBackend } from '../storage/backend.js';
import type { Snapshot } from '../transaction.js';
import { collectAtoms, NOWHERE } from './persist.js';

/** Atoms written to the target per `writeAtoms` call. */
const BATCH = 256;

/**
 * Copies `snapshot` into `target` (guarded by the caller, empty). Resolves with what it copied;
 * the target is left open for the caller to close.
 */
export async function backupSnapshot(
  snapshot: Snapshot,
  target: StorageBackend,
  options: BackupOptions,
): Promise<BackupReport> {
  if ((await target.readRoot()) !== null)
    throw invalid(`the backup target ${target.name} already holds data; back up into an empty location`);
  /** Source atom (by its source pointer, or the object when not stored) → its pointer in the target. */
  const copied = new Map<AtomPointer | Atom, AtomPointer>();
  const keyOf = (atom: Atom): AtomPointer | Atom => pointerOf(atom) ?? atom;
  let atoms = 0;
  let bytes = 0;
  let pending: { key: AtomPointer | Atom; bytes: Uint8Array }[] = [];
  /** The keys of `pending`: encoded, not written yet. */
  const encoding = new Set<AtomPointer | Atom>();
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    encoding.clear();
    const pointers = await target.writeAtoms(batch.map((p) => p.bytes));
    batch.forEach((p, i) => {
      copied.set(p.key, pointers[i] as AtomPointer);
    });
    options.onProgress?.({ phase: 'copy', atoms, bytes });
  };
  const load = async (slot: Atom | AtomRef): Promise<Atom> => (slot instanceof AtomRef ? slot.load() : slot);
  const pointerIn = (value: object): AtomPointer | undefined => {
    const key = value instanceof AtomRef ? value.pointer : value instanceof Atom ? keyOf(value) : undefined;
    if (key === undefined) return undefined;
    const pointer = copied.get(key);
    if (pointer === undefined)
      throw invalid('an atom was encoded before its children were copied; this is a bug of @proto/atom');
    return pointer;
  };
  // Depth-first, children before parents; a parent waits until its children's batch is written.
  const copy = async (slot: Atom | AtomRef): Promise<void> => {
    const key = slot instanceof AtomRef ? slot.pointer : keyOf(slot);
    if (copied.has(key) || encoding.has(key)) return;
    const atom = await load(slot);
    const payload = atom.toPayload();
    const children = atom.childAtoms?.() ?? collectAtoms(payload, NOWHERE);
    let waiting = false;
    for (const child of children) {
      await copy(child);
      const childKey = child instanceof AtomRef ? child.pointer : keyOf(child);
      if (!copied.has(childKey)) waiting = true;
    }
    if (waiting) await flush();
    const encoded = encodeAtom(atom.atomType, payload, { reference: pointerIn, origin: NOWHERE });
    atoms++;
    bytes += encoded.byteLength;
    pending.push({ key, bytes: encoded });
    encoding.add(key);
    if (pending.length >= BATCH) await flush();
  };
  const state: AtomSlot<SpaceState> = snapshot.state;
  await copy(state);
  await flush();
  const record = new CommitRecord(snapshot.sequence, snapshot.timestamp, state, []);
  const encoded = encodeAtom(record.atomType, record.toPayload(), { reference: pointerIn, origin: NOWHERE });
  const [pointer] = await target.writeAtoms([encoded]);
  atoms++;
  bytes += encoded.byteLength;
  if (!(await target.compareAndSetRoot(null, pointer as AtomPointer)))
    throw invalid(`another writer committed to the backup target ${target.name} while the backup ran`);
  options.onProgress?.({ phase: 'done', atoms, bytes });
  return { sequence: snapshot.sequence, timestamp: snapshot.timestamp, atoms, bytes };
}

function invalid(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
}
