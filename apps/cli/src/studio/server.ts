/**
 * `proto studio`: a local HTTP server (node:http, 127.0.0.1 only) that serves the studio's page
 * (built into `dist/page` by `scripts/build-page.mjs`, never fetched from elsewhere) and its JSON
 * API over one opened space; see `access.ts` for who may talk to it. Commits (the studio's own
 * with `--write`, and other processes' on a multi-process backend) reach open pages as
 * server-sent events on `/api/events`, from `db.subscribe`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { isProtoError, type Subscription } from '@proto/atom';
import { CliError, describeError } from '../errors.js';
import type { Opened } from '../open.js';
import { type Access, check, newAccess, tokenCookie } from './access.js';
import { type BrowseRequest, StudioData } from './data.js';
import type { CommitEvent, ErrorAnswer, Json, QueryRequest } from './protocol.js';

/** Where the built page is: `apps/cli/dist/page`, from `src/studio` and from `dist/studio` alike. */
export const PAGE_DIR = fileURLToPath(new URL('../../dist/page/', import.meta.url));

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

/** Largest request body (a query, a value to write). */
const MAX_BODY = 1 << 20;

export interface StudioOptions {
  readonly write: boolean;
  /** 0 (the default): a free port. */
  readonly port?: number;
  /** A fixed token (tests); default: a random one. */
  readonly token?: string;
}

export interface Studio {
  /** The URL to open, with the token. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Stops the server, ends every event stream and subscription (the space stays open). */
  close(): Promise<void>;
}

function statusOf(error: unknown): number {
  const reason = error instanceof CliError ? error.reason : isProtoError(error) ? error.reason : undefined;
  switch (reason) {
    case 'not-found':
      return 404;
    case 'usage':
    case 'invalid-input':
    case 'invalid-argument':
    case 'unsupported':
      return 400;
    case 'read-only':
      return 403;
    case 'conflict':
      return 409;
    default:
      return 500;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function refuse(res: ServerResponse): void {
  res.writeHead(403, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end('forbidden\n');
}

function jsonParam(url: URL, name: string): Json | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  try {
    return JSON.parse(raw) as Json;
  } catch {
    throw new CliError('invalid-input', `${name} takes JSON, not ${raw}`);
  }
}

function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliError('invalid-input', `${name} takes a non-negative integer, not ${raw}`);
  return n;
}

function stringParam(url: URL, name: string): string {
  const raw = url.searchParams.get(name);
  if (raw === null) throw new CliError('invalid-input', `${name} is missing`);
  return raw;
}

async function body(req: IncomingMessage): Promise<Json> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    throw new CliError('invalid-input', 'a POST takes a JSON body (content-type application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CliError('invalid-input', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
  } catch {
    throw new CliError('invalid-input', 'the request body is not valid JSON');
  }
}

/** Event streams of open pages, fed by one subscription per database. */
class Live {
  readonly #clients = new Set<ServerResponse>();
  readonly #subscriptions = new Map<string, Subscription>();
  constructor(private readonly opened: Opened) {}

  /** Subscribes to databases that appeared since the last call. */
  watch(): void {
    for (const name of this.opened.space.databaseNames()) {
      if (this.#subscriptions.has(name)) continue;
      const subscription = this.opened.space.database(name).subscribe(
        (change) => {
          this.#broadcast({
            database: change.database,
            sequence: change.sequence,
            timestamp: new Date(change.timestamp).toISOString(),
            roots: change.roots.map((r) => r.root),
          });
          this.watch();
        },
        { onError: (error) => process.stderr.write(`proto studio: live updates: ${describeError(error)}\n`) },
      );
      this.#subscriptions.set(name, subscription);
    }
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(': connected\n\n');
    this.#clients.add(res);
    req.on('close', () => this.#clients.delete(res));
    this.watch();
  }

