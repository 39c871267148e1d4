/**
 * Blocking reads: a worker thread with a connection of its own runs the SELECT, and the calling
 * thread waits for its answer with `Atomics.wait`. This is what `readAtomsBlocking` is made of
 * (see the storage contract): the kernel calls it only for reads that cannot await (`db.read`,
 * `begin()` transactions, live queries, diffs), never inside `db.transact`.
 *
 * The protocol: request `n` is posted to the worker with its sequence number; the worker posts
 * its answer (rows, or an error's code and message), then stores `n` into the shared signal
 * and notifies. The caller waits until the signal holds `n`, then takes messages off the port
 * with `receiveMessageOnPort`, dropping any stale answer (of a request that timed out before),
 * until it finds answer `n`. A request not answered by its deadline throws a retryable `io`
 * error; nothing waits without bound.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { storageError, translate } from './errors.js';

/** What the worker answers for one request. */
type Answer =
  | { readonly seq: number; readonly rows: readonly { id: unknown; crc: unknown; bytes: Uint8Array }[] }
  | { readonly seq: number; readonly error: { readonly message: string; readonly code?: string } };

/**
 * The worker's source, run with `eval` so that the package needs no second entry file. It
 * imports `pg` from where this package resolves it, keeps one connection (a pool of one, which
 * reconnects after the server restarts) and answers one SELECT per request.
 */
const WORKER_SOURCE = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  const { port, signal, connectionString, timeoutMs, sql } = workerData;
  let pg;
  try {
    ({ default: pg } = await import(workerData.pg));
  } catch (error) {
    // Without pg there is nothing to answer with: say so once, and mark the signal dead (-1), so
    // that every wait ends at once instead of at its time limit.
    port.postMessage({ seq: -1, error: { message: String((error && error.message) || error) } });
    Atomics.store(signal, 0, -1);
    Atomics.notify(signal, 0);
    return;
  }
  const pool = new pg.Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 0,
  });
  pool.on('error', () => undefined);
  port.on('message', async ({ seq, ids }) => {
    let answer;
    try {
      const { rows } = await pool.query(sql, [ids]);
      answer = { seq, rows: rows.map((r) => ({ id: r.id, crc: r.crc, bytes: r.bytes })) };
    } catch (error) {
      answer = { seq, error: { message: String(error && error.message || error), code: typeof error?.code === 'string' ? error.code : undefined } };
    }
    port.postMessage(answer);
    Atomics.store(signal, 0, seq);
    Atomics.notify(signal, 0);
  });
})();
`;

/** The rows one blocking read returns, unchecked (the caller checks ids and checksums). */
export interface BlockingRow {
  readonly id: unknown;
  readonly crc: unknown;
  readonly bytes: unknown;
}

export class BlockingReader {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #timeoutMs: number;
  readonly #where: string;
  #seq = 0;
  #closed = false;
  /** Why the worker cannot answer (it failed to start), once known. */
  #dead: string | undefined;

  /**
   * Starts the worker. Throws `invalid-argument` when `pg` cannot be resolved from this package
   * (blocking reads need it in the worker; a `driver` passed to `openPostgresBackend` is not
   * enough).
   */
  constructor(options: {
    readonly connectionString: string;
    readonly atomsTable: string;
    readonly where: string;
    readonly timeoutMs: number;
    /** The module URL the worker imports `pg` from (tests); default: `pg` as this package resolves it. */
    readonly pg?: string;
  }) {
    let pg = options.pg;
    if (pg === undefined) {
      try {
        pg = pathToFileURL(createRequire(import.meta.url).resolve('pg')).href;
      } catch (error) {
        throw storageError(
          'invalid-argument',
          `blocking reads need the pg package, which is not installed beside @proto/storage-postgres; install pg, or pass blockingReads: false`,
          { cause: error },
        );
      }
    }
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#signal = new Int32Array(new SharedArrayBuffer(4));
    this.#timeoutMs = options.timeoutMs;
    this.#where = options.where;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        pg,
        port: port2,
        signal: this.#signal,
        connectionString: options.connectionString,
        timeoutMs: options.timeoutMs,
        sql: `SELECT id, crc, bytes FROM ${options.atomsTable} WHERE id = ANY($1::bigint[])`,
      },
      transferList: [port2],
    });
    // Neither the worker nor its port keeps the process alive.
    this.#worker.unref();
    this.#port.unref();
    this.#worker.on('error', () => undefined);
  }

  /** The rows of `ids` (in no particular order; missing ids are absent), waiting at most the timeout. */
  read(ids: readonly number[]): readonly BlockingRow[] {
    if (this.#closed) throw storageError('closed', `blocking read from ${this.#where} after close`);
    if (this.#dead !== undefined) throw this.#deadError();
    this.#seq = (this.#seq % 0x7fff_fffe) + 1;
    const seq = this.#seq;
    this.#port.postMessage({ seq, ids });
    const deadline = Date.now() + this.#timeoutMs + 1_000;
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      if (seen === seq) break;
      if (seen === -1) {
        this.#dead = this.#startFailure();
        throw this.#deadError();
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw storageError(
          'io',
          `a blocking read from ${this.#where} got no answer in ${this.#timeoutMs} ms (is the server reachable?); retry, or read inside db.transact, which does not block`,
          { retryable: true },
        );
      }
      Atomics.wait(this.#signal, 0, seen, left);
    }
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) {
        throw storageError(
          'io',
          `the blocking-read worker of ${this.#where} signalled an answer it did not send`,
        );
      }
      const answer = received.message as Answer;
      if (answer.seq !== seq) continue; // the late answer of a request that timed out
      if ('error' in answer) {
        throw translate(
          Object.assign(
            new Error(answer.error.message),
            answer.error.code === undefined ? {} : { code: answer.error.code },
          ),
          `a blocking read from ${this.#where}`,
        );
      }
      return answer.rows;
    }
  }

  /** The worker's own account of why it failed to start. */
  #startFailure(): string {
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return 'it stopped without saying why';
      const answer = received.message as Answer;
      if (answer.seq === -1 && 'error' in answer) return answer.error.message;
    }
  }

  #deadError() {
    return storageError(
      'io',
      `the blocking-read worker of ${this.#where} failed to start (${this.#dead}); reads outside db.transact cannot load what they miss: fix the cause and reopen, or pass blockingReads: false`,
    );
  }

  /** Stops the worker (its connection closes with it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    await this.#worker.terminate();
  }
}
