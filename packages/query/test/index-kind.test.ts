/**
 * The index-kind interface (issue 10): the ordered index is its first implementation, reachable
 * through the registry like any kind; a stored index of an unregistered kind is a typed error
 * naming its package. (A third-party kind is tested outside this package, in
 * `apps/demo/test/index-kind.test.ts`.)
 */
import { hasReason } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import {
  type ExprNode,
  field,
  from,
  IndexedCollection,
  type IndexKind,
  indexKind,
  registerIndexKind,
} from '../src/index.js';
import type { User } from './helpers.js';

const records: User[] = Array.from({ length: 200 }, (_, i) => ({
  id: `u${String(i).padStart(3, '0')}`,
  name: `N${i}`,
  age: i % 60,
  tags: [`t${i % 5}`, `t${i % 3}`],
}));

describe('query: index kinds', () => {
  it('offers the ordered index’s probes and ranges through the IndexKind interface when asked like any kind', () => {
    const kind = indexKind('ordered') as IndexKind;
    expect(kind.name).toBe('ordered');
    const c = IndexedCollection.from<User, string>(records, { key: 'id' })
      .createIndex('byAge', 'age')
      .createIndex('byTag', 'tags[]');
    const terms: ExprNode[] = [
      field('age').between(10, 20),
      field('age').in([3, 5]),
      field('tags[]').eq('t1'),
    ];
    for (const name of ['byAge', 'byTag']) {
      const definition = kind.define(name, name === 'byAge' ? 'age' : 'tags[]');
      const index = kind.build(
        definition,
        records.map((r) => [r.id, r] as const),
      );
      const paths = kind.accessPaths(index, terms, { records: records.length });
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) {
        const expected = records.filter((r) => p.covers.every((i) => compile(terms[i] as ExprNode)(r)));
        const got = [...p.keys(index)];
        expect(got.slice().sort()).toEqual(expected.map((r) => r.id).sort());
        expect(p.rows).toBe(expected.length);
      }
    }
    expect(c.indexes().map((ix) => ix.kind)).toEqual(['ordered', 'ordered']);
  });

  it('builds and updates the ordered index through its kind with the same result as the collection', () => {
    const kind = indexKind('ordered') as IndexKind;
    const definition = kind.define('byAge', 'age');
    let index = kind.build(definition, []);
    for (const r of records) index = kind.update(index, r.id as Key, undefined, r);
    index = kind.update(index, 'u000', records[0], undefined);
    const c = IndexedCollection.from<User, string>(records, { key: 'id' })
      .createIndex('byAge', 'age')
      .delete('u000');
    const info = c.indexes()[0];
    expect(kind.describe(index)).toMatchObject({ on: 'age', entries: info?.entries, keys: info?.keys });
  });

  it('throws unsupported naming the kind and its package when a stored index’s kind is not registered', () => {
    // A stored payload as a collection of another process would write it.
    const payload = [
      1,
      'id',
      Dictionary.empty(),
      [['byGeo', 'kind:acme.geo', '@acme/geo-index', { p: 'loc' }, []]],
    ];
    const Ctor = IndexedCollection as unknown as new (
      s: undefined,
      p: readonly unknown[],
    ) => IndexedCollection;
    const c = new Ctor(undefined, payload);
    const error = (() => {
      try {
        from(c).toArray();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasReason(error, 'unsupported')).toBe(true);
    expect(String((error as Error).message)).toContain("kind 'acme.geo'");
    expect(String((error as Error).message)).toContain('@acme/geo-index');
  });

  it('rejects an unregistered kind at createIndex and another kind under a taken name', () => {
    const fake = { ...(indexKind('ordered') as IndexKind), name: 'test.unregistered' };
    const attempt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(
      hasReason(
        attempt(() => IndexedCollection.empty({ key: 'id' }).createIndex('x', { kind: fake })),
        'invalid-argument',
      ),
    ).toBe(true);
    expect(
      hasReason(
        attempt(() => registerIndexKind({ ...fake, name: 'ordered' })),
        'invalid-argument',
      ),
    ).toBe(true);
  });
});
