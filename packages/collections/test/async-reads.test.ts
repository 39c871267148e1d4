/**
 * Backends without synchronous reads: a transaction that meets an atom not in memory fails its
 * read with `not-loaded`, `transact` loads that atom (and, for a scan, what comes next) in one
 * batched read and runs the function again. These tests run collections through `transact`
 * only, on the memory backend with `syncReads: false` (every read call a macrotask away, as a
 * network round trip), with caches small enough that reads keep missing.
 */
import { type Change, ObjectSpace, type StorageBackend } from '@proto/atom';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dictionary, List } from '../src/index.js';

/** A backend that counts its read calls (each one a round trip). */
function counting(inner: StorageBackend, blocking = false) {
  const counts = { readAtom: 0, readAtoms: 0, blocking: 0, atoms: 0 };
  const readBlocking = blocking ? inner.readAtomsBlocking?.bind(inner) : undefined;
  const backend: StorageBackend = {
    name: inner.name,
    capabilities: inner.capabilities,
    writeAtoms: (atoms) => inner.writeAtoms(atoms),
    readAtom: (pointer) => {
      counts.readAtom++;
      counts.atoms++;
      return inner.readAtom(pointer);
    },
    readAtoms: (pointers) => {
      counts.readAtoms++;
      counts.atoms += pointers.length;
      return (inner.readAtoms as NonNullable<StorageBackend['readAtoms']>).call(inner, pointers);
    },
    ...(readBlocking === undefined
      ? {}
      : {
          readAtomsBlocking: (pointers: readonly string[]) => {
            counts.blocking++;
            counts.atoms += pointers.length;
            return readBlocking(pointers);
          },
        }),
    readRoot: () => inner.readRoot(),
    ...(inner.reclaim === undefined ? {} : { reclaim: inner.reclaim.bind(inner) }),
    compareAndSetRoot: (expected, next) => inner.compareAndSetRoot(expected, next),
    close: () => inner.close(),
  };
  return { backend, counts, roundTrips: () => counts.readAtom + counts.readAtoms + counts.blocking };
}

async function openAsync(location: MemoryLocation, maxAtoms = 100_000, readLatencyMs = 0, blocking = false) {
  const wrapped = counting(await openMemoryBackend({ location, syncReads: false, readLatencyMs }), blocking);
  const space = await ObjectSpace.open(wrapped.backend, { cache: { maxAtoms } });
  return { space, ...wrapped };
}

async function written(fill: (space: ObjectSpace) => Promise<void>): Promise<MemoryLocation> {
  const location = createMemoryLocation();
  const space = await ObjectSpace.open(await openMemoryBackend({ location }));
  await fill(space);
  await space.close();
  return location;
}

/** A location holding `d`, a Dictionary of 1,000,000 entries `i → { n: i }`, and its tree depth. */
async function millionEntries(): Promise<{ location: MemoryLocation; depth: number }> {
  let depth = 0;
  const location = await written(async (space) => {
    const d = Dictionary.from(
      Array.from({ length: 1_000_000 }, (_, i) => [i, { n: i }] as [number, unknown]),
    );
    depth = d.depth;
    await space.database('db').transact((tx) => tx.set('d', d));
  });
  return { location, depth };
}

