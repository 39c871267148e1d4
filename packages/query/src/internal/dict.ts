/**
 * Allocation-free cursors over `Dictionary` ranges. Uses the dictionary's raw scan when it
 * offers one (no generator, no tuple per entry: several times faster on long scans) and falls
 * back to the public `entries()` otherwise. Only for dictionaries this package owns and keeps
 * unbound (the trees inside an `IndexedCollection`), which record no reads; dictionaries given
 * by users are read through their public API.
 */
import { AtomRef } from '@proto/atom';
import { compareKeys, Dictionary, type Key } from '@proto/collections';

/** A key range; absent bounds are open. */
export interface KeyRange {
  readonly from?: Key | undefined;
  readonly fromInclusive?: boolean;
  readonly to?: Key | undefined;
  readonly toInclusive?: boolean;
}

/** A position in a stream of entries: `next()` moves and says whether `key`/`value` hold one. */
export interface EntryCursor {
  next(): boolean;
  readonly key: unknown;
  readonly value: unknown;
}

interface RawScan {
  next(): boolean;
  readonly key: unknown;
  readonly value: unknown;
}

type Scannable = { _scan?: (range: unknown) => RawScan };

class RawCursor implements EntryCursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(private readonly scan: RawScan) {}
  next(): boolean {
    const s = this.scan;
    if (!s.next()) return false;
    this.key = s.key;
    const v = s.value;
    this.value = v instanceof AtomRef ? v.get() : v;
    return true;
  }
}

class IteratorCursor implements EntryCursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(private readonly it: Iterator<[unknown, unknown]>) {}
  next(): boolean {
    const r = this.it.next();
    if (r.done === true) return false;
    this.key = r.value[0];
    this.value = r.value[1];
    return true;
  }
}

let rawWorks: boolean | undefined;

/**
 * Checks once that the raw scan honours the range and direction as this module drives it (it is
 * not public API: if it changed shape, the public iterator is used instead).
 */
function rawScanWorks(): boolean {
  try {
    const probe = Dictionary.from([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
    const scan = (probe as unknown as Scannable)._scan;
    if (typeof scan !== 'function') return false;
    const seen: unknown[] = [];
    const forward = scan.call(probe, {
      below: (k: unknown) => (k as number) < 2,
      above: (k: unknown) => (k as number) > 3,
      reverse: false,
    });
    while (forward.next()) seen.push(forward.key, forward.value);
    const backward = scan.call(probe, {
      below: (k: unknown) => (k as number) < 2,
      above: undefined,
      reverse: true,
    });
    while (backward.next()) seen.push(backward.key);
    return seen.join(',') === '2,20,3,30,4,3,2';
  } catch {
    return false;
  }
}

function below(range: KeyRange): ((k: unknown) => boolean) | undefined {
  const from = range.from;
  if (from === undefined) return undefined;
  if (range.fromInclusive === false) return (k) => compareKeys(k, from) <= 0;
  return (k) => compareKeys(k, from) < 0;
}

function above(range: KeyRange): ((k: unknown) => boolean) | undefined {
  const to = range.to;
  if (to === undefined) return undefined;
  if (range.toInclusive === true) return (k) => compareKeys(k, to) > 0;
  return (k) => compareKeys(k, to) >= 0;
}

type LeafKeys = { _leafKeys?: () => readonly unknown[] | undefined };

let leafKeysWork: boolean | undefined;

/** Checks once that `_leafKeys` (not public API) gives the keys of a one-leaf dictionary in order. */
function leafKeysWorks(): boolean {
  try {
    const probe = Dictionary.from([
      [2, true],
      [1, true],
    ]) as unknown as LeafKeys;
    const keys = probe._leafKeys?.();
    const empty = (Dictionary.from([]) as unknown as LeafKeys)._leafKeys?.();
    return keys?.length === 2 && keys[0] === 1 && keys[1] === 2 && empty?.length === 0;
  } catch {
    return false;
  }
}

/**
 * The keys of `dict` in order when its tree is a single leaf (no cursor needed), else
 * undefined (use `cursorOf`).
 */
export function leafKeysOf(dict: Dictionary): readonly unknown[] | undefined {
  leafKeysWork ??= leafKeysWorks();
  return leafKeysWork ? (dict as unknown as LeafKeys)._leafKeys?.() : undefined;
}

/** Entries of `dict` within `range` (all when undefined), in key order or reversed. */
export function cursorOf(dict: Dictionary, range?: KeyRange, reverse = false): EntryCursor {
  rawWorks ??= rawScanWorks();
  if (rawWorks) {
    const raw = (dict as unknown as Required<Scannable>)._scan({
      below: range === undefined ? undefined : below(range),
      above: range === undefined ? undefined : above(range),
      reverse,
    });
    return new RawCursor(raw);
  }
  const options: Record<string, unknown> = { reverse };
  if (range?.from !== undefined) {
    options.from = range.from;
    options.fromInclusive = range.fromInclusive !== false;
  }
  if (range?.to !== undefined) {
    options.to = range.to;
    options.toInclusive = range.toInclusive === true;
  }
  return new IteratorCursor(dict.entries(options) as Iterator<[unknown, unknown]>);
}
