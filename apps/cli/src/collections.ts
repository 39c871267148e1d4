/**
 * What the CLI knows about each collection kind: its name, its size, its entries in order (for
 * browsing and export), its text form when nested inside a value, and how to build it again
 * entry by entry (for import). A root holding another kind of atom is shown by its type name
 * and cannot be exported (a typed `unsupported` error names it).
 *
 * Entries are `[key, value]` pairs in the collection's order: a dictionary's key and value, a
 * list's index and item, a set's element and `true`, a counted set's element and count, an
 * indexed collection's primary key and record.
 */
import { Atom } from '@proto/atom';
import {
  CountedSet,
  compareKeys,
  Dictionary,
  HashDictionary,
  type Key,
  List,
  OrderedSet,
  RepeatedKeysDictionary,
} from '@proto/collections';
import { IndexedCollection, type IndexInfo, type IndexSpec, indexKind, from as query } from '@proto/query';
import { CliError } from './errors.js';
import type { CollectionText, Json } from './values.js';

/** A key range and a limit, as `get` takes them. */
export interface Browse {
  readonly from?: Key;
  readonly to?: Key;
  readonly reverse?: boolean;
}

/** Builds a collection entry by entry; `add` returns the collection so far (a persistent value). */
export interface Builder {
  add(key: unknown, value: unknown): void;
  /** The collection built so far; adding more afterwards goes on from it. */
  value(): unknown;
  /** The finished collection (for an indexed collection: with its indexes built). */
  finish(): unknown;
}

export interface Kind {
  readonly name: string;
  is(value: unknown): boolean;
  size(value: unknown): number;
  /** The entries in order, lazily, within `range` when the kind is ordered by key. */
  entries(value: unknown, range?: Browse): Iterable<readonly [unknown, unknown]>;
  /** One entry by key (`undefined` when absent). */
  lookup(value: unknown, key: unknown): unknown;
  /** What a header records besides the kind (an indexed collection's key path and indexes). */
  header(value: unknown, toJson: (value: unknown) => Json): { readonly [key: string]: Json };
  /** A builder from a header as `header` wrote it. */
  builder(header: { readonly [key: string]: Json }, fromJson: (text: Json) => unknown): Builder;
}

function persistent<C>(empty: C, add: (c: C, key: unknown, value: unknown) => C): Builder {
  let current = empty;
  return {
    add: (key, value) => {
      current = add(current, key, value);
    },
    value: () => current,
    finish: () => current,
  };
}

