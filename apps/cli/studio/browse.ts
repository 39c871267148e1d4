/**
 * The browse panel: one root (or a collection nested in it) a page at a time, read lazily by the
 * server: a key range (`from` inclusive, `to` exclusive), reversed or not, pages of `limit`
 * entries moved through with cursors, so the first page of a million entries costs one page.
 */

import type { BrowsePage, Json } from '../src/studio/protocol.js';
import { get } from './api.js';
import type { Context } from './context.js';
import { parseInput } from './context.js';
import { byId, fill, h } from './dom.js';
import { keyText, renderValue } from './values.js';

interface View {
  db: string;
  root: string;
  path: Json[];
  from: string;
  to: string;
  reverse: boolean;
  limit: number;
  /** The `after` cursor of each page shown so far (the first is null). */
  cursors: (Json | null)[];
}

export class BrowsePanel {
  #view: View | undefined;
  readonly #panel = byId('browse');
  /** Bumped by each load, so an older answer arriving late is dropped. */
  #generation = 0;

  constructor(private readonly context: Context) {}

  get current(): { db: string; root: string } | undefined {
    return this.#view;
  }

  open(db: string, root: string, path: Json[] = []): void {
    this.#view = { db, root, path, from: '', to: '', reverse: false, limit: 50, cursors: [null] };
    void this.load();
  }

  /** Loads the current page again (a live commit, another commit chosen). */
  async load(): Promise<void> {
    const view = this.#view;
    if (view === undefined) return;
    const generation = ++this.#generation;
    const started = performance.now();
    try {
      const page = await get<BrowsePage>('/api/browse', {
        db: view.db,
        root: view.root,
        path: view.path,
        asOf: this.context.asOf,
        from: view.from === '' ? undefined : JSON.stringify(parseInput(view.from)),
        to: view.to === '' ? undefined : JSON.stringify(parseInput(view.to)),
        after: view.cursors.at(-1) ?? undefined,
        reverse: view.reverse ? '1' : undefined,
        limit: view.limit,
      });
      if (generation !== this.#generation) return;
      this.context.clearError();
      this.#render(view, page, performance.now() - started);
    } catch (error) {
      if (generation === this.#generation) this.context.showError(error);
    }
  }

  #crumbs(view: View): HTMLElement {
    const out = h('p', { class: 'crumbs', id: 'crumbs' }, `${view.db} / `);
    const rootLink = h('a', { href: '#' }, view.root);
    rootLink.addEventListener('click', (e) => {
      e.preventDefault();
      this.open(view.db, view.root);
    });
    out.append(rootLink);
    view.path.forEach((step, i) => {
      const link = h('a', { href: '#' }, keyText(step));
      link.addEventListener('click', (e) => {
        e.preventDefault();
        this.open(view.db, view.root, view.path.slice(0, i + 1));
      });
      out.append(' / ', link);
    });
    if (this.context.asOf !== null) out.append(h('span', { class: 'badge' }, ` as of #${this.context.asOf}`));
    return out;
  }

  #render(view: View, page: BrowsePage, milliseconds: number): void {
    const open = (path: Json[]) => this.open(view.db, view.root, [...view.path, ...path]);
    if (!page.collection) {
      fill(
        this.#panel,
        this.#crumbs(view),
        h('p', {}, 'type ', h('strong', { id: 'value-type' }, page.type)),
        h('div', { id: 'value', class: 'value' }, renderValue(page.value, [], open)),
      );
      return;
    }
    const form = h(
      'form',
      { class: 'bar', id: 'range' },
      h(
        'label',
        {},
        'from ',
        h('input', { name: 'from', value: view.from, placeholder: 'key (inclusive)', size: 14 }),
      ),
      h(
        'label',
        {},
        'to ',
        h('input', { name: 'to', value: view.to, placeholder: 'key (exclusive)', size: 14 }),
      ),
      h('label', {}, h('input', { type: 'checkbox', name: 'reverse', checked: view.reverse }), ' reverse'),
      h(
        'label',
        {},
        'per page ',
        h('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: view.limit, size: 5 }),
      ),
      h('button', { type: 'submit' }, 'Show'),
    );
    if (!page.ranges)
      for (const input of form.querySelectorAll<HTMLInputElement>('input[name=from], input[name=to]'))
        input.disabled = true;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      view.from = String(data.get('from') ?? '');
      view.to = String(data.get('to') ?? '');
      view.reverse = data.get('reverse') !== null;
      view.limit = Number(data.get('limit')) || 50;
      view.cursors = [null];
      void this.load();
    });
    const rows = page.entries.map(([k, v], i) =>
      h(
        'tr',
        { 'data-row': i },
        h('td', { class: 'key' }, renderValue(k, null, open)),
        h('td', {}, renderValue(v, [k], open)),
      ),
    );
    const pageNumber = view.cursors.length;
    const previous = h('button', { id: 'previous', disabled: pageNumber === 1 }, '← Previous');
    previous.addEventListener('click', () => {
      view.cursors.pop();
      void this.load();
    });
    const next = h('button', { id: 'next', disabled: page.next === null }, 'Next →');
    next.addEventListener('click', () => {
      view.cursors.push(page.next);
      void this.load();
    });
    fill(
      this.#panel,
      this.#crumbs(view),
      h(
        'p',
        {},
        h('strong', { id: 'collection-type' }, page.type),
        ', ',
        h('span', { id: 'collection-size' }, page.size.toLocaleString('en-US')),
        ' entries',
        h('span', { class: 'hint' }, ` · page ${pageNumber}, read in ${milliseconds.toFixed(0)} ms`),
      ),
      form,
      h(
        'table',
        { id: 'entries' },
        h('thead', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'value'))),
        h('tbody', {}, ...rows),
      ),
      page.entries.length === 0 ? h('p', { class: 'hint', id: 'empty' }, 'No entries in this range.') : null,
      h('div', { class: 'bar' }, previous, next),
    );
  }
}
