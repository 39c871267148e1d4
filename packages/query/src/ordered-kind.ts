/**
 * The ordered index as an index kind (`ordered`): the first implementation of `IndexKind`.
 * Its index value is `IndexData`. The collection stores it in its own row shape (the storage
 * format predates kinds) through `encode`/`decode`, and the planner reads it through private
 * fast paths (`plan/candidates.ts`: ordered walks, membership checks, merged ranges, the plan
 * cache); `accessPaths` offers what any kind can: probes and range walks of single terms.
 */
import { type Atom, resolveSlot } from '@proto/atom';
import { Dictionary, type Key, type KeyRange } from '@proto/collections';
import { QueryError, show } from './errors.js';
import type { ExprNode } from './expr.js';
import {
  defineIndex,
  IndexCursor,
  IndexData,
  type IndexDefinition,
  KeyProbeCursor,
  NO_KEY,
} from './index-data.js';
import { type IndexAccessPath, type IndexKind, registerIndexKind } from './index-kind.js';
import { describeRange } from './plan/access.js';
import { rangeOf, rangeRows, sortedKeys } from './plan/candidates.js';
import { C_INDEX, C_SEEK } from './plan/cost.js';
import { isKey, ValueSet } from './values.js';

function corrupt(): never {
  throw new QueryError({
    layer: 'query',
    reason: 'corrupt',
    message: 'a stored ordered index has an unexpected shape; the data is not trusted',
  });
}

function* probe(ix: IndexData, keys: readonly Key[], dedupe: boolean): Generator<Key> {
  const seen = dedupe ? new ValueSet() : undefined;
  for (const k of keys) {
    const c = new KeyProbeCursor(ix.tree, k);
    while (c.next()) if (seen === undefined || seen.add(c.key)) yield c.key as Key;
  }
}

function* walk(ix: IndexData, range: KeyRange, dedupe: boolean): Generator<Key> {
  const seen = dedupe ? new ValueSet() : undefined;
  const c = new IndexCursor(ix.tree, range, false);
  while (c.next()) if (seen === undefined || seen.add(c.key)) yield c.key as Key;
}

function pathsOf(ix: IndexData, terms: readonly ExprNode[]): IndexAccessPath<IndexData>[] {
  const out: IndexAccessPath<IndexData>[] = [];
  const id = ix.accessor.id;
  for (let i = 0; i < terms.length; i++) {
    const e = terms[i] as ExprNode;
    if (!('on' in e) || e.on.id !== id) continue;
    if (e.op === 'eq' || e.op === 'in') {
      const values = e.op === 'in' ? e.values : [e.value];
      if (values.length === 0 || !values.every(isKey)) continue;
      const keys = sortedKeys(values, false);
      let rows = 0;
      for (const k of keys) rows += ix.count(k);
      out.push({
        covers: [i],
        rows,
        cost: keys.length * C_SEEK + rows * C_INDEX,
        operator: 'IndexProbe',
        detail: keys.length === 1 ? `= ${show(keys[0])}` : `IN (${keys.map(show).join(', ')})`,
        keys: (index) => probe(index, keys, index.multi && keys.length > 1),
      });
      continue;
    }
    const r = rangeOf(e);
    if (r === undefined) continue;
    const rows = rangeRows(ix, r.range);
    out.push({
      covers: [i],
      rows,
      cost: C_SEEK + rows * C_INDEX,
      operator: 'IndexRangeScan',
      detail: describeRange(r.range),
      keys: (index) => walk(index, r.range, index.multi),
    });
  }
  return out;
}

/** The ordered index kind: `createIndex(name, 'path')`, `{ path | key, unique }`. */
export const orderedIndexKind: IndexKind<IndexDefinition, IndexData> = {
  name: 'ordered',
  package: '@proto/query',
  define: (index, options) => defineIndex(index, options as Parameters<typeof defineIndex>[1]),
  build: (definition, records) => IndexData.build(definition, records),
  update: (index, pk, before, after) =>
    index.update(pk, before === undefined ? NO_KEY : before, after === undefined ? NO_KEY : after),
  encode: (index) => [index.tree, index.entries, index.covered, index.strings],
  decode: (definition, stored) => {
    if (!Array.isArray(stored) || stored.length !== 4) return corrupt();
    const [tree, entries, covered, strings] = stored as [unknown, number, number, number];
    const d = resolveSlot(tree as Atom);
    if (!(d instanceof Dictionary)) return corrupt();
    return new IndexData(definition, d, entries, covered, strings);
  },
  describe: (index) => ({
    on: 'path' in index.def.on ? index.def.on.path : `fn:${index.def.on.fn}`,
    unique: index.def.unique,
    multi: index.multi,
    entries: index.entries,
    keys: index.keyCount,
    covered: index.covered,
  }),
  accessPaths: (index, terms) => pathsOf(index, terms),
};

registerIndexKind(orderedIndexKind);
