/**
 * Walks over the elements of stored arrays. A stored array may be sparse: `a[2 ** 32 - 2] = 'x'`
 * declares a length of about four billion while holding one element, and the codec stores it in
 * a few bytes. Every walk over a value (collecting atoms before a commit, comparing, hashing,
 * copying, querying) must cost time in proportion to the elements present, never to `length`:
 * these functions are that walk.
 */

/**
 * Calls `visit(item, index)` for each element `array` holds, in index order, skipping holes;
 * stops as soon as `visit` returns true and then returns true. Time follows the elements
 * present, not `length`.
 * @example
 * const a: string[] = [];
 * a[2 ** 32 - 2] = 'x';
 * forEachElement(a, (item, index) => console.log(index, item)); // 4294967294 'x', at once
 */
export function forEachElement<T>(array: readonly T[], visit: (item: T, index: number) => unknown): boolean {
  const length = array.length;
  for (let i = 0; i < length; i++) {
    const item = array[i] as T;
    if (item === undefined && !(i in array)) {
      for (const index of presentIndices(array, i)) if (visit(array[index] as T, index) === true) return true;
      return false;
    }
    if (visit(item, i) === true) return true;
  }
  return false;
}

/** @internal The indices at or after `from` that `array` holds, ascending (`Object.keys` order). */
export function presentIndices(array: readonly unknown[], from: number): number[] {
  const indices: number[] = [];
  const length = array.length;
  for (const key of Object.keys(array)) {
    const index = Number(key);
    // Array indices come first in `Object.keys`, ascending; anything else is not an element.
    if (!(index < length) || String(index) !== key) break;
    if (index >= from) indices.push(index);
  }
  return indices;
}

/**
 * @internal An array of `length` holes in V8's dictionary form, whose memory follows the
 * elements assigned to it. (Setting a large `length` on an ordinary array allocates a slot for
 * every index.) An element at the last index switches an empty array to this form, and neither
 * deleting it nor truncating switches it back; elements assigned later may turn it ordinary
 * again once they fill it densely, which costs memory in proportion to them.
 */
export function sparseArray<T>(length: number): T[] {
  const array: T[] = [];
  const last = 2 ** 32 - 2;
  array[last] = undefined as T;
  delete array[last];
  array.length = length;
  return array;
}

/** @internal A shallow copy of `array` that keeps its holes, in time following its elements. */
export function copyArray<T>(array: readonly T[]): T[] {
  if (!hasHoles(array)) return array.slice();
  const copy = sparseArray<T>(array.length);
  forEachElement(array, (item, index) => {
    copy[index] = item;
  });
  return copy;
}

/** True when `array` has a hole; stops at the first one. */
function hasHoles(array: readonly unknown[]): boolean {
  for (let i = 0; i < array.length; i++) if (array[i] === undefined && !(i in array)) return true;
  return false;
}
