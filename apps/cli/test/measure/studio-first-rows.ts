/**
 * Measures how fast ProtoBase Studio shows a 1,000,000-entry collection: builds a WAL database
 * with a `Dictionary` and an `IndexedCollection` (key path `id`, an index on `n`) of 1M entries
 * each, starts `proto studio` (the built `dist/main.js`) on it, and in Chromium times from the
 * click on the root to the first page of rows on screen, the next page, and a key range near
 * the end. Not part of `pnpm test` (building the data takes a while); run it with
 *   node --conditions=@proto/source --import tsx apps/cli/test/measure/studio-first-rows.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { IndexedCollection } from '@proto/query';
import { openWalBackend } from '@proto/storage-wal';
import { chromium, type Page } from 'playwright-core';

const N = Number(process.env.STUDIO_ENTRIES ?? 1_000_000);
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'proto-studio-1m-'));
const path = join(dir, 'big');
const key = (i: number) => `k${String(i).padStart(7, '0')}`;

let started = performance.now();
{
  const space = await ObjectSpace.open(await openWalBackend({ path }));
  await space.database('big').transact((tx) => {
    tx.set(
      'dictionary',
      Dictionary.from(Array.from({ length: N }, (_, i) => [key(i), { n: i, at: new Date(i) }] as const)),
    );
  });
  await space.database('big').transact((tx) => {
    tx.set(
      'indexed',
      IndexedCollection.from(
        Array.from({ length: N }, (_, i) => ({ id: key(i), n: i % 1000 })),
        { key: 'id', indexes: { byN: 'n' } },
      ),
    );
  });
  await space.close();
}
console.log(
  `built ${N.toLocaleString('en-US')} + ${N.toLocaleString('en-US')} entries in ${(performance.now() - started).toFixed(0)} ms`,
);

const child = spawn(process.execPath, [MAIN, 'studio', path], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const found = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
    if (found) resolve(found[0]);
  });
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();

/** The little of the DOM the timing reads (this file is type-checked without DOM types). */
interface InPage {
  readonly document: { querySelector(selector: string): { readonly textContent: string | null } | null };
}

async function firstKey(page: Page): Promise<string> {
  return ((await page.locator('#entries tbody tr td.key').first().textContent()) ?? '').replace(/"/g, '');
}

async function timed(label: string, act: () => Promise<void>, expectedFirst: string): Promise<void> {
  const t0 = performance.now();
  await act();
  // Checked in the page on every animation frame (the page's CSP forbids a string to evaluate).
  await page.waitForFunction(
    (k) =>
      (globalThis as unknown as InPage).document.querySelector('#entries tbody tr td.key')?.textContent === k,
    JSON.stringify(expectedFirst),
    { polling: 'raf', timeout: 60_000 },
  );
  console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms (first row ${await firstKey(page)})`);
}

try {
  started = performance.now();
  await page.goto(url);
  await page.locator('#sidebar [data-root=dictionary]').waitFor();
  console.log(`page with the overview: ${(performance.now() - started).toFixed(0)} ms`);
  for (const root of ['dictionary', 'indexed']) {
    await timed(
      `${root}: first rows after the click (cold)`,
      () => page.locator(`#sidebar [data-root=${root}]`).click(),
      key(0),
    );
    await timed(`${root}: next page`, () => page.locator('#next').click(), key(50));
    await timed(
      `${root}: range from ${key(N - 1000)}`,
      async () => {
        await page.locator('#range input[name=from]').fill(key(N - 1000));
        await page.locator('#range button[type=submit]').click();
      },
      key(N - 1000),
    );
    await timed(
      `${root}: reopened (warm)`,
      () => page.locator(`#sidebar [data-root=${root}]`).click(),
      key(0),
    );
  }
} finally {
  await browser.close();
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
