/**
 * Type tests for typed roots and `StorableValue` (compiled by `tsc -p tsconfig.tests.json` in
 * `pnpm test`, never run): every `@ts-expect-error` marks a line that must not compile, and an
 * unused one fails the build, so each asserts a real rejection.
 */
import {
  Atom,
  type Database,
  type NotStorable,
  type ObjectSpace,
  type RootDiff,
  type StorableValue,
  type Transaction,
} from '@proto/atom';
import { expectTypeOf } from 'vitest';

class Note extends Atom {
  constructor(readonly text: string) {
    super();
  }
  get atomType(): string {
    return 'test.note';
  }
  toPayload(): unknown {
    return { text: this.text };
  }
}

interface Cart {
  readonly items: readonly string[];
  readonly updated: Date;
  readonly note?: string;
}

interface ShopRoots {
  carts: Record<string, Cart>;
  visits: number;
  notice: Note;
  avatar?: Uint8Array;
}

declare const space: ObjectSpace;

export async function typedRoots(): Promise<void> {
  const shop = space.database<ShopRoots>('shop');
  expectTypeOf(shop).toEqualTypeOf<Database<ShopRoots>>();

  await shop.transact((tx) => {
    expectTypeOf(tx).toEqualTypeOf<Transaction<ShopRoots>>();
    expectTypeOf(tx.get('carts')).toEqualTypeOf<Record<string, Cart> | undefined>();
    expectTypeOf(tx.get('visits')).toEqualTypeOf<number | undefined>();
    expectTypeOf(tx.get('notice')).toEqualTypeOf<Note | undefined>();
    expectTypeOf(tx.get('avatar')).toEqualTypeOf<Uint8Array | undefined>();
    // @ts-expect-error a misspelt root name
    tx.get('usres');
    // @ts-expect-error the type comes from the declaration, not from a type argument
    tx.get<string>('visits');

    tx.set('visits', (tx.get('visits') ?? 0) + 1);
    tx.set('carts', { c1: { items: ['apple'], updated: new Date() } });
    // @ts-expect-error a value of another type
    tx.set('visits', 'many');
    // @ts-expect-error a misspelt root name
    tx.set('visit', 1);
    // @ts-expect-error a property the declared type does not have
    tx.set('carts', { c1: { items: [], updated: new Date(), colour: 'red' } });
    // @ts-expect-error undefined is not a root value (delete removes a root)
    tx.set('avatar', undefined);
    tx.delete('avatar');
    // @ts-expect-error a misspelt root name
    tx.delete('avatr');
    expectTypeOf(tx.has).parameter(0).toEqualTypeOf<'carts' | 'visits' | 'notice' | 'avatar'>();

    expectTypeOf(tx.getOrCreate('visits', () => 0)).toEqualTypeOf<number>();
    // @ts-expect-error the created value must have the declared type
    tx.getOrCreate('visits', () => 'zero');
  });

  expectTypeOf(shop.read((tx) => tx.get('visits'))).toEqualTypeOf<number | undefined>();
  expectTypeOf(shop.begin({ readOnly: true }).get('notice')).toEqualTypeOf<Note | undefined>();
  expectTypeOf(shop.diff(0, 1, { roots: ['carts', 'visits'] })).toEqualTypeOf<RootDiff[]>();
  // @ts-expect-error a misspelt root in a diff filter
  shop.diff(0, 1, { roots: ['cart'] });
  shop.subscribe(() => undefined, { roots: ['carts'] }).close();
  // @ts-expect-error a misspelt root in a subscription filter
  shop.subscribe(() => undefined, { roots: ['cartz'] });
  shop.changes({ roots: ['visits'] }).close();
  // @ts-expect-error a misspelt root in a change stream filter
  shop.changes({ roots: ['vists'] });

  // A typed database and its transactions go where untyped ones are expected.
  const untyped: Database = shop;
  const anyTx: Transaction = shop.begin();
  expectTypeOf(untyped.begin().get<number>('visits')).toEqualTypeOf<number | undefined>();
  void anyTx;
}

export async function untypedRoots(): Promise<void> {
  const db = space.database('app');
  expectTypeOf(db).toEqualTypeOf<Database>();
  await db.transact((tx) => {
    expectTypeOf(tx.get('anything')).toEqualTypeOf<unknown>();
    expectTypeOf(tx.get<number>('visits')).toEqualTypeOf<number | undefined>();
    tx.set('visits', 1);
    tx.set('fn', () => 1); // not checked untyped (see RootInput); the codec rejects it at commit
    expectTypeOf(tx.getOrCreate('notes', () => [new Note('a')])).toEqualTypeOf<Note[]>();
    expectTypeOf(tx.rootNames()).toEqualTypeOf<string[]>();
  });
  db.diff(0, 1, { roots: ['any', 'names'] });
  // A function written for `ReturnType<ObjectSpace['database']>` takes an untyped database.
  const handle: ReturnType<ObjectSpace['database']> = db;
  expectTypeOf(handle.begin().get<string>('x')).toEqualTypeOf<string | undefined>();
}

interface BadRoots {
  onChange: () => void;
}

export function rejectedRoots(): void {
  // @ts-expect-error a root type the codec cannot store (a function)
  space.database<BadRoots>('bad');
  // @ts-expect-error a Map root
  space.database<{ index: Map<string, number> }>('bad');
  // @ts-expect-error a Set nested in a plain object
  space.database<{ tags: { all: Set<string> } }>('bad');
  // @ts-expect-error a Promise
  space.database<{ pending: Promise<number> }>('bad');
  // @ts-expect-error a symbol
  space.database<{ id: symbol }>('bad');
  // @ts-expect-error a WeakMap inside an array
  space.database<{ caches: WeakMap<object, number>[] }>('bad');
  // @ts-expect-error a class instance with a method
  space.database<{ point: Point }>('bad');
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

export function storableValues(): void {
  interface Row {
    id: string;
    at: Date;
    bytes: Uint8Array;
    big: bigint;
    tags: string[];
    pair: [number, string | null];
    nested: { deep?: { flag: boolean } };
    note: Note;
  }
  expectTypeOf<StorableValue<Row>>().toEqualTypeOf<Row>();
  expectTypeOf<StorableValue<unknown>>().toEqualTypeOf<unknown>();
  expectTypeOf<StorableValue<{ f: () => void }>>().toEqualTypeOf<{ f: NotStorable<'a function'> }>();
  expectTypeOf<StorableValue<Point>>().toEqualTypeOf<{
    readonly x: number;
    readonly y: number;
    length: NotStorable<'a function'>;
  }>();
  // A class instance whose public members are all data is not told apart from a plain object
  // (a documented limit: the codec rejects it at commit).
  class Plain {
    constructor(readonly value: number) {}
  }
  expectTypeOf<StorableValue<Plain>>().toEqualTypeOf<{ readonly value: number }>();
}
