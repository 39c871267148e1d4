/**
 * The studio's server without a browser: who may talk to it (the token, the Host header, the
 * Origin of a write), read-only unless `--write`, and paging: every collection kind paged with
 * cursors, forwards and backwards, in and out of a key range, gives each entry once, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import {
  CountedSet,
  Dictionary,
  HashDictionary,
  List,
  OrderedSet,
  RepeatedKeysDictionary,
} from '@proto/collections';
import { IndexedCollection } from '@proto/query';
import { openMemoryBackend } from '@proto/storage-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Opened, openSpace } from '../src/open.ts';
import { StudioData } from '../src/studio/data.ts';
import type { BrowsePage, Json } from '../src/studio/protocol.ts';
import { type Studio, startStudio } from '../src/studio/server.ts';
import { makeShop } from './fixtures/studio-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'proto-studio-access-'));
const path = join(dir, 'shop.sqlite');

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request to the studio (node:http, so the Host header can be anything). */
function call(
  studio: Studio,
  target: string,
  options: { host?: string; headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: studio.port,
        path: target,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${studio.port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('cli: proto studio, access', () => {
  let opened: Opened;
  let studio: Studio;
  let writable: Studio;
  let openedForWrite: Opened;
  let token: Record<string, string>;

  beforeAll(async () => {
    await makeShop(path);
    opened = await openSpace(path, { write: false, historyLimit: 1000 });
    studio = await startStudio(opened, { write: false });
    token = { 'x-proto-token': studio.token };
  });

  afterAll(async () => {
    await studio?.close();
    await opened?.space.close();
    await writable?.close();
    await openedForWrite?.space.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a URL on 127.0.0.1 with a random token', async () => {
    expect(studio.url).toBe(`http://127.0.0.1:${studio.port}/?token=${studio.token}`);
    expect(studio.token).toMatch(/^[\w-]{32}$/);
    const other = await startStudio(opened, { write: false });
    try {
      expect(other.token).not.toBe(studio.token);
      expect(other.port).not.toBe(studio.port);
    } finally {
      await other.close();
    }
  });

  it('refuses a request without the token, or with a wrong one', async () => {
    for (const target of ['/', '/app.js', '/api/overview', '/api/events', '/api/browse?db=shop&root=title']) {
      const answer = await call(studio, target);
      expect(answer.status, target).toBe(403);
      expect(answer.body).toBe('forbidden\n');
    }
    const wrong = `${studio.token.slice(0, -1)}${studio.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await call(studio, '/api/overview', { headers: { 'x-proto-token': wrong } })).status).toBe(403);
    expect((await call(studio, `/?token=${wrong}`)).status).toBe(403);
    expect(
      (await call(studio, '/api/overview', { headers: { cookie: `proto_studio_${studio.port}=${wrong}` } }))
        .status,
    ).toBe(403);
  });

  it('refuses a foreign Host header even with the token', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${studio.port}`,
      `127.0.0.1:${studio.port + 1}`,
      '127.0.0.1',
    ]) {
      const answer = await call(studio, `/?token=${studio.token}`, { host });
      expect(answer.status, host).toBe(403);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect((await call(studio, '/api/overview', { host, headers: token })).status, host).toBe(403);
    }
    expect(
      (await call(studio, '/api/overview', { host: `localhost:${studio.port}`, headers: token })).status,
    ).toBe(200);
  });

  it('trades the token in the URL for a strict cookie, which then opens the page and the API', async () => {
    const first = await call(studio, `/?token=${studio.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`proto_studio_${studio.port}=${studio.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const jar = { cookie: cookie.split(';')[0] as string };
    const page = await call(studio, '/', { headers: jar });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await call(studio, '/app.js', { headers: jar })).status).toBe(200);
    const overview = JSON.parse((await call(studio, '/api/overview', { headers: jar })).body) as {
      writable: boolean;
      databases: { name: string }[];
    };
    expect(overview.writable).toBe(false);
    expect(overview.databases.map((d) => d.name)).toEqual(['shop']);
  });

  it('refuses writes when started read-only, and writes with --write', async () => {
    const body = JSON.stringify({ db: 'shop', root: 'title', value: 'Written' });
    const json = { ...token, 'content-type': 'application/json' };
    const refused = await call(studio, '/api/set', { method: 'POST', headers: json, body });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).reason).toBe('read-only');

    await studio.close();
    await opened.space.close();
    openedForWrite = await openSpace(path, { write: true, historyLimit: 1000 });
    writable = await startStudio(openedForWrite, { write: true });
    const headers = { 'x-proto-token': writable.token, 'content-type': 'application/json' };
    const foreign = await call(writable, '/api/set', {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example' },
      body,
    });
    expect(foreign.status).toBe(403);
    const done = await call(writable, '/api/set', {
      method: 'POST',
      headers: { ...headers, origin: `http://localhost:${writable.port}` },
      body,
    });
    expect(done.status).toBe(200);
    const value = JSON.parse(
      (
        await call(writable, '/api/browse?db=shop&root=title', {
          headers: { 'x-proto-token': writable.token },
        })
      ).body,
    ) as BrowsePage;
    expect(value).toEqual({ collection: false, type: 'string', value: 'Written' });
    const entry = await call(writable, '/api/set', {
      method: 'POST',
      headers,
      body: JSON.stringify({ db: 'shop', root: 'products', key: 'p000', value: { name: 'Renamed' } }),
    });
    expect(entry.status).toBe(200);
    const gone = await call(writable, '/api/delete', {
      method: 'POST',
      headers,
      body: JSON.stringify({ db: 'shop', root: 'products', key: 'p001' }),
    });
    expect(gone.status).toBe(200);
    const products = JSON.parse(
      (
        await call(writable, '/api/browse?db=shop&root=products&limit=2', {
          headers: { 'x-proto-token': writable.token },
        })
      ).body,
    ) as BrowsePage & { collection: true };
    expect(products.entries).toEqual([
      ['p000', { name: 'Renamed' }],
      ['p002', expect.anything()],
    ]);
  });
});

