/**
 * The query panel: where / orderBy / limit on an `IndexedCollection` as a form, the rows, and
 * the plan of `explain({ analyze: true })` as a tree with estimated and actual rows per node.
 */

import type { Condition, QueryRequest, QueryResult } from '../src/studio/protocol.js';
import { post } from './api.js';
import { type Context, parseInput } from './context.js';
import { byId, fill, h } from './dom.js';
import { renderPlan } from './plan.js';
import { renderValue } from './values.js';

const OPERATORS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'between', 'contains', 'startsWith'];

export class QueryPanel {
  readonly #panel = byId('query');
  #output = h('div', { id: 'query-output' });

  constructor(private readonly context: Context) {}

  /** Draws the form for the indexed collections of the overview (keeping `selected` chosen). */
  render(selected?: { db: string; root: string }): void {
    const targets = (this.context.overview?.databases ?? []).flatMap((d) =>
      d.roots.filter((r) => r.type === 'IndexedCollection').map((r) => ({ db: d.name, root: r }) as const),
    );
    if (targets.length === 0) {
      fill(
        this.#panel,
        h('p', { class: 'hint' }, 'Queries run on an IndexedCollection; this database has none.'),
      );
      return;
    }
    const target = h(
      'select',
      { name: 'target', id: 'query-target' },
      ...targets.map((t) =>
        h(
          'option',
          {
            value: JSON.stringify([t.db, t.root.name]),
            selected: selected?.db === t.db && selected.root === t.root.name,
          },
          `${t.db} / ${t.root.name}`,
        ),
      ),
    );
    const conditions = h('div', { id: 'conditions' });
    const addCondition = (c: Partial<Condition> = {}) => {
      const row = h(
        'div',
        { class: 'bar condition' },
        'where ',
        h('input', {
          name: 'path',
          placeholder: 'path (age, address.city, tags[])',
          value: c.path ?? '',
          size: 18,
        }),
        h(
          'select',
          { name: 'op' },
          ...OPERATORS.map((op) => h('option', { value: op, selected: op === (c.op ?? '=') }, op)),
        ),
        h('input', { name: 'value', placeholder: 'value: 42, "text", [1,2], {"$date":"…"}', size: 24 }),
      );
      const remove = h('button', { type: 'button', title: 'remove this condition' }, '×');
      remove.addEventListener('click', () => row.remove());
      row.append(remove);
      conditions.append(row);
    };
    addCondition();
    const add = h('button', { type: 'button', id: 'add-condition' }, '+ condition');
    add.addEventListener('click', () => addCondition());
    const form = h(
      'form',
      { id: 'query-form' },
      h('div', { class: 'bar' }, 'on ', target),
      conditions,
      add,
      h(
        'div',
        { class: 'bar' },
        'order by ',
        h('input', { name: 'orderBy', placeholder: 'path (optional)', size: 16 }),
        h(
          'select',
          { name: 'direction' },
          h('option', { value: 'asc' }, 'asc'),
          h('option', { value: 'desc' }, 'desc'),
        ),
        ' limit ',
        h('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: 20, size: 5 }),
        h('button', { type: 'submit', id: 'run-query' }, 'Run'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#run(form);
    });
    this.#output = h('div', { id: 'query-output' });
    fill(this.#panel, form, this.#output);
  }

  async #run(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    const [db, root] = JSON.parse(String(data.get('target'))) as [string, string];
    const where: Condition[] = [];
    for (const row of form.querySelectorAll<HTMLElement>('.condition')) {
      const path = (row.querySelector('[name=path]') as HTMLInputElement).value.trim();
      if (path === '') continue;
      const op = (row.querySelector('[name=op]') as HTMLSelectElement).value;
      where.push({
        path,
        op,
        value: parseInput((row.querySelector('[name=value]') as HTMLInputElement).value),
      });
    }
    const orderBy = String(data.get('orderBy') ?? '').trim();
    const request: QueryRequest = {
      db,
      root,
      asOf: this.context.asOf,
      where,
      orderBy:
        orderBy === ''
          ? null
          : { path: orderBy, direction: data.get('direction') === 'desc' ? 'desc' : 'asc' },
      limit: Number(data.get('limit')) || 20,
    };
    try {
      const result = await post<QueryResult>('/api/query', request);
      this.context.clearError();
      fill(
        this.#output,
        h(
          'p',
          {},
          h('strong', { id: 'query-count' }, String(result.rows.length)),
          ` rows (estimated ${result.estimatedRows.toLocaleString('en-US')}), ${result.milliseconds.toFixed(1)} ms`,
          result.indexes.length === 0 ? ', no index' : `, indexes: ${result.indexes.join(', ')}`,
        ),
        h('h4', {}, 'Plan'),
        h('div', { id: 'plan' }, renderPlan(result.plan)),
        h('h4', {}, 'Rows'),
        h(
          'table',
          { id: 'query-rows' },
          h(
            'tbody',
            {},
            ...result.rows.map((row, i) =>
              h(
                'tr',
                { 'data-row': i },
                h(
                  'td',
                  {},
                  renderValue(row, null, () => {}),
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
