/**
 * Typed roots: the compile-time side of what a database holds.
 *
 * A database's roots can be declared once as an interface of root names and value types and
 * given to `space.database<Roots>(name)`. Its transactions then type `get`, `set`, `getOrCreate`,
 * `delete` and `rootNames`, and its `diff`, `subscribe` and `changes` take only declared root
 * names, without a cast; a misspelt root name is a compile error.
 *
 * `StorableValue<T>` rejects at compile time what the codec rejects at run time, as far as the
 * type system can see it. Limits (the codec still checks every value at commit):
 * - A class instance whose public members are all data (no methods) has the same type as a plain
 *   object and is accepted; the codec rejects it at commit. Private and `#` members are invisible
 *   to the check.
 * - Getters look like data; cycles and sparse arrays are not visible in types.
 * - `unknown` and `any` are accepted (nothing is known about them).
 * - The values inside a collection (`Dictionary<K, V>`'s `V`) are not checked here: any atom is
 *   storable as such.
 * - A value of a generic type parameter cannot be checked: in the untyped form, the untyped
 *   `tx.set(name, value)` is therefore not checked (see `RootInput`); declared roots are.
 */
import type { Atom, AtomRef } from './atom.js';
import type { LazyValue } from './codec/lazy.js';

/**
 * The roots type of a database whose roots are not declared (`space.database(name)` without a
 * type argument): any root name, values typed by the caller (`tx.get<number>('visits')`).
 * It is `any` so that a typed database or transaction can be handed to code written for
 * untyped ones; no signature exposes it (an untyped root reads as `unknown`).
 */
// biome-ignore lint/suspicious/noExplicitAny: the marker of the untyped form, mapped to unknown everywhere (see above).
export type UntypedRoots = any;

/**
 * `true` for `UntypedRoots` (`any`) and for a type without keys (`object`, `{}`: no roots
 * declared), `false` for a declared roots type.
 */
export type IsUntypedRoots<Roots> = boolean extends (Roots extends never ? true : false)
  ? true
  : [keyof Roots] extends [never]
    ? true
    : false;

/** The root names of a roots type: its string keys, or any string when untyped. */
export type RootName<Roots> = IsUntypedRoots<Roots> extends true ? string : Extract<keyof Roots, string>;

/** The declared value type of root `Name` (`unknown` when untyped). */
export type RootValue<Roots, Name> =
  IsUntypedRoots<Roots> extends true ? unknown : Name extends keyof Roots ? Roots[Name] : never;

/**
 * What `tx.get<T>` accepts as an explicit value type: anything in the untyped form, nothing for
 * declared roots (their type comes from the declaration).
 */
export type ExplicitRootType<Roots> = IsUntypedRoots<Roots> extends true ? unknown : never;

/** The type `tx.get` returns: the declared value (or, untyped, the caller's `T`) or `undefined`. */
export type RootRead<Roots, Name, T> =
  IsUntypedRoots<Roots> extends true ? T | undefined : RootValue<Roots, Name> | undefined;

/**
 * The type `tx.set(name, value)` takes: the declared value type of `name` (without `undefined`:
 * `delete` removes a root), or, untyped, anything (checked by the codec at commit). The untyped
 * form is not checked with `StorableValue` at compile time because a value of a generic type
 * (`function save<T>(tx: Transaction, value: T)`) cannot be checked, and such code must keep
 * compiling; declare the roots to have every write checked.
 */
export type RootInput<Roots, Name> =
  IsUntypedRoots<Roots> extends true ? unknown : Exclude<RootValue<Roots, Name>, undefined>;

/** What `tx.getOrCreate` returns: the declared value type, or, untyped, the created value's type. */
export type RootCreated<Roots, Name, V> =
  IsUntypedRoots<Roots> extends true ? V : Exclude<RootValue<Roots, Name>, undefined>;

declare const notStorable: unique symbol;

/** What `StorableValue` puts in place of a part the codec would reject; `Why` says what it is. */
export interface NotStorable<Why extends string> {
  readonly [notStorable]: Why;
}

type Primitive = null | undefined | boolean | number | bigint | string;

/**
 * `T` when every part of it is a value the codec stores (null, booleans, numbers, bigint,
 * strings, `Date`, `Uint8Array`, arrays, plain objects, `undefined` inside containers, atoms
 * such as collections, `AtomRef`, `LazyValue`); otherwise `T` with each part that is not (a
 * function or method, a symbol, a `Map`, `Set`, `WeakMap`, `WeakSet`, `Promise`) replaced by a
 * `NotStorable<...>` that names it, so that assigning `T` to it fails at that part. See the
 * module comment for its limits.
 * @example
 * type Ok = StorableValue<{ at: Date; tags: string[] }>;  // the same type
 * type Bad = StorableValue<{ at: Date; onChange: () => void }>;
 * // { at: Date; onChange: NotStorable<'a function'> }
 */
export type StorableValue<T> = unknown extends T
  ? T
  : T extends Primitive
    ? T
    : T extends Atom | AtomRef | LazyValue | Date | Uint8Array
      ? T
      : T extends (...args: never[]) => unknown
        ? NotStorable<'a function'>
        : T extends symbol
          ? NotStorable<'a symbol'>
          : T extends ReadonlyMap<unknown, unknown>
            ? NotStorable<'a Map (store a Dictionary or a plain object)'>
            : T extends ReadonlySet<unknown>
              ? NotStorable<'a Set (store an OrderedSet or an array)'>
              : T extends WeakMap<object, unknown> | WeakSet<object>
                ? NotStorable<'a WeakMap or WeakSet'>
                : T extends PromiseLike<unknown>
                  ? NotStorable<'a Promise (await it first)'>
                  : T extends readonly unknown[]
                    ? { [I in keyof T]: StorableValue<T[I]> }
                    : T extends object
                      ? {
                          [K in keyof T]: K extends symbol
                            ? NotStorable<'a symbol-keyed property'>
                            : StorableValue<T[K]>;
                        }
                      : NotStorable<'a value the codec does not store'>;

/**
 * A declared roots type whose every root value is storable: the constraint of
 * `space.database<Roots>()`. An interface of root names and value types.
 * @example
 * interface ShopRoots {
 *   carts: Dictionary<string, Cart>;
 *   visits: number;
 * }
 * const db = space.database<ShopRoots>('shop');
 */
export type StorableRoots<Roots> =
  IsUntypedRoots<Roots> extends true ? UntypedRoots : { [Name in keyof Roots]: StorableValue<Roots[Name]> };