describe('collections on a backend without synchronous reads', () => {
  it('a cold point read in a 1M-entry Dictionary costs one round trip per tree level', async () => {
    const { location, depth } = await millionEntries();
    const { space, roundTrips, counts } = await openAsync(location, 100_000, 1);
    const db = space.database('db');
    const before = roundTrips();
    const value = await db.transact((tx) => tx.get<Dictionary<number, { n: number }>>('d')?.get(654_321));
    expect(value).toEqual({ n: 654_321 });
    const cold = roundTrips() - before;
    // The space's state, the database, the collection's root atom, then one node per tree
    // level: each one batched read; nothing else (no node is read twice, no sibling is read
    // for a point read).
    expect(depth).toBeGreaterThanOrEqual(3);
    expect(cold).toBe(depth + 3);
    expect(counts.atoms).toBeLessThanOrEqual(roundTrips() + 1);
    // Another key: only the nodes not on the path already read.
    const again = roundTrips();
    expect(await db.transact((tx) => tx.get<Dictionary<number, { n: number }>>('d')?.get(11))).toEqual({
      n: 11,
    });
    expect(roundTrips() - again).toBeLessThan(depth);
    expect(space.stats().batchedReads).toBe(counts.readAtoms);
    await space.close();
  });

  it('a cold full scan reads in batches that grow: round trips logarithmic in the leaves', async () => {
    const n = 100_000;
    const location = await written((space) =>
      space
        .database('db')
        .transact((tx) =>
          tx.set('d', Dictionary.from(Array.from({ length: n }, (_, i) => [i, i] as [number, number]))),
        ),
    );
    const { space, roundTrips, counts } = await openAsync(location);
    const sum = await space.database('db').transact((tx) => {
      let s = 0;
      for (const [, v] of tx.get<Dictionary<number, number>>('d')?.entries() ?? []) s += v;
      return s;
    });
    expect(sum).toBe((n * (n - 1)) / 2);
    // 100k entries are some 1,600 leaves: one round trip each would be 1,600.
    expect(roundTrips()).toBeLessThan(30);
    expect(counts.atoms).toBeLessThan(2_000);
    await space.close();
  });

  it('matches a Map model through random writes, reads, ranges, evictions and reopens', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 3000 }),
        value: fc.integer(),
      }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({
        kind: fc.constant('bulk' as const),
        from: fc.integer({ min: 0, max: 3000 }),
        count: fc.integer({ min: 1, max: 800 }),
      }),
      fc.record({
        kind: fc.constant('range' as const),
        from: fc.integer({ min: 0, max: 3000 }),
        to: fc.integer({ min: 0, max: 3000 }),
      }),
      fc.record({ kind: fc.constant('append' as const), value: fc.string({ maxLength: 3 }) }),
      fc.constant({ kind: 'evict' as const }),
      fc.constant({ kind: 'reopen' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const location = createMemoryLocation();
        // A tiny cache: reads keep missing, transactions keep running again.
        let handle = await openAsync(location, 16);
        const model = new Map<number, number>();
        const log: string[] = [];
        try {
          for (const o of ops) {
            const db = handle.space.database('db');
            if (o.kind === 'evict') handle.space.evictCaches();
            else if (o.kind === 'reopen') {
              await handle.space.close();
              handle = await openAsync(location, 16);
            } else if (o.kind === 'range') {
              const [lo, hi] = o.from <= o.to ? [o.from, o.to] : [o.to, o.from];
              const got = await db.transact((tx) => [
                ...(tx.get<Dictionary<number, number>>('d')?.range({ from: lo, to: hi }) ?? []),
              ]);
              const want = [...model].filter(([k]) => k >= lo && k < hi).sort((a, b) => a[0] - b[0]);
              expect(got).toEqual(want);
            } else if (o.kind === 'append') {
              await db.transact((tx) =>
                tx.set('log', (tx.get<List<string>>('log') ?? List.empty<string>()).append(o.value)),
              );
              log.push(o.value);
            } else
              await db.transact((tx) => {
                let d = tx.get<Dictionary<number, number>>('d') ?? Dictionary.empty<number, number>();
                if (o.kind === 'set') d = d.set(o.key, o.value);
                else if (o.kind === 'delete') d = d.delete(o.key);
                else for (let k = o.from; k < o.from + o.count; k++) d = d.set(k, k * 7);
                tx.set('d', d);
              });
            if (o.kind === 'set') model.set(o.key, o.value);
            if (o.kind === 'delete') model.delete(o.key);
            if (o.kind === 'bulk') for (let k = o.from; k < o.from + o.count; k++) model.set(k, k * 7);
          }
          handle.space.evictCaches();
          const [entries, items] = await handle.space
            .database('db')
            .transact((tx) => [
              [...(tx.get<Dictionary<number, number>>('d')?.entries() ?? [])],
              [...(tx.get<List<string>>('log')?.values() ?? [])],
            ]);
          expect(entries).toEqual([...model].sort((a, b) => a[0] - b[0]));
          expect(items).toEqual(log);
        } finally {
          await handle.space.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('concurrent transactions that miss, rebase and commit lose nothing', async () => {
    const location = await written((space) =>
      space
        .database('db')
        .transact((tx) =>
          tx.set('d', Dictionary.from(Array.from({ length: 20_000 }, (_, i) => [i, 0] as [number, number]))),
        ),
    );
    const { space } = await openAsync(location, 32, 1);
    const db = space.database('db');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        db.transact((tx) => {
          const d = tx.get<Dictionary<number, number>>('d') as Dictionary<number, number>;
          tx.set('d', d.increment(i * 500, i + 1));
        }),
      ),
    );
    space.evictCaches();
    const values = await db.transact((tx) => {
      const d = tx.get<Dictionary<number, number>>('d') as Dictionary<number, number>;
      return Array.from({ length: 40 }, (_, i) => d.get(i * 500));
    });
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await space.close();
  });

  it('values stored out of line and nested collections load on a cold read', async () => {
    const big = 'x'.repeat(20_000);
    const location = await written((space) =>
      space.database('db').transact((tx) =>
        tx.set(
          'd',
          Dictionary.from<string, unknown>([
            ['big', big],
            ['nested', List.from([Dictionary.from<string, number>([['deep', 42]])])],
          ]),
        ),
      ),
    );
    const { space } = await openAsync(location, 4);
    const got = await space.database('db').transact((tx) => {
      const d = tx.get<Dictionary<string, unknown>>('d') as Dictionary<string, unknown>;
      const nested = d.get('nested') as List<Dictionary<string, number>>;
      return [(d.get('big') as string).length, nested.get(0)?.get('deep')];
    });
    expect(got).toEqual([20_000, 42]);
    await space.close();
  });

  it('reads outside transact block for the same round trips, and transact never blocks', async () => {
    const { location, depth } = await millionEntries();
    const { space, counts, roundTrips } = await openAsync(location, 100_000, 1, true);
    const db = space.database('db');
    // db.read: the same path as transact's, one blocking read per level.
    expect(db.read((tx) => tx.get<Dictionary<number, { n: number }>>('d')?.get(654_321))).toEqual({
      n: 654_321,
    });
    expect(counts.blocking).toBe(depth + 3);
    expect(counts.readAtoms).toBe(0);
    // A begin() transaction held across an await, reading a key whose leaf is not loaded.
    const tx = db.begin({ readOnly: true });
    await Promise.resolve();
    expect(tx.get<Dictionary<number, { n: number }>>('d')?.get(3)).toEqual({ n: 3 });
    // A scan of 100,000 entries in db.read reads ahead as transact does.
    const before = roundTrips();
    const sum = db.read((t) => {
      let s = 0;
      for (const [k, v] of t
        .get<Dictionary<number, { n: number }>>('d')
        ?.entries({ from: 100_000, to: 200_000 }) ?? [])
        s += k === v.n ? 1 : 0;
      return s;
    });
    expect(sum).toBe(100_000);
    expect(roundTrips() - before).toBeLessThan(30);
    // Inside transact nothing blocks: misses are loaded with readAtoms and the function runs again.
    space.evictCaches();
    const blocking = counts.blocking;
    expect(await db.transact((t) => t.get<Dictionary<number, { n: number }>>('d')?.get(777_777))).toEqual({
      n: 777_777,
    });
    expect(counts.blocking).toBe(blocking);
    expect(counts.readAtoms).toBe(depth + 3);
    expect(space.stats().blockingReads).toBe(counts.blocking);
    await space.close();
  });

  it('a listener woken by a commit made inside a transact function reads by blocking, not by rerunning', async () => {
    const location = await written((space) =>
      space
        .database('db')
        .transact((tx) =>
          tx.set(
            'd',
            Dictionary.from(Array.from({ length: 10_000 }, (_, i) => [i, i * 2] as [number, number])),
          ),
        ),
    );
    const { space, counts } = await openAsync(location, 16, 0, true);
    const db = space.database('db');
    const got: unknown[] = [];
    const errors: unknown[] = [];
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    const subscription = db.subscribe(
      () => {
        // A begin() transaction: no read override of its own, so it reads as its context does.
        try {
          space.evictCaches();
          got.push(db.begin({ readOnly: true }).get<Dictionary<number, number>>('d')?.get(7_777));
        } catch (error) {
          errors.push(error);
        } finally {
          delivered();
        }
      },
      { onError: (error) => errors.push(error), roots: ['x'] },
    );
    await db.transact(async (tx) => {
      tx.set('x', 1);
      await tx.commit();
    });
    await done;
    subscription.close();
    expect(errors).toEqual([]);
    expect(got).toEqual([15_554]);
    expect(counts.blocking).toBeGreaterThan(0);
    await space.close();
  });

  it('reads outside transact say what to do', async () => {
    const location = await written((space) =>
      space.database('db').transact((tx) => tx.set('d', Dictionary.from([[1, 'one']]))),
    );
    const { space } = await openAsync(location);
    const db = space.database('db');
    expect(() => db.read((tx) => tx.get<Dictionary<number, string>>('d')?.get(1))).toThrow(
      expect.objectContaining({ reason: 'not-loaded', message: expect.stringContaining('transact') }),
    );
    expect(await db.transact((tx) => tx.get<Dictionary<number, string>>('d')?.get(1))).toBe('one');
    await space.close();
  });
});

