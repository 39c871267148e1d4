/**
 * The registry of named key functions. A function cannot be stored, so an index over one stores
 * its name; the function is looked up here whenever the index must be updated. Register it at
 * startup (before the first write after a reopen), as you import atom types; `keyFn` in the
 * expression module registers and returns one.
 */
import { invalidArgument, queryError } from './errors.js';

const registry = new Map<string, (record: never) => unknown>();

/**
 * Registers `fn` under `name`. Registering a name again replaces its function (so a module can
 * be reloaded in development); keep names stable, since stored index definitions refer to them.
 */
export function registerKeyFunction<T>(name: string, fn: (record: T) => unknown): void {
  if (typeof name !== 'string' || name.length === 0) invalidArgument('a key function needs a non-empty name');
  if (typeof fn !== 'function') invalidArgument(`key function '${name}' must be a function`);
  registry.set(name, fn as (record: never) => unknown);
}

/** The function registered under `name`; throws `QueryError` (`not-found`) when there is none. */
export function registeredKeyFunction(name: string): (record: unknown) => unknown {
  const fn = registry.get(name);
  if (fn === undefined) {
    queryError(
      'not-found',
      `key function '${name}' is not registered in this process; call keyFn('${name}', fn) or registerKeyFunction at startup before writing to a collection indexed by it`,
    );
  }
  return fn as (record: unknown) => unknown;
}
