/**
 * What the studio shows, read from an opened space: the databases and roots, a page of a
 * collection (read lazily: a page costs its entries, not the collection's size), a query with
 * its analyzed plan, the kept commits and the diff between two of them, the nearest neighbours
 * of a record, and, with `--write`, setting or deleting an entry. Every read runs in a read-only
 * transaction on the newest commit or on a kept one (`asOf`), ended before the answer is sent.
 */
import { Atom, AtomRef, resolveSlot, type Transaction } from '@proto/atom';
import { compareKeys, Dictionary, type Key, List } from '@proto/collections';
import { from, IndexedCollection, type Operator, type PlanInfo, type Query } from '@proto/query';
import { vectorIndexStatus } from '@proto/vector';
import { type Kind, keyAt, kindOf, typeOf } from '../collections.js';
import { CliError } from '../errors.js';
import { readDatabase } from '../inspect.js';
import type { Opened } from '../open.js';
import { text } from '../output.js';
import { type CollectionText, ValueText } from '../values.js';
import type {
  BrowsePage,
  Condition,
  DatabaseSummary,
  DiffResult,
  History,
  IndexSummary,
  Json,
  NearestResult,
  Overview,
  PlanTree,
  QueryRequest,
  QueryResult,
  RootSummary,
} from './protocol.js';

/** Nested collections as links (`{"$collection": kind, "size": n}`), never their entries. */
const links: CollectionText = {
  toText(value) {
    const kind = kindOf(value);
    if (kind !== undefined) return { $collection: kind.name, size: kind.size(value) };
    if (value instanceof Atom) return { $atom: value.atomType };
    return undefined;
  },
  fromText() {
    throw new CliError('invalid-input', 'a link to a collection is not a value');
  },
};

/** Values as the page shows them. */
export const display = new ValueText(links);

/** Entries in one page unless the page asks for another number; at most `MAX_LIMIT`. */
const PAGE = 50;
const MAX_LIMIT = 1000;
/** Changed entries sent per root of a diff. */
const DIFF_ENTRIES = 200;
const ORDERED = new Set(['Dictionary', 'OrderedSet', 'CountedSet', 'RepeatedKeysDictionary']);
const OPERATORS = new Set<string>([
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'contains',
  'startsWith',
  'between',
]);
const VECTOR_KIND = 'proto.vector';

/** A page request, as the query string of `/api/browse` gives it (keys in tagged JSON). */
export interface BrowseRequest {
  readonly db: string;
  readonly root: string;
  /** Steps from the root to a nested value: collection keys (tagged JSON), or property names. */
  readonly path: readonly Json[];
  readonly asOf?: number | undefined;
  readonly from?: Json | undefined;
  readonly to?: Json | undefined;
  /** The `next` cursor of the page before. */
  readonly after?: Json | undefined;
  readonly reverse: boolean;
  readonly limit?: number | undefined;
}

