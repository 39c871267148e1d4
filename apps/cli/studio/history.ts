/**
 * The history panel: the commits kept, each viewable (the whole page then reads that commit),
 * and the diff between two of them: the roots added, removed and changed, with their entries.
 */

import type { DiffResult, Json } from '../src/studio/protocol.js';
import { get } from './api.js';
import type { Context } from './context.js';
import { byId, fill, h } from './dom.js';
import { keyText, renderValue } from './values.js';

export class HistoryPanel {
  readonly #panel = byId('history');
  #diff = h('div', { id: 'diff' });

  constructor(private readonly context: Context) {}

  render(): void {
    const commits = this.context.commits;
    const databases = (this.context.overview?.databases ?? []).map((d) => d.name);
    const rows = commits.map((c) => {
      const view = h(
        'button',
        { 'data-view': c.sequence },
        this.context.asOf === c.sequence ? 'viewing' : 'view',
      );
      view.addEventListener('click', () => void this.context.viewCommit(c.sequence));
      return h(
        'tr',
        { 'data-sequence': c.sequence },
        h('td', {}, `#${c.sequence}`),
        h('td', {}, c.timestamp),
        h('td', {}, view),
      );
    });
    const choose = (name: string, selected: number | undefined) =>
      h(
        'select',
        { name, id: `diff-${name}` },
        ...commits.map((c) =>
          h('option', { value: c.sequence, selected: c.sequence === selected }, `#${c.sequence}`),
        ),
      );
    const form = h(
      'form',
      { class: 'bar', id: 'diff-form' },
      'diff of ',
      h('select', { name: 'db', id: 'diff-db' }, ...databases.map((d) => h('option', { value: d }, d))),
      ' from ',
      choose('from', commits[1]?.sequence),
      ' to ',
      choose('to', commits[0]?.sequence),
      h('button', { type: 'submit', id: 'show-diff' }, 'Show diff'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      void this.#showDiff(String(data.get('db')), Number(data.get('from')), Number(data.get('to')));
    });
    fill(
      this.#panel,
      h(
        'p',
        {},
        `${commits.length} commits kept (newest first). Viewing one reads the whole database as it was then.`,
      ),
      form,
      this.#diff,
      h(
        'table',
        { id: 'commits' },
        h('thead', {}, h('tr', {}, h('th', {}, 'commit'), h('th', {}, 'time'), h('th', {}, ''))),
        h('tbody', {}, ...rows),
      ),
    );
  }

  async #showDiff(db: string, from: number, to: number): Promise<void> {
    try {
      const diff = await get<DiffResult>('/api/diff', { db, from, to });
      this.context.clearError();
      const noop = (_: Json[]) => {};
      fill(
        this.#diff,
        h('h4', {}, `${db}: #${diff.from} → #${diff.to}`),
        diff.roots.length === 0 ? h('p', { class: 'hint' }, 'Nothing changed.') : null,
        ...diff.roots.map((r) =>
          h(
            'div',
            { class: 'diff-root', 'data-root': r.root },
            h(
              'p',
              {},
              h('strong', {}, r.root),
              ' ',
              h('span', { class: `kind-${r.kind}` }, r.kind),
              r.more ? ' (first entries)' : '',
            ),
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h('tr', {}, h('th', {}, ''), h('th', {}, 'key'), h('th', {}, 'before'), h('th', {}, 'after')),
              ),
              h(
                'tbody',
                {},
                ...r.entries.map((e) =>
                  h(
                    'tr',
                    { class: `kind-${e.kind}` },
                    h('td', {}, e.kind),
                    h('td', { class: 'key' }, keyText(e.key)),
                    h('td', {}, renderValue(e.oldValue, null, noop)),
                    h('td', {}, renderValue(e.newValue, null, noop)),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      this.context.showError(error);
    }
  }
}
