/**
 * Who may talk to the studio. The server listens on 127.0.0.1 only, and every request must
 * carry both:
 * 1. The access token: a random 192-bit value made when the studio starts and printed in its
 *    URL. The first page load brings it in the query string (`?token=...`); the answer sets it as
 *    an `HttpOnly`, `SameSite=Strict` cookie named after the port (cookies are not separated by
 *    port) and redirects to the bare URL. Later requests carry the cookie, or the token in an
 *    `X-Proto-Token` header (scripts, tests).
 * 2. A Host header naming this server: `127.0.0.1:<port>` or `localhost:<port>`. A page of
 *    another site that makes the browser resolve its own name to 127.0.0.1 (DNS rebinding) sends
 *    its own name as the Host, and is refused.
 * A request that fails either check gets 403 and nothing else: no data, no hint of the token.
 * Writes (`POST`) also need a JSON body and, when the browser sends one, an `Origin` of this
 * server, so a form posted from another site cannot write even in `--write` mode.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface Access {
  readonly token: string;
  readonly port: number;
  /** The cookie that carries the token. */
  readonly cookie: string;
}

/** A new random token for a studio on `port`. */
export function newAccess(port: number, token = randomBytes(24).toString('base64url')): Access {
  return { token, port, cookie: `proto_studio_${port}` };
}

/** Why a request is refused, or undefined when it may go on. */
export type Refusal = 'host' | 'token' | 'origin';

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The hosts this server answers to. */
export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Checks a request: its Host, then its token (query string `token`, `X-Proto-Token` header, or
 * the cookie), then for a `POST` its Origin. Returns the refusal, or undefined.
 */
export function check(access: Access, request: IncomingMessage, url: URL): Refusal | undefined {
  const host = request.headers.host;
  if (host === undefined || !allowedHosts(access.port).includes(host)) return 'host';
  const header = request.headers['x-proto-token'];
  const given =
    url.searchParams.get('token') ??
    (typeof header === 'string' ? header : undefined) ??
    cookieValue(request.headers.cookie, access.cookie);
  if (!sameToken(given ?? undefined, access.token)) return 'token';
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedHosts(access.port).some((h) => origin === `http://${h}`))
      return 'origin';
  }
  return undefined;
}

/** The `Set-Cookie` value that keeps the token for the page's later requests. */
export function tokenCookie(access: Access): string {
  return `${access.cookie}=${access.token}; HttpOnly; SameSite=Strict; Path=/`;
}
