/**
 * Type tests for key types that follow from key paths, and for an `IndexedCollection` as a
 * typed root (compiled by `tsc -p tsconfig.tests.json` in `pnpm test`, never run). Every
 * `@ts-expect-error` marks a line that must not compile; an unused one fails the build.
 */
import type { ObjectSpace } from '@proto/atom';
import type { Key } from '@proto/collections';
import { IndexedCollection, type KeyAtPath } from '@proto/query';
import { expectTypeOf } from 'vitest';

interface User {
  readonly id: string;
  readonly age: number;
  readonly account: { readonly number: number; readonly opened?: Date };
}

declare const users: readonly User[];
declare const space: ObjectSpace;

export function keyTypesFollowFromPaths(): void {
  const byId = IndexedCollection.from(users, { key: 'id' });
  expectTypeOf(byId).toEqualTypeOf<IndexedCollection<User, string>>();
  expectTypeOf(byId.get('u1')).toEqualTypeOf<User | undefined>();
  // @ts-expect-error a number is not a key of a collection keyed by a string path
  byId.get(42);
  // @ts-expect-error nor can it be deleted by one
  byId.delete(42);
  // @ts-expect-error a path records do not have
  IndexedCollection.from(users, { key: 'identifier' });

  const byAccount = IndexedCollection.from(users, { key: 'account.number' });
  expectTypeOf(byAccount).toEqualTypeOf<IndexedCollection<User, number>>();
  // @ts-expect-error a string is not a key here
  byAccount.has('7');

  const empty = IndexedCollection.empty<User, 'age'>({ key: 'age' });
  expectTypeOf(empty).toEqualTypeOf<IndexedCollection<User, number>>();
  // (`empty<User, 'age'>({ key: 'id' })` compiles: 'age' then reads as a key type, the older form.)

  expectTypeOf<KeyAtPath<User, 'account.opened'>>().toEqualTypeOf<Date>();
  expectTypeOf<KeyAtPath<unknown, 'id'>>().toEqualTypeOf<Key>();
}

export function untypedUseIsUnchanged(): void {
  expectTypeOf(IndexedCollection.empty<User, string>({ key: 'id' })).toEqualTypeOf<
    IndexedCollection<User, string>
  >();
  expectTypeOf(IndexedCollection.empty<User>()).toEqualTypeOf<IndexedCollection<User, Key>>();
  expectTypeOf(IndexedCollection.from<User, Key>(users, { key: 'id' })).toEqualTypeOf<
    IndexedCollection<User, Key>
  >();
  expectTypeOf(IndexedCollection.empty()).toEqualTypeOf<IndexedCollection<unknown, Key>>();
}

interface AppRoots {
  users: IndexedCollection<User, string>;
}

export async function asTypedRoot(): Promise<void> {
  const db = space.database<AppRoots>('app');
  await db.transact((tx) => {
    const current = tx.getOrCreate('users', () => IndexedCollection.empty<User, 'id'>({ key: 'id' }));
    expectTypeOf(current).toEqualTypeOf<IndexedCollection<User, string>>();
    tx.set('users', current.put({ id: 'u1', age: 30, account: { number: 7 } }));
    // @ts-expect-error a collection keyed by another path does not fit the declared root
    tx.set('users', IndexedCollection.empty<User, 'age'>({ key: 'age' }));
  });
}
