/**
 * The PostgreSQL backend's own behaviour beyond the conformance suite: locations and foreign
 * tables, a pool the caller owns, errors mapped from PostgreSQL's codes, and a commit whose
 * connection breaks after it was sent, which must be settled by looking, never guessed.
 */
import { guardBackend, hasReason, isProtoError } from '@proto/atom/storage';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { openPostgresBackend, type PostgresClientLike, type PostgresPoolLike } from '../src/index.js';
import { adminPool, describeWithServer, dropSchema, freshSchema } from './server.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** A driver error as pg raises it: an Error with a SQLSTATE or socket code. */
function driverError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Wraps a pool so that the statement for which `when(text)` holds misbehaves once: `'after'`
 * runs it and then fails as if the connection broke before the answer arrived, `'before'` fails
 * without sending it. `down()` makes every later query fail as if the server were gone.
 */
function faultyPool(pool: pg.Pool, when: (text: string) => boolean, mode: 'after' | 'before') {
  let armed = true;
  let serverDown = false;
  const fail = () => driverError('Connection terminated unexpectedly', 'ECONNRESET');
  const wrapped: PostgresPoolLike & { down(): void } = {
    down: () => {
      serverDown = true;
    },
    async query(text, values) {
      if (serverDown) throw driverError('connect ECONNREFUSED 127.0.0.1', 'ECONNREFUSED');
      return pool.query(text, values as unknown[]);
    },
    async connect() {
      if (serverDown) throw driverError('connect ECONNREFUSED 127.0.0.1', 'ECONNREFUSED');
      const client = await pool.connect();
      const faulty: PostgresClientLike = {
        processID: (client as unknown as { processID: number }).processID,
        release: (destroy) => client.release(destroy),
        async query(text, values) {
          if (armed && when(text)) {
            armed = false;
            if (mode === 'after') await client.query(text, values as unknown[]);
            throw fail();
          }
          return client.query(text, values as unknown[]);
        },
      };
      return faulty;
    },
    end: () => Promise.resolve(),
  };
  return wrapped;
}

const isSwap = (text: string) => text.includes('proto-cas') && text.includes('UPDATE');