  #broadcast(event: CommitEvent): void {
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of this.#clients) client.write(line);
  }

  close(): void {
    for (const s of this.#subscriptions.values()) s.close();
    this.#subscriptions.clear();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}

function browseRequest(url: URL): BrowseRequest {
  const path = jsonParam(url, 'path') ?? [];
  if (!Array.isArray(path)) throw new CliError('invalid-input', 'path takes a JSON array of steps');
  return {
    db: stringParam(url, 'db'),
    root: stringParam(url, 'root'),
    path,
    asOf: intParam(url, 'asOf'),
    from: jsonParam(url, 'from'),
    to: jsonParam(url, 'to'),
    after: jsonParam(url, 'after'),
    reverse: url.searchParams.get('reverse') === '1',
    limit: intParam(url, 'limit'),
  };
}

async function api(data: StudioData, live: Live, req: IncomingMessage, res: ServerResponse, url: URL) {
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /api/overview':
      live.watch();
      return send(res, 200, data.overview(intParam(url, 'asOf')));
    case 'GET /api/history':
      return send(res, 200, data.history());
    case 'GET /api/browse':
      return send(res, 200, data.browse(browseRequest(url)));
    case 'POST /api/query':
      return send(res, 200, data.query((await body(req)) as unknown as QueryRequest));
    case 'GET /api/diff': {
      const from = intParam(url, 'from');
      if (from === undefined) throw new CliError('invalid-input', 'from is missing');
      const to = intParam(url, 'to') ?? data.opened.space.sequence;
      return send(res, 200, data.diff(stringParam(url, 'db'), from, to));
    }
    case 'GET /api/nearest': {
      const key = jsonParam(url, 'key');
      if (key === undefined) throw new CliError('invalid-input', 'key is missing');
      return send(
        res,
        200,
        data.nearest(
          stringParam(url, 'db'),
          stringParam(url, 'root'),
          stringParam(url, 'index'),
          key,
          intParam(url, 'k') ?? 10,
          intParam(url, 'asOf'),
        ),
      );
    }
    case 'GET /api/events':
      return live.open(req, res);
    case 'POST /api/set': {
      const b = (await body(req)) as { db?: unknown; root?: unknown; key?: Json; value?: Json };
      if (typeof b.db !== 'string' || typeof b.root !== 'string' || b.value === undefined)
        throw new CliError('invalid-input', 'set takes { db, root, key?, value }');
      return send(res, 200, { sequence: await data.set(b.db, b.root, b.key, b.value) });
    }
    case 'POST /api/delete': {
      const b = (await body(req)) as { db?: unknown; root?: unknown; key?: Json };
      if (typeof b.db !== 'string' || typeof b.root !== 'string')
        throw new CliError('invalid-input', 'delete takes { db, root, key? }');
      return send(res, 200, { sequence: await data.delete(b.db, b.root, b.key) });
    }
    default:
      throw new CliError('not-found', `no such API: ${route}`);
  }
}

function serveAsset(access: Access, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const asset = ASSETS[url.pathname];
  if (asset === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  if (url.pathname === '/' && url.searchParams.has('token')) {
    // Keep the token in a cookie and take it out of the address bar (and of the history).
    res.writeHead(303, { ...SECURITY_HEADERS, 'set-cookie': tokenCookie(access), location: '/' });
    res.end();
    return true;
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type });
  res.end(readFileSync(`${PAGE_DIR}${asset.file}`));
  return true;
}

/** Starts the studio on `opened` (which the caller closes after `close()`). */
export async function startStudio(opened: Opened, options: StudioOptions): Promise<Studio> {
  if (!existsSync(`${PAGE_DIR}index.html`))
    throw new CliError(
      'unsupported',
      `the studio page is not built (${PAGE_DIR} is missing): run \`pnpm --filter @proto/cli build\``,
    );
  const data = new StudioData(opened, options.write);
  const live = new Live(opened);
  let access: Access | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (access === undefined || check(access, req, url) !== undefined) return refuse(res);
    if (serveAsset(access, req, res, url)) return;
    api(data, live, req, res, url).catch((error: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      const answer: ErrorAnswer = {
        error: describeError(error),
        reason: (error as { reason?: string }).reason ?? null,
      };
      send(res, statusOf(error), answer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              'usage',
              `port ${options.port} is in use; give another with --port, or none for a free one`,
            )
          : error,
      ),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  access = newAccess(port, options.token);
  live.watch();
  const token = access.token;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
