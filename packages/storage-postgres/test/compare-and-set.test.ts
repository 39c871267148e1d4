/**
 * The root compare-and-set beyond the conformance suite: concurrent calls of one backend are
 * applied in call order (the kernel sends a group's compare-and-set before the one in flight
 * resolved), every call settles in bounded time when the server dies or hangs (also a call
 * queued behind one that does not get an answer), and a root whose atom the server lost (a
 * crash between the commit's writes and its compare-and-set) is refused, never installed.
 */
import { crc32 } from 'node:zlib';
import { guardBackend, hasReason, isProtoError, type StorageBackend } from '@proto/atom/storage';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { PostgresBackend } from '../src/backend.js';
import type { CompareAndSetTimeouts } from '../src/commit.js';
import { openPostgresBackend, type PostgresClientLike, type PostgresPoolLike } from '../src/index.js';
import { idOf } from '../src/pointer.js';
import { tablesOf } from '../src/schema.js';
import { AtomStore } from '../src/store.js';
import { adminPool, describeWithServer, dropSchema, freshSchema } from './server.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const isSwap = (text: string) => text.includes('proto-cas') && text.includes('UPDATE');
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1'), { code: 'ECONNREFUSED' });

/**
 * A pool over `pool` whose connections hand each statement to `intercept` first: it may hold
 * the statement back (resolve later) or never answer it (a hung server). `down()` refuses
 * every later connection and statement, as a dead server does.
 */
function interceptingPool(
  pool: pg.Pool,
  intercept: (text: string) => Promise<void> | 'never' | undefined,
): PostgresPoolLike & { down(): void } {
  let serverDown = false;
  return {
    down: () => {
      serverDown = true;
    },
    query: (text, values) => (serverDown ? Promise.reject(refused()) : pool.query(text, values as unknown[])),
    async connect() {
      if (serverDown) throw refused();
      const client = await pool.connect();
      return {
        processID: (client as unknown as { processID: number }).processID,
        release: (destroy) => client.release(destroy),
        async query(text, values) {
          if (serverDown) throw refused();
          const held = intercept(text);
          if (held === 'never') return new Promise<never>(() => undefined);
          if (held !== undefined) await held;
          return client.query(text, values as unknown[]);
        },
      } satisfies PostgresClientLike;
    },
    end: () => Promise.resolve(),
  };
}