describeWithServer('storage-postgres: backend', (url) => {
  const admin = adminPool(url);

  it('settles a commit whose connection broke after the statement ran as committed', async () => {
    const schema = freshSchema('lost');
    const pool = faultyPool(admin, isSwap, 'after');
    const backend = guardBackend(await openPostgresBackend({ pool }, { schema }));
    try {
      const [root] = await backend.writeAtoms([bytes(1, 2, 3)]);
      expect(await backend.compareAndSetRoot(null, root as string)).toBe(true);
      expect(await backend.readRoot()).toBe(root);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  });

  it('settles a commit whose connection broke before the statement ran as not committed', async () => {
    const schema = freshSchema('lost');
    const pool = faultyPool(admin, isSwap, 'before');
    const backend = guardBackend(await openPostgresBackend({ pool }, { schema }));
    try {
      const [root] = await backend.writeAtoms([bytes(1, 2, 3)]);
      expect(await backend.compareAndSetRoot(null, root as string)).toBe(false);
      expect(await backend.readRoot()).toBe(null);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  });

  it('settles a commit as committed when another commit moved the root on before it was settled', async () => {
    const schema = freshSchema('lost');
    const other = guardBackend(await openPostgresBackend({ pool: admin }, { schema }));
    let moveOn: () => Promise<void> = async () => undefined;
    const pool = faultyPool(admin, isSwap, 'after');
    const query = pool.query.bind(pool);
    // The first statement of the settling, after the commit ran: another process commits first.
    pool.query = async (text, values) => {
      await moveOn();
      moveOn = async () => undefined;
      return query(text, values);
    };
    const backend = guardBackend(await openPostgresBackend({ pool }, { schema }));
    try {
      const [root, later] = await backend.writeAtoms([bytes(1), bytes(2)]);
      moveOn = async () => {
        moveOn = async () => undefined;
        expect(await other.compareAndSetRoot(root as string, later as string)).toBe(true);
      };
      expect(await backend.compareAndSetRoot(null, root as string)).toBe(true);
      expect(await backend.readRoot()).toBe(later);
    } finally {
      await backend.close();
      await other.close();
      await dropSchema(url, schema);
    }
  });

  it('rejects a lost commit with a retryable io error saying the outcome is unknown when the server stays away', async () => {
    const schema = freshSchema('lost');
    const pool = faultyPool(admin, isSwap, 'after');
    const backend = guardBackend(await openPostgresBackend({ pool }, { schema }));
    try {
      const [root] = await backend.writeAtoms([bytes(7)]);
      const swapping = backend.compareAndSetRoot(null, root as string);
      pool.down();
      const error = await swapping.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toMatchObject({
        reason: 'io',
        retryable: true,
        details: { outcome: 'unknown', next: root },
      });
      expect(String((error as Error).message)).toMatch(/could not be asked/);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  }, 20_000);

  it('maps a full disk to a non-retryable io error and a lost server to a retryable one', async () => {
    const schema = freshSchema('codes');
    const backend = guardBackend(await openPostgresBackend({ pool: admin }, { schema }));
    await backend.close();
    const failing = (code: string): PostgresPoolLike => ({
      query: (text, values) =>
        /INSERT INTO/.test(text)
          ? Promise.reject(driverError(`failure ${code}`, code))
          : admin.query(text, values as unknown[]),
      connect: () => admin.connect(),
      end: () => Promise.resolve(),
    });
    try {
      for (const [code, retryable] of [
        ['53100', false],
        ['ECONNREFUSED', true],
        ['57P01', true],
      ] as const) {
        const broken = guardBackend(await openPostgresBackend({ pool: failing(code) }, { schema }));
        const error = await broken.writeAtoms([bytes(1)]).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error, code).toMatchObject({ reason: 'io', retryable, details: { code } });
        await broken.close();
      }
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('refuses foreign tables under the prefix and leaves them untouched', async () => {
    const schema = freshSchema('foreign');
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".proto_atoms (id int, note text)`);
    await admin.query(`INSERT INTO "${schema}".proto_atoms VALUES (1, 'mine')`);
    try {
      const error = await openPostgresBackend({ pool: admin }, { schema }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(hasReason(error, 'invalid-argument'), String(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/not a ProtoBase location/);
      const { rows } = await admin.query(`SELECT note FROM "${schema}".proto_atoms`);
      expect(rows).toEqual([{ note: 'mine' }]);
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('keeps two locations apart when they share a schema under different prefixes', async () => {
    const schema = freshSchema('prefix');
    const first = guardBackend(await openPostgresBackend({ pool: admin }, { schema, tablePrefix: 'one_' }));
    const second = guardBackend(await openPostgresBackend({ pool: admin }, { schema, tablePrefix: 'two_' }));
    try {
      const [root] = await first.writeAtoms([bytes(9)]);
      expect(await first.compareAndSetRoot(null, root as string)).toBe(true);
      expect(await second.readRoot()).toBe(null);
    } finally {
      await first.close();
      await second.close();
      // The caller's pool stays usable after close.
      expect((await admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await dropSchema(url, schema);
    }
  });

  it('rejects names that are not plain SQL identifiers before touching the database', async () => {
    for (const options of [{ schema: 'Robert"; DROP' }, { tablePrefix: 'a-b' }, { schema: '' }]) {
      const error = await openPostgresBackend({ pool: admin }, options).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(isProtoError(error) && error.reason, JSON.stringify(options)).toBe('invalid-argument');
    }
  });

  it('answers a batched read in the order asked with one query and fails it when one atom is missing', async () => {
    const schema = freshSchema('batch');
    let queries = 0;
    const counting: PostgresPoolLike = {
      query: (text, values) => {
        queries += 1;
        return admin.query(text, values as unknown[]);
      },
      connect: () => admin.connect(),
      end: () => Promise.resolve(),
    };
    const backend = guardBackend(await openPostgresBackend({ pool: counting }, { schema }));
    try {
      const pointers = await backend.writeAtoms([bytes(1), bytes(2), bytes(3)]);
      const asked = [pointers[2], pointers[0], pointers[2], pointers[1]] as string[];
      queries = 0;
      const read = await backend.readAtoms?.(asked);
      expect(queries).toBe(1);
      expect(read?.map((atom) => [...atom])).toEqual([[3], [1], [3], [2]]);
      const missing = await backend.readAtoms?.([pointers[0] as string, 'zzzzzz']).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(hasReason(missing, 'not-found')).toBe(true);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  });

  it('detects bytes changed behind its back with a corrupt error', async () => {
    const schema = freshSchema('corrupt');
    const backend = guardBackend(await openPostgresBackend({ pool: admin }, { schema }));
    try {
      const [pointer] = await backend.writeAtoms([bytes(1, 2, 3, 4)]);
      await admin.query(`UPDATE "${schema}".proto_atoms SET bytes = '\\x01020305'::bytea`);
      const error = await backend.readAtom(pointer as string).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(hasReason(error, 'corrupt'), String(error)).toBe(true);
    } finally {
      await backend.close();
      await dropSchema(url, schema);
    }
  });
});