/** The value at a dotted path inside `record` (a primary key, a vector); undefined when it leads nowhere. */
export function keyAt(record: unknown, keyPath: string): unknown {
  let current = record;
  for (const part of keyPath.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function keyRange(range: Browse | undefined) {
  if (range === undefined) return undefined;
  return {
    ...(range.from === undefined ? {} : { from: range.from }),
    ...(range.to === undefined ? {} : { to: range.to }),
    ...(range.reverse === undefined ? {} : { reverse: range.reverse }),
  };
}

function asKey(key: unknown, kind: string): Key {
  if (key === undefined) throw new CliError('invalid-input', `a ${kind} entry needs a key`);
  return key as Key;
}

const dictionary: Kind = {
  name: 'Dictionary',
  is: (v) => v instanceof Dictionary,
  size: (v) => (v as Dictionary).size,
  entries: (v, range) => (v as Dictionary).entries(keyRange(range)),
  lookup: (v, key) => (v as Dictionary).get(key as Key),
  header: () => ({}),
  builder: () => persistent(Dictionary.empty(), (c, k, v) => c.set(asKey(k, 'Dictionary'), v)),
};

const list: Kind = {
  name: 'List',
  is: (v) => v instanceof List,
  size: (v) => (v as List).size,
  entries: (v, range) => {
    const l = v as List;
    const start = typeof range?.from === 'number' ? range.from : 0;
    const end = typeof range?.to === 'number' ? range.to : l.size;
    return l.entries({ start, end, ...(range?.reverse === undefined ? {} : { reverse: range.reverse }) });
  },
  lookup: (v, key) => (typeof key === 'number' ? (v as List).get(key) : undefined),
  header: () => ({}),
  builder: () => persistent(List.empty(), (c, _k, v) => c.append(v)),
};

const orderedSet: Kind = {
  name: 'OrderedSet',
  is: (v) => v instanceof OrderedSet,
  size: (v) => (v as OrderedSet).size,
  entries: function* (v, range) {
    for (const item of (v as OrderedSet).values(keyRange(range))) yield [item, true];
  },
  lookup: (v, key) => ((v as OrderedSet).has(key as Key) ? true : undefined),
  header: () => ({}),
  builder: () => persistent(OrderedSet.empty(), (c, k) => c.add(asKey(k, 'OrderedSet'))),
};

const countedSet: Kind = {
  name: 'CountedSet',
  is: (v) => v instanceof CountedSet,
  size: (v) => (v as CountedSet).distinctSize,
  entries: (v, range) => (v as CountedSet).entries(keyRange(range)),
  lookup: (v, key) => {
    const n = (v as CountedSet).count(key as Key);
    return n === 0 ? undefined : n;
  },
  header: () => ({}),
  builder: () =>
    persistent(CountedSet.empty(), (c, k, v) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        throw new CliError(
          'invalid-input',
          `a CountedSet count must be a positive integer, got ${String(v)}`,
        );
      return c.add(asKey(k, 'CountedSet'), v);
    }),
};

const hashDictionary: Kind = {
  name: 'HashDictionary',
  is: (v) => v instanceof HashDictionary,
  size: (v) => (v as HashDictionary).size,
  entries: (v) => (v as HashDictionary).entries(),
  lookup: (v, key) => (v as HashDictionary).get(key),
  header: () => ({}),
  builder: () => persistent(HashDictionary.empty(), (c, k, v) => c.set(k, v)),
};

const repeatedKeys: Kind = {
  name: 'RepeatedKeysDictionary',
  is: (v) => v instanceof RepeatedKeysDictionary,
  size: (v) => (v as RepeatedKeysDictionary).size,
  entries: (v, range) => (v as RepeatedKeysDictionary).entries(keyRange(range)),
  lookup: (v, key) => {
    const values = [...(v as RepeatedKeysDictionary).values(key as Key)];
    return values.length === 0 ? undefined : values;
  },
  header: () => ({}),
  builder: () =>
    persistent(RepeatedKeysDictionary.empty(), (c, k, v) =>
      c.add(asKey(k, 'RepeatedKeysDictionary'), v as Key),
    ),
};

/** An index declared again from what `indexes()` reported. */
function specOf(info: { name: string; kind: string; definition: unknown }): IndexSpec<unknown> {
  if (info.kind === 'ordered') {
    const d = info.definition as { on?: { path?: string; fn?: string }; unique?: boolean };
    if (typeof d?.on?.path === 'string') return { path: d.on.path as never, unique: d.unique === true };
    if (typeof d?.on?.fn === 'string') return { key: { name: d.on.fn } as never, unique: d.unique === true };
    throw new CliError('invalid-input', `index '${info.name}' has a definition this version does not read`);
  }
  const kind = indexKind(info.kind);
  if (kind === undefined)
    throw new CliError(
      'unsupported',
      `index '${info.name}' is of kind '${info.kind}', which this proto command does not know`,
    );
  return { kind, options: info.definition };
}

const indexed: Kind = {
  name: 'IndexedCollection',
  is: (v) => v instanceof IndexedCollection,
  size: (v) => (v as IndexedCollection).size,
  entries: function* (v, range) {
    const c = v as IndexedCollection;
    const { from: lo, to: hi, reverse } = range ?? {};
    const keyPath = c.keyPath;
    if (keyPath === undefined || (lo === undefined && hi === undefined && reverse !== true)) {
      if (reverse === true)
        throw new CliError(
          'usage',
          'an IndexedCollection without a key path is read from its first record only',
        );
      // Primary-key order; without a key path to query on, a range skips to its start.
      for (const entry of c.entries()) {
        if (lo !== undefined && compareKeys(entry[0], lo) < 0) continue;
        if (hi !== undefined && compareKeys(entry[0], hi) >= 0) return;
        yield entry;
      }
      return;
    }
    // A range on the key path is a primary-key range query: it starts where the range starts.
    let q = query(c);
    if (lo !== undefined) q = q.where(keyPath as never, '>=', lo as never);
    if (hi !== undefined) q = q.where(keyPath as never, '<', hi as never);
    q = q.orderBy(keyPath as never, reverse === true ? 'desc' : 'asc');
    for (const record of q) yield [keyAt(record, keyPath) as Key, record];
  },
  lookup: (v, key) => (v as IndexedCollection).get(key as Key),
  header: (v, toJson) => {
    const c = v as IndexedCollection;
    return {
      key: c.keyPath ?? null,
      indexes: c.indexes().map((ix: IndexInfo) => ({
        name: ix.name,
        kind: ix.kind,
        definition: toJson(ix.definition),
      })),
    };
  },
  builder: (header, fromJson) => {
    const key = header.key;
    if (key !== null && key !== undefined && typeof key !== 'string')
      throw new CliError('invalid-input', 'an IndexedCollection header has a key path string or null');
    const indexes = header.indexes ?? [];
    if (!Array.isArray(indexes)) throw new CliError('invalid-input', 'IndexedCollection indexes is an array');
    const declared = indexes.map((ix) => {
      const i = ix as { name?: unknown; kind?: unknown; definition?: Json };
      if (typeof i.name !== 'string' || typeof i.kind !== 'string')
        throw new CliError('invalid-input', 'each index has a name and a kind');
      return { name: i.name, kind: i.kind, definition: fromJson(i.definition ?? null) };
    });
    // Records first, indexes at the end: each index is then built in bulk, not record by record.
    let current = IndexedCollection.empty<unknown, Key>(
      key === null || key === undefined ? {} : { key: key as never },
    );
    return {
      add: (k, v) => {
        current = current.set(asKey(k, 'IndexedCollection'), v);
      },
      value: () => current,
      finish: () => {
        for (const ix of declared) current = current.createIndex(ix.name, specOf(ix));
        return current;
      },
    };
  },
};

export const KINDS: readonly Kind[] = [
  dictionary,
  list,
  orderedSet,
  countedSet,
  hashDictionary,
  repeatedKeys,
  indexed,
];

export function kindOf(value: unknown): Kind | undefined {
  return KINDS.find((k) => k.is(value));
}

export function kindNamed(name: unknown): Kind {
  const kind = KINDS.find((k) => k.name === name);
  if (kind === undefined)
    throw new CliError(
      'invalid-input',
      `unknown collection kind ${JSON.stringify(name)}; one of ${KINDS.map((k) => k.name).join(', ')}`,
    );
  return kind;
}

/** The type shown for a root's value: a collection kind, an atom type, or a JavaScript type. */
export function typeOf(value: unknown): string {
  const kind = kindOf(value);
  if (kind !== undefined) return kind.name;
  if (value instanceof Atom) return value.atomType;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value;
}

/** Collections nested inside values, as `{"$collection": kind, header..., "entries": [...]}`. */
export const collectionText: CollectionText = {
  toText(value, toJson) {
    const kind = kindOf(value);
    if (kind === undefined) {
      if (value instanceof Atom)
        throw new CliError('unsupported', `a value of atom type ${value.atomType} has no text form`);
      return undefined;
    }
    const entries: Json[] = [];
    for (const [k, v] of kind.entries(value)) entries.push([toJson(k), toJson(v)]);
    return { $collection: kind.name, ...kind.header(value, toJson), entries };
  },
  fromText(tagged, fromJson) {
    const kind = kindNamed(tagged.$collection);
    const entries = tagged.entries;
    if (!Array.isArray(entries))
      throw new CliError('invalid-input', `a ${kind.name} needs its entries array`);
    const builder = kind.builder(tagged, fromJson);
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2)
        throw new CliError('invalid-input', `a ${kind.name} entry is [key, value]`);
      builder.add(fromJson(entry[0] as Json), fromJson(entry[1] as Json));
    }
    return builder.finish();
  },
};
