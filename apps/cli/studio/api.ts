/**
 * The studio's API, as the page calls it: same-origin requests carrying the token cookie the
 * first load set (see `src/studio/access.ts`). A failed request throws an `ApiError` with the
 * server's message.
 */
import type { ErrorAnswer, Json } from '../src/studio/protocol.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string | null,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | boolean | Json | undefined | null>;

function query(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.set(
      name,
      typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value),
    );
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ error: response.statusText, reason: null }))) as unknown;
  if (!response.ok) {
    const e = body as ErrorAnswer;
    throw new ApiError(e.error, response.status, e.reason);
  }
  return body as T;
}

export async function get<T>(path: string, params: Params = {}): Promise<T> {
  return answer<T>(await fetch(`${path}${query(params)}`, { credentials: 'same-origin' }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}
