/**
 * Paths into a value for error messages: `$` is the value itself, `.name` or `["odd key"]`
 * an object property, `[3]` an array element.
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** Paths deeper than twice this show only this many segments at each end. */
const PATH_EDGE = 10;

/** Formats a path from its property keys (strings) and array indices (numbers). */
export function formatPath(segments: readonly (string | number)[]): string {
  let path = '$';
  const count = segments.length;
  for (let i = 0; i < count; i++) {
    if (i === PATH_EDGE && count > 2 * PATH_EDGE) {
      path += `...(${count - 2 * PATH_EDGE} levels)...`;
      i = count - PATH_EDGE;
    }
    const segment = segments[i]!;
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** A short name for the type of a value the codec cannot store inline, e.g. `Map`, `a function`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value !== 'object' || value === null) return typeof value;
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null) return 'object';
    const maker = (proto as { constructor?: unknown }).constructor;
    if (typeof maker === 'function' && maker.name) return maker.name;
    return 'object with a custom prototype';
  } catch {
    return 'object';
  }
}
