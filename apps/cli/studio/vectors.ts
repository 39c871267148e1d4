/** The vectors panel: every vector index with its figures, and the nearest neighbours of a record. */

import type { NearestResult } from '../src/studio/protocol.js';
import { get } from './api.js';
import { type Context, parseInput } from './context.js';
import { byId, fill, h } from './dom.js';
import { renderPlan } from './plan.js';
import { keyText, renderValue } from './values.js';

export class VectorsPanel {
  readonly #panel = byId('vectors');

  constructor(private readonly context: Context) {}

  render(): void {
    const found = (this.context.overview?.databases ?? []).flatMap((d) =>
      d.roots.flatMap((r) =>
        (r.indexes ?? [])
          .filter((ix) => ix.vector !== undefined)
          .map((ix) => ({ db: d.name, root: r.name, index: ix })),
      ),
    );
    if (found.length === 0) {
      fill(this.#panel, h('p', { class: 'hint' }, 'No vector indexes.'));
      return;
    }
    const output = h('div', { id: 'nearest-output' });
    const rows = found.map((f) => {
      const v = f.index.vector;
      const form = h(
        'form',
        { class: 'bar nearest' },
        h('input', { name: 'key', placeholder: 'record key', size: 12 }),
        ' k ',
        h('input', { name: 'k', type: 'number', min: 1, max: 1000, value: 5, size: 4 }),
        h('button', { type: 'submit' }, 'Nearest'),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const data = new FormData(form);
        void this.#nearest(
          output,
          f.db,
          f.root,
          f.index.name,
          String(data.get('key')),
          Number(data.get('k')) || 5,
        );
      });
      return h(
        'tr',
        { 'data-index': f.index.name },
        h('td', {}, `${f.db} / ${f.root}`),
        h('td', {}, f.index.name),
        h('td', {}, v?.path ?? ''),
        h('td', {}, String(v?.dim ?? '')),
        h('td', {}, v?.metric ?? ''),
        h('td', { class: 'vectors' }, (v?.vectors ?? 0).toLocaleString('en-US')),
        h(
          'td',
          {},
          `${v?.lists ?? 0}${v?.trained ? ' (trained)' : ''}${v?.needsRetraining ? ', needs retraining' : ''}`,
        ),
        h('td', {}, form),
      );
    });
    fill(
      this.#panel,
      h(
        'table',
        { id: 'vector-indexes' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['root', 'index', 'path', 'dim', 'metric', 'vectors', 'lists', 'nearest to'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
      output,
    );
  }

  async #nearest(
    output: HTMLElement,
    db: string,
    root: string,
    index: string,
    key: string,
    k: number,
  ): Promise<void> {
    try {
      const result = await get<NearestResult>('/api/nearest', {
        db,
        root,
        index,
        key: JSON.stringify(parseInput(key)),
        k,
        asOf: this.context.asOf,
      });
      this.context.clearError();
      fill(
        output,
        h('h4', {}, `Nearest to ${key} in ${db} / ${root} (${index})`),
        h(
          'table',
          { id: 'nearest-rows' },
          h('thead', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'distance'), h('th', {}, 'record'))),
          h(
            'tbody',
            {},
            ...result.rows.map((r) =>
              h(
                'tr',
                {},
                h('td', { class: 'key' }, keyText(r.key)),
                h('td', {}, r.distance.toFixed(4)),
                h(
                  'td',
                  {},
                  renderValue(r.record, null, () => {}),
                ),
              ),
            ),
          ),
        ),
        h('h4', {}, 'Plan'),
        renderPlan(result.plan),
      );
    } catch (error) {
      this.context.showError(error);
    }
  }
}