function resolved(value: unknown): unknown {
  return value instanceof AtomRef ? resolveSlot(value) : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function asKey(json: Json, what: string): Key {
  const key = text.fromJson(json);
  if (
    key === undefined ||
    (typeof key === 'object' &&
      key !== null &&
      !(key instanceof Date) &&
      !(key instanceof Uint8Array) &&
      !Array.isArray(key))
  )
    throw new CliError('invalid-input', `${what} is not a key: ${JSON.stringify(json)}`);
  return key as Key;
}

/** The value at `path` under `value`; `not-found` names the first step that leads nowhere. */
export function locate(value: unknown, path: readonly Json[], where: string): unknown {
  let current = resolved(value);
  path.forEach((step, i) => {
    const kind = kindOf(current);
    let next: unknown;
    if (kind !== undefined) next = kind.lookup(current, asKey(step, 'a path step'));
    else if (Array.isArray(current) && typeof step === 'number') next = current[step];
    else if (isPlainObject(current) && typeof step === 'string' && Object.hasOwn(current, step))
      next = current[step];
    if (next === undefined)
      throw new CliError('not-found', `${where} has nothing at step ${i + 1} (${JSON.stringify(step)})`);
    current = resolved(next);
  });
  return current;
}

function planTree(info: PlanInfo): PlanTree {
  return {
    node: info.node,
    detail: info.detail,
    ...(info.index === undefined ? {} : { index: info.index }),
    estimatedRows: info.estimatedRows,
    ...(info.actualRows === undefined ? {} : { actualRows: info.actualRows }),
    children: info.children.map(planTree),
  };
}

/** The value at a dotted key path of a record (the key of an `IndexedCollection` row). */
function limitOf(limit: number | undefined | null, fallback: number): number {
  if (limit === undefined || limit === null) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new CliError(
      'invalid-input',
      `limit takes an integer from 1 to ${MAX_LIMIT}, not ${String(limit)}`,
    );
  return limit;
}

/** The studio's reads (and, when `writable`, writes) on one opened space. */
export class StudioData {
  constructor(
    readonly opened: Opened,
    readonly writable: boolean,
  ) {}

  /** Runs `fn` in a read-only transaction on `db` (at `asOf`), ended when it returns. */
  read<T>(db: string, asOf: number | undefined | null, fn: (tx: Transaction) => T): T {
    const tx = readDatabase(this.opened.space, db, asOf ?? undefined);
    try {
      return fn(tx);
    } finally {
      tx.abort();
    }
  }

  #root(tx: Transaction, db: string, root: string): unknown {
    if (!tx.has(root))
      throw new CliError('not-found', `database ${db} has no root named ${JSON.stringify(root)}`);
    return resolved(tx.get(root));
  }

  overview(asOf?: number): Overview {
    const { space } = this.opened;
    const databases: DatabaseSummary[] = space.databaseNames().map((name) => ({
      name,
      roots: this.read(name, asOf, (tx) =>
        tx.rootNames().map((root) => summary(root, resolved(tx.get(root)))),
      ),
    }));
    return {
      path: this.opened.path,
      backend: this.opened.kind,
      writable: this.writable,
      live: space.capabilities.multiProcess || this.writable,
      sequence: space.sequence,
      asOf: asOf ?? null,
      databases,
    };
  }

  history(): History {
    return {
      commits: this.opened.space
        .history()
        .map((c) => ({ sequence: c.sequence, timestamp: new Date(c.timestamp).toISOString() })),
    };
  }

  browse(request: BrowseRequest): BrowsePage {
    const limit = limitOf(request.limit, PAGE);
    return this.read(request.db, request.asOf, (tx) => {
      const where = `${request.db}/${request.root}`;
      const value = locate(this.#root(tx, request.db, request.root), request.path, where);
      const kind = kindOf(value);
      if (kind === undefined) return { collection: false, type: typeOf(value), value: display.toJson(value) };
      const { entries, next } = page(kind, value, request, limit);
      return {
        collection: true,
        type: kind.name,
        size: kind.size(value),
        entries: entries.map(([k, v]) => [display.toJson(k), display.toJson(v)] as const),
        next,
        ranges: ORDERED.has(kind.name) || kind.name === 'List' || kind.name === 'IndexedCollection',
      };
    });
  }

  query(request: QueryRequest): QueryResult {
    const limit = limitOf(request.limit, 100);
    return this.read(request.db, request.asOf, (tx) => {
      const collection = this.#root(tx, request.db, request.root);
      if (!(collection instanceof IndexedCollection))
        throw new CliError(
          'invalid-input',
          `${request.db}/${request.root} is a ${typeOf(collection)}; queries run on an IndexedCollection`,
        );
      let q: Query<unknown> = from(collection as IndexedCollection<unknown, Key>);
      for (const c of request.where)
        q = q.where(c.path as never, operator(c), text.fromJson(c.value) as never);
      if (request.orderBy) q = q.orderBy(request.orderBy.path as never, request.orderBy.direction);
      if (request.offset !== undefined && request.offset !== null) q = q.offset(request.offset);
      q = q.limit(limit);
      const started = performance.now();
      const explained = q.explain({ analyze: true });
      const milliseconds = performance.now() - started;
      return {
        rows: q.toArray().map((row) => display.toJson(row)),
        actualRows: explained.actualRows ?? 0,
        estimatedRows: explained.estimatedRows,
        plan: planTree(explained.plan),
        text: explained.text,
        indexes: explained.indexes,
        milliseconds,
      };
    });
  }

  diff(db: string, fromSequence: number, toSequence: number): DiffResult {
    const database = this.opened.space.database(db);
    if (!this.opened.space.databaseNames().includes(db))
      throw new CliError('not-found', `no database named ${JSON.stringify(db)}`);
    const roots = database.diff(fromSequence, toSequence).map((r) => {
      const entries: DiffResult['roots'][number]['entries'][number][] = [];
      let more = false;
      for (const e of r.entries()) {
        if (entries.length === DIFF_ENTRIES) {
          more = true;
          break;
        }
        entries.push({
          kind: e.kind,
          key: display.toJson(e.key),
          oldValue: display.toJson(e.oldValue),
          newValue: display.toJson(e.newValue),
        });
      }
      return { root: r.root, kind: r.kind, entries, more };
    });
    return { from: fromSequence, to: toSequence, roots };
  }

  nearest(
    db: string,
    root: string,
    index: string,
    key: Json,
    k: number,
    asOf: number | undefined,
  ): NearestResult {
    return this.read(db, asOf, (tx) => {
      const collection = this.#root(tx, db, root);
      if (!(collection instanceof IndexedCollection))
        throw new CliError(
          'invalid-input',
          `${db}/${root} is a ${typeOf(collection)}, not an IndexedCollection`,
        );
      const c = collection as IndexedCollection<unknown, Key>;
      const info = c.indexes().find((ix) => ix.name === index && ix.kind === VECTOR_KIND);
      if (info === undefined)
        throw new CliError('not-found', `${db}/${root} has no vector index named ${JSON.stringify(index)}`);
      const path = (info.definition as { path: string }).path;
      const record = c.get(asKey(key, 'the record key'));
      if (record === undefined)
        throw new CliError('not-found', `${db}/${root} has no record ${JSON.stringify(key)}`);
      const vector = keyAt(record, path);
      if (!Array.isArray(vector))
        throw new CliError('invalid-input', `record ${JSON.stringify(key)} has no vector at ${path}`);
      const q = from(c).nearest(path as never, vector as number[], { k: limitOf(k, 10) });
      const explained = q.explain({ analyze: true });
      return {
        rows: q.toArray().map((n) => ({
          key: display.toJson(n.key),
          distance: n.distance,
          record: display.toJson(n.record),
        })),
        plan: planTree(explained.plan),
        text: explained.text,
      };
    });
  }

  /** `--write`: sets root `root` (no key), or its entry `key`; resolves with the new commit's sequence. */
  async set(db: string, root: string, key: Json | undefined, value: Json): Promise<number> {
    this.#checkWritable();
    const stored = text.fromJson(value);
    await this.opened.space.database(db).transact((tx) => {
      if (key === undefined) {
        tx.set(root, stored);
        return;
      }
      tx.set(root, updated(this.#root(tx, db, root), asKey(key, 'the key'), stored, `${db}/${root}`));
    });
    return this.opened.space.sequence;
  }

  /** `--write`: deletes root `root` (no key), or its entry `key`. */
  async delete(db: string, root: string, key: Json | undefined): Promise<number> {
    this.#checkWritable();
    await this.opened.space.database(db).transact((tx) => {
      const current = this.#root(tx, db, root);
      if (key === undefined) {
        tx.delete(root);
        return;
      }
      const k = asKey(key, 'the key');
      if (current instanceof Dictionary || current instanceof IndexedCollection)
        tx.set(root, (current as Dictionary<Key, unknown>).delete(k));
      else
        throw new CliError(
          'unsupported',
          `${db}/${root} is a ${typeOf(current)}; the studio deletes entries of a Dictionary or an IndexedCollection`,
        );
    });
    return this.opened.space.sequence;
  }

  #checkWritable(): void {
    if (!this.writable)
      throw new CliError(
        'read-only',
        'the studio was started read-only; start it with --write to change data',
      );
  }
}

function operator(c: Condition): Operator {
  if (!OPERATORS.has(c.op))
    throw new CliError(
      'invalid-input',
      `unknown operator ${JSON.stringify(c.op)}; one of ${[...OPERATORS].join(' ')}`,
    );
  if (typeof c.path !== 'string' || c.path === '')
    throw new CliError('invalid-input', 'a condition needs a path');
  return c.op as Operator;
}

function updated(current: unknown, key: Key, value: unknown, where: string): unknown {
  if (current instanceof Dictionary) return current.set(key, value);
  if (current instanceof IndexedCollection)
    return (current as IndexedCollection<unknown, Key>).set(key, value);
  if (current instanceof List && typeof key === 'number') return current.set(key, value);
  throw new CliError(
    'unsupported',
    `${where} is a ${typeOf(current)}; the studio sets entries of a Dictionary, a List or an IndexedCollection`,
  );
}

function summary(name: string, value: unknown): RootSummary {
  const kind = kindOf(value);
  if (kind === undefined) return { name, type: typeOf(value) };
  if (!(value instanceof IndexedCollection)) return { name, type: kind.name, size: kind.size(value) };
  const c = value as IndexedCollection<unknown, Key>;
  const indexes: IndexSummary[] = c.indexes().map((ix) => {
    const base = {
      name: ix.name,
      kind: ix.kind,
      on: ix.on,
      unique: ix.unique,
      entries: ix.entries,
      keys: ix.keys,
    };
    if (ix.kind !== VECTOR_KIND) return base;
    const d = ix.definition as { path: string; dim: number; metric: string };
    const status = vectorIndexStatus(c, ix.name);
    return {
      ...base,
      vector: {
        path: d.path,
        dim: d.dim,
        metric: d.metric,
        vectors: status.vectors,
        lists: status.lists,
        trained: status.trained,
        needsRetraining: status.needsRetraining,
      },
    };
  });
  return { name, type: kind.name, size: c.size, keyPath: c.keyPath ?? null, indexes };
}

/** A resumable position: the last key shown and how many entries with that key were shown. */
function cursorOf(key: unknown, sameKey: number): Json {
  return [text.toJson(key), sameKey];
}

function parseCursor(after: Json | undefined): { key: Key; skip: number } | undefined {
  if (after === undefined || after === null) return undefined;
  if (!Array.isArray(after) || after.length !== 2 || typeof after[1] !== 'number')
    throw new CliError('invalid-input', 'after takes the next cursor of the page before');
  return { key: asKey(after[0] as Json, 'the cursor key'), skip: after[1] };
}

/**
 * One page of `value`: `limit` entries after the cursor within the range, and the cursor of the
 * next page. Ordered kinds and lists start where the page starts; an `IndexedCollection` with a
 * key path is read through a primary-key range query; the others walk from their first entry.
 */
function page(
  kind: Kind,
  value: unknown,
  request: BrowseRequest,
  limit: number,
): { entries: [unknown, unknown][]; next: Json | null } {
  const after = parseCursor(request.after);
  const fromKey = request.from === undefined ? undefined : asKey(request.from, 'from');
  const toKey = request.to === undefined ? undefined : asKey(request.to, 'to');
  const reverse = request.reverse;
  let source: Iterable<readonly [unknown, unknown]>;
  let skip = after?.skip ?? 0;
  let positional = false;
  if (kind.name === 'List') {
    const size = kind.size(value);
    let start = typeof fromKey === 'number' ? Math.max(0, Math.trunc(fromKey)) : 0;
    let end = typeof toKey === 'number' ? Math.min(size, Math.trunc(toKey)) : size;
    if (after !== undefined && typeof after.key === 'number') {
      if (reverse) end = after.key;
      else start = after.key + 1;
    }
    skip = 0;
    source = kind.entries(value, { from: start, to: Math.max(start, end), reverse });
  } else if (ORDERED.has(kind.name)) {
    const range = reverse
      ? {
          ...(fromKey === undefined ? {} : { from: fromKey }),
          ...(after ? { to: after.key } : toKey === undefined ? {} : { to: toKey }),
        }
      : {
          ...(after ? { from: after.key } : fromKey === undefined ? {} : { from: fromKey }),
          ...(toKey === undefined ? {} : { to: toKey }),
        };
    // Reversed, `to` is exclusive: the cursor's own key is not repeated, but a repeated key's
    // other entries would be lost; include it and skip the ones shown.
    source =
      reverse && after
        ? withKey(kind, value, after.key, range, reverse)
        : kind.entries(value, { ...range, reverse });
  } else if (value instanceof IndexedCollection && value.keyPath !== undefined) {
    const keyPath = value.keyPath;
    let q: Query<unknown> = from(value as IndexedCollection<unknown, Key>);
    if (after) q = q.where(keyPath as never, reverse ? '<' : '>', after.key as never);
    if (fromKey !== undefined && !(after && !reverse)) q = q.where(keyPath as never, '>=', fromKey as never);
    if (toKey !== undefined) q = q.where(keyPath as never, '<', toKey as never);
    q = q.orderBy(keyPath as never, reverse ? 'desc' : 'asc').limit(limit + 1);
    skip = 0;
    source = (function* () {
      for (const record of q) yield [keyAt(record, keyPath), record] as const;
    })();
  } else {
    // A walk from the first entry (a HashDictionary, an IndexedCollection without a key path).
    if (reverse)
      throw new CliError(
        'invalid-input',
        `a ${kind.name}${kind.name === 'IndexedCollection' ? ' without a key path' : ''} is read from its first entry only, not in reverse`,
      );
    positional = true;
    const start = after === undefined ? 0 : after.skip;
    source = (function* () {
      let i = 0;
      for (const entry of kind.entries(value)) {
        if (fromKey !== undefined && compareKeys(entry[0] as Key, fromKey) < 0) continue;
        if (toKey !== undefined && compareKeys(entry[0] as Key, toKey) >= 0) return;
        if (i++ >= start) yield entry;
      }
    })();
    skip = 0;
  }
  const entries: [unknown, unknown][] = [];
  let more = false;
  for (const [k, v] of source) {
    if (skip > 0 && after !== undefined && compareKeys(k as Key, after.key) === 0) {
      skip--;
      continue;
    }
    skip = 0;
    if (entries.length === limit) {
      more = true;
      break;
    }
    entries.push([k, v]);
  }
  if (!more || entries.length === 0) return { entries, next: null };
  if (positional) return { entries, next: [null, (after?.skip ?? 0) + entries.length] };
  const lastKey = entries[entries.length - 1]?.[0];
  let sameKey = 0;
  for (let i = entries.length - 1; i >= 0 && compareKeys(entries[i]?.[0] as Key, lastKey as Key) === 0; i--)
    sameKey++;
  if (after !== undefined && compareKeys(after.key, lastKey as Key) === 0) sameKey += after.skip;
  return { entries, next: cursorOf(lastKey, sameKey) };
}

/** Reversed entries up to and including `key`: the entries under `key`, then those below it. */
function* withKey(
  kind: Kind,
  value: unknown,
  key: Key,
  range: { from?: Key; to?: Key },
  reverse: boolean,
): Generator<readonly [unknown, unknown]> {
  const under: (readonly [unknown, unknown])[] = [];
  for (const entry of kind.entries(value, { from: key })) {
    if (compareKeys(entry[0] as Key, key) !== 0) break;
    under.push(entry);
  }
  yield* under.reverse();
  yield* kind.entries(value, { ...range, reverse });
}
