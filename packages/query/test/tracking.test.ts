import { bindScope, derivation, type ReadScope } from '@proto/atom';
import { describe, expect, it } from 'vitest';
import { from, IndexedCollection } from '../src/index.js';
import { applyOp, type CollectionOp } from '../src/tracking.js';
import type { User } from './helpers.js';

/** A scope that keeps the checks a bound view registers, as a transaction does. */
function recordingScope(): { scope: ReadScope; checks: ((newer: unknown) => boolean)[] } {
  const checks: ((newer: unknown) => boolean)[] = [];
  return { scope: { recordRead: (holds) => checks.push(holds) }, checks };
}

const people: User[] = [
  { id: 'a', name: 'Ann', age: 31, email: 'ann@x', country: 'ES' },
  { id: 'b', name: 'Bob', age: 17, email: 'bob@x', country: 'AR' },
  { id: 'c', name: 'Cid', age: 45, email: 'cid@x', country: 'ES' },
];

function committed(): IndexedCollection<User, string> {
  return IndexedCollection.from<User, string>(people, { key: 'id' }).createIndex('byCountry', 'country');
}

describe('IndexedCollection tracking (the shared op log and read log)', () => {
  it('registers one check with the scope for a view and its derived values when a transaction reads many times', () => {
    const origin = committed();
    const { scope, checks } = recordingScope();
    const view = origin[bindScope](scope);
    expect(checks).toHaveLength(0);
    view.get('a');
    view.has('b');
    expect(view.size).toBe(3);
    const derived = view.set('d', { id: 'd', name: 'Dee', age: 20, country: 'FR' });
    derived.get('d');
    expect(
      from(derived)
        .where('country', '=', 'ES')
        .toArray()
        .map((u) => u.id),
    ).toEqual(['a', 'c']);
    expect(checks).toHaveLength(1);
    const holds = checks[0] as (newer: unknown) => boolean;
    expect(holds(origin)).toBe(true);
    // Every read is checked: the size read fails on any insert, the point read on a change of 'a'.
    expect(holds(origin.set('z', { id: 'z', name: 'Zed', country: 'AR' }))).toBe(false);
    expect(holds(origin.set('a', { ...(people[0] as User), name: 'Anna' }))).toBe(false);
    expect(holds('not a collection')).toBe(false);
  });

  it('checks each read against the newer version after the operations before it when reads follow updates', () => {
    const origin = committed();
    const { scope, checks } = recordingScope();
    const view = origin[bindScope](scope);
    expect(view.get('a')?.name).toBe('Ann');
    const v1 = view.set('c', { id: 'c', name: 'Cid', age: 46, country: 'FR' });
    const v2 = v1.delete('b');
    expect(v2.get('c')?.country).toBe('FR');
    expect(
      from(v2)
        .where('country', '=', 'ES')
        .toArray()
        .map((u) => u.id),
    ).toEqual(['a']);
    expect(v1.has('b')).toBe(true);
    const holds = checks[0] as (newer: unknown) => boolean;
    // A concurrent change of 'c' is overwritten by this transaction's own set before the reads.
    expect(holds(origin.set('c', { id: 'c', name: 'Cy', country: 'ES' }))).toBe(true);
    // A concurrent delete of 'b' leaves v2's reads true but not v1's `has('b')`.
    expect(holds(origin.delete('b'))).toBe(false);
    // A new 'ES' record changes the query's rows.
    expect(holds(origin.set('q', { id: 'q', name: 'Quim', country: 'ES' }))).toBe(false);
    // An unrelated record changes nothing that was read.
    expect(holds(origin.set('r', { id: 'r', name: 'Rui', country: 'AR' }))).toBe(true);

    const newer = origin.set('r', { id: 'r', name: 'Rui', country: 'AR' });
    const replayed = v2[derivation]?.replay(newer) as IndexedCollection<User, string>;
    expect([...replayed.keys()]).toEqual(['a', 'c', 'r']);
    expect(
      from(replayed)
        .where('country', '=', 'FR')
        .toArray()
        .map((u) => u.id),
    ).toEqual(['c']);
  });

  it('throws rather than skipping when a replay meets an operation kind it does not know', () => {
    const state = committed()._state();
    const bogus = { kind: 'truncate' } as unknown as CollectionOp;
    expect(() => applyOp(state, bogus)).toThrow(/unknown indexed collection operation 'truncate'/);
  });
});
