/**
 * Values as text: the tagged JSON that `get` prints and `export` / `import` read and write.
 *
 * Plain JSON stands for itself (strings, finite numbers, booleans, null, arrays, objects).
 * Every other value the codec stores is an object with one `$`-tag, so the text round-trips
 * every type exactly:
 *
 * | value | text |
 * |---|---|
 * | `-0`, `NaN`, `Infinity`, `-Infinity` | `{"$number":"-0"}` ... |
 * | bigint | `{"$bigint":"123"}` |
 * | Date | `{"$date":"2026-01-02T03:04:05.678Z"}` (an invalid Date: `{"$date":null}`) |
 * | Uint8Array | `{"$bytes":"<base64>"}` |
 * | undefined (inside an array or object) | `{"$undefined":true}` |
 * | an array with holes | `{"$sparse":<length>,"items":[[index,value],...]}` |
 * | an object with a key starting with `$` | `{"$object":{...}}` (keys inside are data) |
 * | a collection | `{"$collection":"<kind>",...}` (see `collections.ts`) |
 *
 * Strings keep lone surrogates (JSON escapes them); an object's `__proto__` key stays data.
 */
import { AtomRef, forEachElement, resolveSlot } from '@proto/atom';
import { CliError } from './errors.js';

/** A JSON value (what `JSON.stringify` writes and `JSON.parse` reads). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How collections turn into text and back; given by `collections.ts`. */
export interface CollectionText {
  /** The text of `value` when it is a collection, else undefined. */
  toText(value: unknown, toJson: (value: unknown) => Json): Json | undefined;
  /** The collection an object tagged `$collection` stands for. */
  fromText(tagged: { readonly [key: string]: Json }, fromJson: (text: Json) => unknown): unknown;
}

export class ValueText {
  constructor(private readonly collections: CollectionText) {}

  /** The tagged JSON of a stored value. */
  toJson = (value: unknown): Json => {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Object.is(value, -0)) return { $number: '-0' };
        return Number.isFinite(value) ? value : { $number: String(value) };
      case 'bigint':
        return { $bigint: value.toString() };
      case 'undefined':
        return { $undefined: true };
      case 'object': {
        if (value === null) return null;
        // A collection nested in a stored value is a reference until read.
        if (value instanceof AtomRef) return this.toJson(resolveSlot(value));
        if (value instanceof Date)
          return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
        if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
        if (Array.isArray(value)) return this.#array(value);
        const collection = this.collections.toText(value, this.toJson);
        if (collection !== undefined) return collection;
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null)
          throw new CliError(
            'unsupported',
            `a value of type ${value.constructor?.name ?? 'unknown'} has no text form; import the package that defines it`,
          );
        const out: { [key: string]: Json } = {};
        let tagged = false;
        for (const [key, item] of Object.entries(value)) {
          if (key.startsWith('$')) tagged = true;
          define(out, key, this.toJson(item));
        }
        return tagged ? { $object: out } : out;
      }
      default:
        throw new CliError('unsupported', `a ${typeof value} has no text form`);
    }
  };

  #array(value: unknown[]): Json {
    let present = 0;
    forEachElement(value, () => {
      present++;
    });
    if (present === value.length) return value.map(this.toJson);
    const items: Json[] = [];
    value.forEach((item, index) => {
      items.push([index, this.toJson(item)]);
    });
    return { $sparse: value.length, items };
  }

  /** The value a tagged JSON text stands for. Throws `invalid-input` naming what is wrong. */
  fromJson = (text: Json): unknown => {
    if (text === null || typeof text !== 'object') return text;
    if (Array.isArray(text)) return text.map(this.fromJson);
    const keys = Object.keys(text);
    const tag = keys.find((k) => k.startsWith('$'));
    if (tag === undefined) {
      const out: Record<string, unknown> = {};
      for (const key of keys) define(out, key, this.fromJson(text[key] as Json));
      return out;
    }
    const body = text[tag] as Json;
    switch (tag) {
      case '$number': {
        const numbers: Record<string, number> = { '-0': -0, NaN, Infinity, '-Infinity': -Infinity };
        if (typeof body !== 'string' || !(body in numbers))
          bad(`$number takes "-0", "NaN", "Infinity" or "-Infinity"`);
        return numbers[body as string];
      }
      case '$bigint':
        if (typeof body !== 'string' || !/^-?\d+$/.test(body)) bad('$bigint takes a string of digits');
        return BigInt(body as string);
      case '$date': {
        if (body === null) return new Date(Number.NaN);
        const date = typeof body === 'string' ? new Date(body) : undefined;
        if (date === undefined || Number.isNaN(date.getTime())) bad('$date takes an ISO date string or null');
        return date;
      }
      case '$bytes':
        if (typeof body !== 'string') bad('$bytes takes a base64 string');
        return new Uint8Array(Buffer.from(body as string, 'base64'));
      case '$undefined':
        return undefined;
      case '$sparse': {
        const items = text.items;
        if (typeof body !== 'number' || !Array.isArray(items)) bad('$sparse takes a length and items');
        const out: unknown[] = new Array(body as number);
        for (const item of items as Json[]) {
          if (!Array.isArray(item) || typeof item[0] !== 'number') bad('$sparse items are [index, value]');
          out[(item as Json[])[0] as number] = this.fromJson((item as Json[])[1] as Json);
        }
        return out;
      }
      case '$object': {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('$object takes an object');
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(body as { [key: string]: Json }))
          define(out, key, this.fromJson(item));
        return out;
      }
      case '$collection':
        return this.collections.fromText(text, this.fromJson);
      default:
        return bad(`unknown tag ${tag}`);
    }
  };
}

/** Sets `key` as an own data property (so `__proto__` stays a key, never a prototype). */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function bad(message: string): never {
  throw new CliError('invalid-input', `not a valid value: ${message}`);
}
