/**
 * Bounded caches for the kernel. Atoms never change once stored, so nothing here is ever
 * invalidated: entries only leave when a bound (entries or bytes) is exceeded. Eviction is
 * "second chance" (CLOCK): a hit marks an entry, and the sweep spares a marked entry once.
 */
import type { AtomPointer } from './storage/backend.js';

/**
 * One cached value. Holders may keep the entry to skip the lookup by pointer next time: its
 * `value` becomes undefined when the entry leaves the cache, and setting `hot` counts as a hit
 * for eviction.
 */
export interface CacheEntry<T> {
  value: T | undefined;
  size: number;
  hot: boolean;
}

/** A bounded map from pointer to value, by entry count and by total size. */
export class BoundedCache<T> {
  readonly #entries = new Map<AtomPointer, CacheEntry<T>>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(pointer: AtomPointer): T | undefined {
    const entry = this.#entries.get(pointer);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.hot = true;
    return entry.value;
  }

  /** The entry of `pointer`, if cached (not counted as a hit or a miss). */
  entry(pointer: AtomPointer): CacheEntry<T> | undefined {
    return this.#entries.get(pointer);
  }

  /** Adds an entry (a no-op if present) and evicts until both bounds hold. */
  set(pointer: AtomPointer, value: T, size: number): void {
    if (this.maxEntries <= 0 || size > this.maxBytes) return;
    if (this.#entries.has(pointer)) return;
    this.#entries.set(pointer, { value, size, hot: false });
    this.#bytes += size;
    if (this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) this.#evict();
  }

  clear(): void {
    for (const entry of this.#entries.values()) entry.value = undefined;
    this.#entries.clear();
    this.#bytes = 0;
  }

  #evict(): void {
    const entries = this.#entries;
    // Each entry is spared at most once per sweep, so this ends.
    while (entries.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const first = entries.entries().next();
      if (first.done === true) return;
      const [pointer, entry] = first.value;
      entries.delete(pointer);
      if (entry.hot) {
        entry.hot = false;
        entries.set(pointer, entry);
      } else {
        this.#bytes -= entry.size;
        entry.value = undefined;
      }
    }
  }
}
