/**
 * Folding one transaction onto a newer space state: the validate-and-rebase step of the
 * commit pipeline. It changes no state of its own: it builds new state atoms, and the
 * transaction's checks and derivation replays may load atoms through the store.
 */
import { resolveSlot, sameAtom } from '../atom.js';
import { DatabaseState, RootCell, SpaceState } from '../state.js';
import { DELETED, type Transaction } from '../transaction.js';

/**
 * The space state after `tx`'s writes are applied to `state`. When `tx`'s database changed
 * since its snapshot, its reads are validated against the newer database first and each
 * written root that changed too is rebased (`tx.rebaseWrite`); `onRebase` is called once for
 * such a transaction. Throws the transaction's `conflict` error when a read no longer holds.
 */
export function foldTransaction(tx: Transaction, state: SpaceState, onRebase: () => void): SpaceState {
  const name = tx.database;
  const snapshotDb = tx.snapshotDatabase;
  const slot = state.databases.get(name);
  const currentDb = slot === undefined ? undefined : resolveSlot(slot);
  const unchanged = sameAtom(currentDb, snapshotDb);
  if (!unchanged) {
    tx.validate(currentDb);
    onRebase();
  }
  const roots = new Map(currentDb?.roots ?? []);
  for (const [root, value] of tx.writes) {
    let next = value;
    if (!unchanged) {
      const before = snapshotDb?.roots.get(root);
      const now = currentDb?.roots.get(root);
      if (!sameAtom(before, now))
        next = value === DELETED ? value : tx.rebaseWrite(root, value, currentDb?.cell(root)?.value);
    }
    if (next === DELETED) roots.delete(root);
    else roots.set(root, new RootCell(next));
  }
  const databases = new Map(state.databases);
  databases.set(name, new DatabaseState(roots));
  return new SpaceState(databases);
}
