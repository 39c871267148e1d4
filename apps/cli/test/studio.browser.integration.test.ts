/**
 * ProtoBase Studio in a real browser: Debian's Chromium (installed by
 * `tooling/scripts/ensure-chromium.sh`, never downloaded by the test library) driven by
 * playwright-core, against `proto studio` (the built `dist/main.js`) serving an SQLite database
 * the test makes. It browses a root, pages through a collection and a key range, opens a
 * nested collection, runs a query and reads its plan, steps to an earlier commit and sees the
 * older value, diffs two commits, sees a commit of another process arrive live, and asks a
 * vector index for nearest neighbours. Screenshots go to `apps/cli/test-artifacts/studio`
 * (git-ignored). A machine where Chromium cannot be installed fails this test; it never skips.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectSpace } from '@proto/atom';
import { openSqliteBackend } from '@proto/storage-sqlite';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeShop, PRODUCTS } from './fixtures/studio-db.ts';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ENSURE_CHROMIUM = fileURLToPath(
  new URL('../../../tooling/scripts/ensure-chromium.sh', import.meta.url),
);
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/studio/', import.meta.url));
const WAIT = { timeout: 15_000, interval: 50 };

const dir = mkdtempSync(join(tmpdir(), 'proto-studio-'));
const path = join(dir, 'shop.sqlite');
let commits: { oldTitle: number; newest: number };
let studio: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;

/** Starts `proto studio` and resolves with the URL it prints. */
function startStudio(): Promise<string> {
  const child = spawn(process.execPath, [MAIN, 'studio', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  studio = child;
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
      if (url !== null) resolve(url[0]);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.once('exit', (code) => reject(new Error(`proto studio exited with ${code}: ${err}`)));
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const text = (selector: string) => page.locator(selector).first().textContent();
/** The keys of the rows shown (string keys are drawn quoted, as their type). */
const rowKeys = async () =>
  (await page.locator('#entries tbody tr td.key').allTextContents()).map((k) => k.replace(/^"(.*)"$/, '$1'));

beforeAll(async () => {
  // Installs Chromium when it is missing; a failure here fails the suite (CI or not).
  execFileSync('bash', [ENSURE_CHROMIUM], { stdio: 'inherit' });
  mkdirSync(ARTIFACTS, { recursive: true });
  commits = await makeShop(path);
  const url = await startStudio();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.locator('#sidebar [data-root=products]').waitFor();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (studio !== undefined && studio.exitCode === null) {
    const exited = new Promise((resolve) => studio?.once('exit', resolve));
    studio.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('cli: proto studio in Chromium', () => {
  it('shows the databases and roots with their kind, size and indexes, read-only', async () => {
    expect(page.url()).not.toContain('token=');
    expect(await text('#mode')).toBe('read-only');
    expect(await text('#sidebar [data-root=products] .type')).toBe(`Dictionary · ${PRODUCTS}`);
    expect(await text('#sidebar [data-root=users] .type')).toBe('IndexedCollection · 200');
    expect(await text('[data-index=byAge]')).toContain('age');
    expect(await text('[data-index=byEmbedding]')).toContain('proto.vector');
  });

  it('browses a root, pages through it, reads a key range and opens a nested collection', async () => {
    await page.locator('#sidebar [data-root=products]').click();
    await expect.poll(rowKeys, WAIT).toHaveLength(50);
    expect((await rowKeys())[0]).toBe('p000');
    const first = page.locator('#entries tbody tr').first();
    expect(await first.locator('[data-type=bigint]').textContent()).toBe('100n');
    expect(await first.locator('[data-type=Date]').textContent()).toBe('2026-01-01T00:00:00.000Z');
    expect(await first.locator('[data-type=bytes]').textContent()).toBe('bytes(3) AAEC');
    await shot('browse-first-page');

    await page.locator('#next').click();
    await expect.poll(async () => (await rowKeys())[0], WAIT).toBe('p050');
    expect((await rowKeys()).at(-1)).toBe('p099');
    await page.locator('#previous').click();
    await expect.poll(async () => (await rowKeys())[0], WAIT).toBe('p000');

    await page.locator('#range input[name=from]').fill('p200');
    await page.locator('#range input[name=to]').fill('p210');
    await page.locator('#range button[type=submit]').click();
    await expect
      .poll(rowKeys, WAIT)
      .toEqual(Array.from({ length: 10 }, (_, i) => `p2${String(i).padStart(2, '0')}`));
    expect(await page.locator('#next').isDisabled()).toBe(true);

    await page.locator('#entries tbody tr').first().locator('a.v-collection').click();
    await expect.poll(rowKeys, WAIT).toEqual(['lisbon', 'porto']);
    expect(await text('#crumbs')).toContain('p200');
    expect(await page.locator('#entries tbody tr td:nth-child(2)').allTextContents()).toEqual(['200', '400']);
    await shot('browse-nested');
  });

  it('runs a query on an IndexedCollection and draws its analyzed plan', async () => {
    await page.locator('#tabs button[data-tab=query]').click();
    await page.locator('#query-target').selectOption({ label: 'shop / users' });
    const condition = page.locator('#conditions .condition').first();
    await condition.locator('[name=path]').fill('age');
    await condition.locator('[name=op]').selectOption('>=');
    await condition.locator('[name=value]').fill('70');
    await page.locator('#query-form [name=orderBy]').fill('age');
    await page.locator('#query-form [name=direction]').selectOption('desc');
    await page.locator('#query-form [name=limit]').fill('5');
    await page.locator('#run-query').click();
    await expect.poll(() => text('#query-count'), WAIT).toBe('5');
    const scan = page.locator('#plan [data-node=IndexRangeScan] > .plan-label').first();
    expect(await scan.locator('.plan-index').textContent()).toBe('byAge');
    expect(await scan.locator('.plan-rows.actual').textContent()).toBe('actual 5');
    expect(await scan.locator('.plan-rows:not(.actual)').textContent()).toMatch(/^est \d+/);
    expect(await page.locator('#plan .plan-node').first().getAttribute('data-node')).toBe('Limit');
    const ages = (await page.locator('#query-rows .field').allTextContents())
      .filter((f) => f.startsWith('age: '))
      .map((f) => Number(f.slice(5)));
    expect(ages).toHaveLength(5);
    expect(ages.every((a) => a >= 70)).toBe(true);
    expect([...ages].sort((a, b) => b - a)).toEqual(ages);
    await shot('query-plan');
  });

  it('steps to an earlier commit, sees the older value, and diffs two commits', async () => {
    await page.locator('#sidebar [data-root=title]').click();
    await expect.poll(() => text('#value'), WAIT).toBe('"New title"');
    await page.locator('#commit').selectOption(String(commits.oldTitle));
    await expect.poll(() => text('#value'), WAIT).toBe('"Old title"');
    expect(await text('#crumbs')).toContain(`as of #${commits.oldTitle}`);
    await shot('history-old-value');

    await page.locator('#tabs button[data-tab=history]').click();
    await expect.poll(() => page.locator('#commits tbody tr').count(), WAIT).toBe(2);
    await page.locator('#diff-from').selectOption(String(commits.oldTitle));
    await page.locator('#diff-to').selectOption(String(commits.newest));
    await page.locator('#show-diff').click();
    const row = page.locator('#diff [data-root=title] tbody tr').first();
    await expect.poll(() => row.textContent(), WAIT).toContain('Old title');
    expect(await row.textContent()).toContain('New title');
    expect(await page.locator('#diff .diff-root').count()).toBe(1);
    await shot('history-diff');

    await page.locator('#commit').selectOption('');
    await page.locator('#sidebar [data-root=title]').click();
    await expect.poll(() => text('#value'), WAIT).toBe('"New title"');
  });

  it('updates the open view when another process commits', async () => {
    const space = await ObjectSpace.open(await openSqliteBackend({ path }));
    try {
      await space.database('shop').transact((tx) => tx.set('title', 'Live title'));
      const sequence = space.sequence;
      await expect.poll(() => text('#value'), WAIT).toBe('"Live title"');
      expect(await page.locator('#live').getAttribute('data-sequence')).toBe(String(sequence));
      expect(await text('#commit option')).toBe(`newest (#${sequence})`);
    } finally {
      await space.close();
    }
    await shot('live');
  });

  it('lists vector indexes with their sizes and finds the nearest neighbours of a record', async () => {
    await page.locator('#tabs button[data-tab=vectors]').click();
    const row = page.locator('#vector-indexes tr[data-index=byEmbedding]');
    expect(await row.locator('td.vectors').textContent()).toBe('200');
    await row.locator('input[name=key]').fill('u001');
    await row.locator('input[name=k]').fill('3');
    await row.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('#nearest-rows tbody tr').count(), WAIT).toBe(3);
    expect(await text('#nearest-rows tbody tr td.key')).toBe('u001');
    expect(await page.locator('#nearest-output [data-node=VectorScan]').count()).toBe(1);
    await shot('vectors');
  });
});
