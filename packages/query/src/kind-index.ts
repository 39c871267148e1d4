/**
 * How a collection state holds its secondary indexes, whatever their kind: `StoredIndex`. The
 * ordered index (`IndexData`) implements it directly (its updates are the hot path of every
 * write); an index of any other kind is a `KindIndex`, which calls its kind through the
 * `IndexKind` interface.
 */
import { Atom, AtomRef, sameAtom, valuesEqual } from '@proto/atom';
import type { Key } from '@proto/collections';
import type { IndexKind } from './index-kind.js';

/** Marks "no record" in `update` (internal; kinds see `undefined`). */
export const NO_KEY: unique symbol = Symbol('no-key');

/** A secondary index as a collection state holds it. */
export interface StoredIndex {
  readonly name: string;
  readonly kind: IndexKind;
  /** The stored definition (`kind.define`'s result). */
  readonly definition: unknown;
  /** The kind's index value. */
  readonly instance: unknown;
  /** The index after record `pk` changed from `before` to `after` (`NO_KEY` for absent). */
  update(pk: Key, before: unknown, after: unknown): StoredIndex;
  /** The same definition over no records. */
  cleared(): StoredIndex;
}

/** What `createIndex` carries (and the op log replays): a name, a kind and a definition. */
export interface IndexDeclaration {
  readonly name: string;
  readonly kind: IndexKind;
  readonly definition: unknown;
}

/** An index of a kind other than the ordered one. */
export class KindIndex implements StoredIndex {
  constructor(
    readonly name: string,
    readonly kind: IndexKind,
    readonly definition: unknown,
    readonly instance: unknown,
  ) {}

  update(pk: Key, before: unknown, after: unknown): StoredIndex {
    const next = this.kind.update(
      this.instance,
      pk,
      before === NO_KEY ? undefined : before,
      after === NO_KEY ? undefined : after,
    );
    return next === this.instance ? this : new KindIndex(this.name, this.kind, this.definition, next);
  }

  cleared(): StoredIndex {
    return new KindIndex(this.name, this.kind, this.definition, this.kind.build(this.definition, []));
  }

  #encoded: unknown;
  #didEncode = false;

  /** `kind.encode(instance)`, once (it is pure). */
  encoded(): unknown {
    if (!this.#didEncode) {
      this.#encoded = this.kind.encode(this.instance);
      this.#didEncode = true;
    }
    return this.#encoded;
  }
}

/** True when two declarations are the same index. */
export function sameDeclaration(a: IndexDeclaration, b: IndexDeclaration): boolean {
  return a.name === b.name && a.kind.name === b.kind.name && valuesEqual(a.definition, b.definition);
}

/** The atoms (and references) anywhere in the arrays and plain objects of a codec value. */
export function collectAtoms(value: unknown, out: (Atom | AtomRef)[] = []): (Atom | AtomRef)[] {
  if (typeof value !== 'object' || value === null) return out;
  if (value instanceof Atom || value instanceof AtomRef) {
    out.push(value);
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectAtoms(v, out);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null)
    for (const k of Object.keys(value)) collectAtoms((value as Record<string, unknown>)[k], out);
  return out;
}

/** True when two kind indexes hold the same stored trees (a cheap identity test, no scan). */
export function sameKindIndex(a: KindIndex, b: KindIndex): boolean {
  if (a === b || a.instance === b.instance) return true;
  if (a.kind !== b.kind || !valuesEqual(a.definition, b.definition)) return false;
  const x = collectAtoms(a.encoded());
  const y = collectAtoms(b.encoded());
  if (x.length === 0 || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i] as Atom | AtomRef;
    const q = y[i] as Atom | AtomRef;
    if (p !== q && !sameAtom(p as Atom, q as Atom)) return false;
  }
  return true;
}
