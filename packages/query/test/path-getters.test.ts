/**
 * Field reads in queries are compiled per field name (one monomorphic load each): names that
 * are not identifiers (quotes, backslashes, line separators, template syntax, digits) read
 * exactly their own field, one level down as well as at the top.
 */
import { describe, expect, it } from 'vitest';
import { from } from '../src/index.js';

const NAMES = [
  "it's",
  'back\\slash',
  'quote"d',
  'line\u2028sep',
  '$' + '{x}',
  '0lead',
  'a b',
  '`tick`',
  'ünï',
];

describe('query field paths with any name', () => {
  it('filter, sort and project on fields whose names are not identifiers', () => {
    const rows = NAMES.map((name, i) => ({ id: i, [name]: i * 10, nested: { [name]: -i } }));
    const ids = (field: string, op: '=' | '>=', value: number) =>
      from(rows)
        .where(field, op, value)
        .toArray()
        .map((r) => r.id);
    for (const [i, name] of NAMES.entries()) {
      expect(ids(name, '=', i * 10), name).toEqual([i]);
      expect(ids(`nested.${name}`, '=', -i), name).toEqual([i]);
      expect(ids(name, '>=', 0), name).toEqual([i]);
    }
    // Three fields in one query: each read its own field.
    const mixed = [
      { a: 1, b: 'x', c: true },
      { a: 2, b: 'y', c: false },
      { a: 3, b: 'x', c: true },
    ];
    expect(from(mixed).where('b', '=', 'x').where('c', '=', true).orderBy('a', 'desc').toArray()).toEqual([
      mixed[2],
      mixed[0],
    ]);
  });
});