describe('cli: proto studio, paging', () => {
  let data: StudioData;
  let space: ObjectSpace;
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

  beforeAll(async () => {
    space = await ObjectSpace.open(await openMemoryBackend());
    await space.database('d').transact((tx) => {
      tx.set('dictionary', Dictionary.from(keys.map((k, i) => [k, i] as const)));
      tx.set('list', List.from(keys));
      tx.set('set', OrderedSet.from(keys));
      tx.set(
        'counted',
        keys.reduce((c, k, i) => c.add(k, i + 1), CountedSet.empty<string>()),
      );
      tx.set('hash', HashDictionary.from(keys.map((k, i) => [k, i] as const)));
      // Keys with several values: a page may end inside one key's values.
      tx.set(
        'repeated',
        keys.reduce((r, k, i) => {
          let next = r;
          for (let v = 0; v <= i % 3; v++) next = next.add(k, v);
          return next;
        }, RepeatedKeysDictionary.empty<string, number>()),
      );
      tx.set(
        'indexed',
        IndexedCollection.from(
          keys.map((k, i) => ({ id: k, n: i })),
          { key: 'id' },
        ),
      );
      tx.set(
        'unkeyed',
        keys.reduce((c, k, i) => c.set(k, { n: i }), IndexedCollection.empty<{ n: number }, string>()),
      );
    });
    data = new StudioData({ space, kind: 'wal', path: '(memory)' }, false);
  });

  afterAll(async () => {
    await space.close();
  });

  function all(
    root: string,
    options: { from?: Json; to?: Json; reverse?: boolean; limit: number },
  ): Json[][] {
    const pages: Json[][] = [];
    let after: Json | undefined;
    for (;;) {
      const page = data.browse({
        db: 'd',
        root,
        path: [],
        reverse: options.reverse === true,
        limit: options.limit,
        from: options.from,
        to: options.to,
        after,
      });
      if (!page.collection) throw new Error('not a collection');
      expect(page.entries.length).toBeLessThanOrEqual(options.limit);
      pages.push(page.entries.map(([k, v]) => [k, v] as Json));
      if (page.next === null) return pages;
      after = page.next;
      expect(pages.length).toBeLessThan(100);
    }
  }

  function whole(root: string, reverse = false): Json[] {
    return all(root, { limit: 1000, reverse }).flat();
  }

  it('gives every entry once, in order, whatever the page size, forwards and backwards', () => {
    for (const root of ['dictionary', 'list', 'set', 'counted', 'hash', 'repeated', 'indexed', 'unkeyed']) {
      const forwards = whole(root);
      expect(forwards.length, root).toBe(root === 'repeated' ? 15 : 8);
      for (const limit of [1, 2, 3, 5, 7]) {
        const pages = all(root, { limit });
        expect(pages.flat(), `${root} by ${limit}`).toEqual(forwards);
        expect(
          pages.slice(0, -1).every((p) => p.length === limit),
          `${root} by ${limit}: full pages`,
        ).toBe(true);
        if (root !== 'hash' && root !== 'unkeyed')
          expect(all(root, { limit, reverse: true }).flat(), `${root} reversed by ${limit}`).toEqual(
            whole(root, true),
          );
      }
    }
    expect(() => whole('hash', true)).toThrow(/reverse/);
    expect(whole('dictionary').map((e) => (e as Json[])[0])).toEqual(keys);
    expect(whole('dictionary', true).map((e) => (e as Json[])[0])).toEqual([...keys].reverse());
  });

  it('pages within a key range: from inclusive, to exclusive', () => {
    for (const root of ['dictionary', 'set', 'counted', 'indexed', 'unkeyed']) {
      for (const limit of [1, 2, 4]) {
        const got = all(root, { from: 'c', to: 'f', limit })
          .flat()
          .map((e) => (e as Json[])[0]);
        expect(got, `${root} by ${limit}`).toEqual(['c', 'd', 'e']);
        const back = all(root, { from: 'c', to: 'f', limit, reverse: root !== 'unkeyed' })
          .flat()
          .map((e) => (e as Json[])[0]);
        expect(back, `${root} reversed by ${limit}`).toEqual(
          root === 'unkeyed' ? ['c', 'd', 'e'] : ['e', 'd', 'c'],
        );
      }
    }
    expect(
      all('list', { from: 2, to: 5, limit: 2 })
        .flat()
        .map((e) => (e as Json[])[0]),
    ).toEqual([2, 3, 4]);
    expect(
      all('list', { from: 2, to: 5, limit: 2, reverse: true })
        .flat()
        .map((e) => (e as Json[])[0]),
    ).toEqual([4, 3, 2]);
  });
});