describe('another process on a backend without synchronous reads', () => {
  it("picks up the other's delta commits (replayed from records it must load) and commits on top", async () => {
    const inner = await openMemoryBackend({ syncReads: false });
    // Two spaces on one backend, as two processes on one database server.
    const shared = (): StorageBackend => ({
      name: inner.name,
      capabilities: { ...inner.capabilities, multiProcess: true, reclaim: false },
      writeAtoms: (atoms) => inner.writeAtoms(atoms),
      readAtom: (pointer) => inner.readAtom(pointer),
      readAtoms: (pointers) =>
        (inner.readAtoms as NonNullable<StorageBackend['readAtoms']>).call(inner, pointers),
      readRoot: () => inner.readRoot(),
      compareAndSetRoot: (expected, next) => inner.compareAndSetRoot(expected, next),
      close: async () => {},
    });
    const a = await ObjectSpace.open(shared(), { cache: { maxAtoms: 8 } });
    const b = await ObjectSpace.open(shared(), { cache: { maxAtoms: 8 } });
    const d = (tx: { get<T>(name: string): T | undefined }) =>
      tx.get<Dictionary<number, number>>('d') ?? Dictionary.empty<number, number>();
    await a
      .database('db')
      .transact((tx) =>
        tx.set('d', Dictionary.from(Array.from({ length: 5000 }, (_, i) => [i, 0] as [number, number]))),
      );
    for (let i = 0; i < 20; i++) await a.database('db').transact((tx) => tx.set('d', d(tx).set(i, i + 1)));
    a.evictCaches();
    b.evictCaches();
    await b.refresh();
    expect(b.sequence).toBe(a.sequence);
    // b commits on top of a's delta chain (its commit rebases onto what it has to load).
    await b.database('db').transact((tx) => tx.set('d', d(tx).set(4999, -1)));
    await a.refresh();
    const seen = await a.database('db').transact((tx) => [d(tx).get(0), d(tx).get(19), d(tx).get(4999)]);
    expect(seen).toEqual([1, 20, -1]);
    // A change feed in b hears a's commits, with their entries, though nothing of them is in memory.
    const stream = b.database('db').changes();
    const heard: unknown[] = [];
    b.database('db').subscribe((change) => {
      heard.push(change.roots.map((r) => [r.root, [...r.entries()].map((e) => [e.kind, e.key, e.newValue])]));
    });
    a.evictCaches();
    b.evictCaches();
    await a.database('db').transact((tx) => tx.set('d', d(tx).set(2500, 7).delete(3)));
    const next = await stream.next();
    expect(next.done).toBe(false);
    const change = next.value as Change;
    const entries = change.roots.map((r) => [
      r.root,
      [...r.entries()].map((e) => [e.kind, e.key, e.newValue]),
    ]);
    const expected = [
      [
        'd',
        [
          ['removed', 3, undefined],
          ['changed', 2500, 7],
        ],
      ],
    ];
    expect(entries).toEqual(expected);
    await stream.return?.();
    expect(heard).toEqual([expected]);
    await a.close();
    await b.close();
    await inner.close();
  });
});
