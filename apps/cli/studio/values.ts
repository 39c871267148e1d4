/**
 * Values as the page draws them, from the server's tagged JSON: each with its type visible
 * (a Date, a bigint, bytes, special numbers), and a collection inside a value as a link that
 * opens it (its location is the path of keys and property names that led to it).
 */
import type { Json } from '../src/studio/protocol.js';
import { type Child, h } from './dom.js';

/** Opens the collection at a path below the current view's value. */
export type Open = (path: Json[]) => void;

const SHORT = 80;

function typed(type: string, text: string, title?: string): HTMLElement {
  return h('span', { class: `v v-${type}`, 'data-type': type, title: title ?? type }, text);
}

function tagOf(value: { [key: string]: Json }): string | undefined {
  return Object.keys(value).find((k) => k.startsWith('$'));
}

/** A key in one line (keys are scalars, dates, bytes or arrays of them). */
export function keyText(value: Json): string {
  if (value === null || typeof value !== 'object')
    return typeof value === 'string' ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(keyText).join(', ')}]`;
  const tag = tagOf(value);
  if (tag === '$date') return String(value.$date);
  if (tag === '$bigint') return `${String(value.$bigint)}n`;
  if (tag === '$number') return String(value.$number);
  if (tag === '$bytes') return `bytes ${String(value.$bytes)}`;
  return JSON.stringify(value);
}

/**
 * Draws `value`. `path` is where it is below the current view's value (null: not addressable,
 * nested collections are then shown but not links); `open` follows a link.
 */
export function renderValue(value: Json, path: Json[] | null, open: Open): HTMLElement {
  if (value === null) return typed('null', 'null');
  switch (typeof value) {
    case 'string':
      return typed(
        'string',
        JSON.stringify(value.length > 400 ? `${value.slice(0, 400)}…` : value),
        `string (${value.length})`,
      );
    case 'number':
      return typed('number', String(value));
    case 'boolean':
      return typed('boolean', String(value));
  }
  if (Array.isArray(value)) {
    if (value.length > 0 && value.length <= 16 && value.every((v) => typeof v === 'number'))
      return typed('array', `[${value.join(', ')}]`, `array (${value.length})`);
    return list(
      '[',
      ']',
      value.map((item, i) => renderValue(item, path && [...path, i], open)),
      value.length,
    );
  }
  const tag = tagOf(value);
  switch (tag) {
    case undefined:
      return object(value, path, open);
    case '$date':
      return typed('Date', value.$date === null ? 'Invalid Date' : String(value.$date), 'Date');
    case '$bigint':
      return typed('bigint', `${String(value.$bigint)}n`, 'bigint');
    case '$number':
      return typed('number', String(value.$number));
    case '$undefined':
      return typed('undefined', 'undefined');
    case '$bytes': {
      const base64 = String(value.$bytes);
      const length =
        Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
      const shown = base64.length > SHORT ? `${base64.slice(0, SHORT)}…` : base64;
      return typed('bytes', `bytes(${length}) ${shown}`, `Uint8Array, ${length} bytes (base64)`);
    }
    case '$object':
      return object(value.$object as { [key: string]: Json }, path, open);
    case '$sparse': {
      const items = (value.items as [number, Json][]).map(([i, v]) =>
        h('span', {}, `${i}: `, renderValue(v, path && [...path, i], open)),
      );
      return list('[', ']', items, Number(value.$sparse), 'sparse array');
    }
    case '$collection': {
      const label = `${String(value.$collection)} (${Number(value.size).toLocaleString('en-US')} entries)`;
      if (path === null) return typed('collection', label, 'a nested collection');
      const link = h('a', { href: '#', class: 'v v-collection', 'data-type': 'collection' }, `${label} →`);
      link.addEventListener('click', (event) => {
        event.preventDefault();
        open(path);
      });
      return link;
    }
    case '$atom':
      return typed('atom', `atom ${String(value.$atom)}`);
    default:
      return typed('json', JSON.stringify(value));
  }
}

function object(value: { [key: string]: Json }, path: Json[] | null, open: Open): HTMLElement {
  const parts = Object.entries(value).map(([k, v]) =>
    h(
      'span',
      { class: 'field' },
      h('span', { class: 'field-name' }, `${k}: `),
      renderValue(v, path && [...path, k], open),
    ),
  );
  return list('{', '}', parts, parts.length, 'object');
}

function list(open: string, close: string, items: Child[], length: number, type = 'array'): HTMLElement {
  const out = h(
    'span',
    { class: `v v-${type === 'object' ? 'object' : 'array'}`, title: `${type} (${length})` },
    open,
  );
  items.forEach((item, i) => {
    if (i > 0) out.append(', ');
    if (item !== null && item !== undefined && item !== false)
      out.append(typeof item === 'number' ? String(item) : item);
  });
  out.append(close);
  return out;
}
