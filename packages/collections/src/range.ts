/**
 * Range options shared by the ordered collections.
 */
import type { KRange } from './internal/keyed-scan.js';
import { compareKeys, normalizeKey } from './order.js';

/**
 * A key range in the collection's order. Bounds are optional (absent: unbounded).
 * By default `from` is inclusive and `to` exclusive (`[from, to)`); `reverse` walks from the
 * end of the range to its start.
 * @example
 * dict.range({ from: 'a', to: 'b' })                       // keys in ['a', 'b')
 * dict.range({ from: 10, to: 20, toInclusive: true, reverse: true }) // 20 down to 10
 */
export interface RangeOptions<K> {
  readonly from?: K;
  readonly to?: K;
  /** Default true. */
  readonly fromInclusive?: boolean;
  /** Default false. */
  readonly toInclusive?: boolean;
  /** Iterate from the end of the range. Default false. */
  readonly reverse?: boolean;
}

/**
 * @internal Turns range options into tree bounds. `part` picks what the bounds compare from a
 * stored key (the key itself, or the first component of a composite key).
 */
export function toKRange<K>(options: RangeOptions<K> | undefined, part?: (key: unknown) => unknown): KRange {
  if (options === undefined) return { reverse: false };
  const reverse = options.reverse === true;
  const p = part ?? ((k: unknown) => k);
  let below: ((key: unknown) => boolean) | undefined;
  let above: ((key: unknown) => boolean) | undefined;
  if (options.from !== undefined) {
    const from = normalizeKey(options.from);
    below =
      options.fromInclusive === false
        ? (k) => compareKeys(p(k), from) <= 0
        : (k) => compareKeys(p(k), from) < 0;
  }
  if (options.to !== undefined) {
    const to = normalizeKey(options.to);
    above =
      options.toInclusive === true ? (k) => compareKeys(p(k), to) > 0 : (k) => compareKeys(p(k), to) >= 0;
  }
  return { below, above, reverse };
}