describeWithServer('storage-postgres: compare-and-set', (url) => {
  const admin = adminPool(url);

  /** A backend on `pool` in a fresh schema, with short compare-and-set timeouts. */
  async function backendWith(
    pool: PostgresPoolLike,
    schema: string,
    timeouts: Partial<CompareAndSetTimeouts> = {},
  ): Promise<StorageBackend> {
    await (await openPostgresBackend({ pool: admin }, { schema })).close(); // creates the tables
    const raw = new PostgresBackend(new AtomStore(pool, tablesOf(schema, 'proto_')), {
      name: `postgres:${schema}`,
      capabilities: {
        durable: true,
        persistent: true,
        syncReads: false,
        multiProcess: true,
        maxAtomBytes: 1024 * 1024,
        reclaim: true,
      },
      ownsPool: false,
      watchIntervalMs: 100,
      timeouts,
    });
    return guardBackend(raw);
  }

  it('applies compare-and-sets issued without awaiting in call order when the first is slow', async () => {
    const schema = freshSchema('order');
    let release: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    let swaps = 0;
    let secondSent = false;
    // The first compare-and-set's statement is held back until the second call had every chance
    // to reach the server: sent beside it on another connection, the second would find the
    // root still at null and lose.
    const pool = interceptingPool(admin, (text) => {
      if (!isSwap(text)) return undefined;
      swaps += 1;
      if (swaps === 1) return firstHeld;
      secondSent = true;
      return undefined;
    });
    const backend = await openPostgresBackend({ pool }, { schema }).then(guardBackend);
    try {
      const [a, b, c] = (await backend.writeAtoms([bytes(1), bytes(2), bytes(3)])) as string[];
      const first = backend.compareAndSetRoot(null, a as string);
      const second = backend.compareAndSetRoot(a as string, b as string);
      const third = backend.compareAndSetRoot(b as string, c as string);
      // Wait until the first statement is held, then give the others time to overtake it.
      while (swaps === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (let turn = 0; turn < 20; turn += 1) await admin.query('SELECT 1');
      const overtook = secondSent;
      release();
      expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
      expect(overtook, 'the second compare-and-set was sent before the first settled').toBe(false);
      expect(await backend.readRoot()).toBe(c);
    } finally {
      release();
      await backend.close();
      await dropSchema(url, schema);
    }
  }, 20_000);

  it('rejects a compare-and-set whose answer never comes, and the one queued behind it, with typed io errors', async () => {
    const schema = freshSchema('hung');
    // The server stops answering the first compare-and-set (a hung server, a half-open socket),
    // then goes away for good: neither call may wait forever.
    let hung = false;
    const pool = interceptingPool(admin, (text) => {
      if (!isSwap(text) || hung) return undefined;
      hung = true;
      return 'never';
    });
    const backend = await backendWith(pool, schema, { answerMs: 300, settleMs: 500 });
    try {
      const [a, b] = (await backend.writeAtoms([bytes(1), bytes(2)])) as string[];
      const first = backend.compareAndSetRoot(null, a as string).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      const queued = backend.compareAndSetRoot(a as string, b as string).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      while (!hung) await new Promise<void>((resolve) => setImmediate(resolve));
      pool.down();
      const started = Date.now();
      const [lost, behind] = await Promise.all([first, queued]);
      expect(lost).toMatchObject({
        reason: 'io',
        retryable: true,
        details: { outcome: 'unknown', next: a },
      });
      expect(isProtoError(behind), String(behind)).toBe(true);
      expect(behind).toMatchObject({ reason: 'io', retryable: true });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  }, 20_000);

  it('settles a compare-and-set whose answer never comes by looking, when the server still answers others', async () => {
    const schema = freshSchema('hung');
    let hung = false;
    const pool = interceptingPool(admin, (text) => {
      if (!isSwap(text) || hung) return undefined;
      hung = true;
      return 'never'; // never sent: the settling finds it not committed
    });
    const backend = await backendWith(pool, schema, { answerMs: 300 });
    try {
      const [a] = (await backend.writeAtoms([bytes(1)])) as string[];
      expect(await backend.compareAndSetRoot(null, a as string)).toBe(false);
      expect(await backend.compareAndSetRoot(null, a as string)).toBe(true);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  }, 20_000);

  it('rejects a compare-and-set with a retryable io error when the pool hands out no connection in time', async () => {
    const schema = freshSchema('checkout');
    let stalled = false;
    const pool: PostgresPoolLike = {
      query: (text, values) => admin.query(text, values as unknown[]),
      connect: () => (stalled ? new Promise<never>(() => undefined) : admin.connect()),
      end: () => Promise.resolve(),
    };
    const backend = await backendWith(pool, schema, { connectMs: 200 });
    try {
      const [a] = (await backend.writeAtoms([bytes(1)])) as string[];
      stalled = true;
      const error = await backend.compareAndSetRoot(null, a as string).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toMatchObject({ reason: 'io', retryable: true });
      expect(String((error as Error).message)).toMatch(/no connection .* within 200 ms/);
      expect(await backend.readRoot()).toBe(null);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  }, 20_000);

  it('refuses a root whose atom the server lost between the write and the compare-and-set', async () => {
    const schema = freshSchema('lostatom');
    const backend = await openPostgresBackend({ pool: admin }, { schema }).then(guardBackend);
    try {
      const [base] = (await backend.writeAtoms([bytes(1)])) as string[];
      expect(await backend.compareAndSetRoot(null, base as string)).toBe(true);
      // As after a crash that lost the last writes (they are not flushed before the
      // compare-and-set): the row is gone.
      const [gone] = (await backend.writeAtoms([bytes(2)])) as string[];
      await admin.query(`DELETE FROM "${schema}".proto_atoms WHERE id = $1`, [idOf(gone as string)]);
      const missing = await backend.compareAndSetRoot(base as string, gone as string).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(hasReason(missing, 'conflict'), String(missing)).toBe(true);
      expect(missing).toMatchObject({ retryable: true, details: { next: gone } });
      // The id issued again to other bytes (a sequence that went back in the crash).
      const [reused] = (await backend.writeAtoms([bytes(3)])) as string[];
      await admin.query(`UPDATE "${schema}".proto_atoms SET bytes = '\\x04'::bytea, crc = $2 WHERE id = $1`, [
        idOf(reused as string),
        crc32(bytes(4)),
      ]);
      const other = await backend.compareAndSetRoot(base as string, reused as string).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(hasReason(other, 'conflict'), String(other)).toBe(true);
      expect(await backend.readRoot()).toBe(base);
      // A root that is stored commits as before.
      const [kept] = (await backend.writeAtoms([bytes(5)])) as string[];
      expect(await backend.compareAndSetRoot(base as string, kept as string)).toBe(true);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  });
});
