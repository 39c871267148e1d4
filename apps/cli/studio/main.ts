/**
 * ProtoBase Studio's page: the databases and roots on the left; browse, query, history and
 * vectors panels; a commit chooser that makes every panel read an earlier commit; and live
 * updates: while the newest commit is shown, each commit (server-sent events) reloads the view.
 */

import type { CommitEvent, History, Overview } from '../src/studio/protocol.js';
import { ApiError, get } from './api.js';
import { BrowsePanel } from './browse.js';
import type { Context } from './context.js';
import { byId, fill, h } from './dom.js';
import { HistoryPanel } from './history.js';
import { QueryPanel } from './query.js';
import { VectorsPanel } from './vectors.js';

type Tab = 'browse' | 'query' | 'history' | 'vectors';

const errorBox = byId('error');

const context: Context = {
  overview: null,
  asOf: null,
  commits: [],
  showError(error) {
    errorBox.textContent =
      error instanceof ApiError || error instanceof Error ? error.message : String(error);
    errorBox.hidden = false;
  },
  clearError() {
    errorBox.hidden = true;
  },
  openRoot(db, root, path = []) {
    browse.open(db, root, path);
    selectTab('browse');
    renderSidebar();
  },
  selectTab: (name) => selectTab(name),
  viewCommit: (sequence) => viewCommit(sequence),
};

const browse = new BrowsePanel(context);
const query = new QueryPanel(context);
const history = new HistoryPanel(context);
const vectors = new VectorsPanel(context);

function selectTab(name: Tab): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button'))
    button.classList.toggle('selected', button.dataset.tab === name);
  for (const panel of document.querySelectorAll<HTMLElement>('[data-panel]'))
    panel.hidden = panel.dataset.panel !== name;
}

function renderSidebar(): void {
  const overview = context.overview;
  if (overview === null) return;
  const current = browse.current;
  const parts = overview.databases.map((d) =>
    h(
      'div',
      { class: 'database', 'data-db': d.name },
      h('h3', {}, d.name),
      ...d.roots.map((r) => {
        const button = h(
          'button',
          {
            class: `root${current?.db === d.name && current.root === r.name ? ' selected' : ''}`,
            'data-root': r.name,
          },
          h('span', {}, r.name),
          h(
            'span',
            { class: 'type' },
            r.size === undefined ? r.type : `${r.type} · ${r.size.toLocaleString('en-US')}`,
          ),
        );
        button.addEventListener('click', () => context.openRoot(d.name, r.name));
        const indexes =
          r.indexes === undefined || r.indexes.length === 0
            ? null
            : h(
                'ul',
                { class: 'indexes' },
                ...r.indexes.map((ix) =>
                  h(
                    'li',
                    { 'data-index': ix.name },
                    `${ix.name}: ${ix.kind === 'ordered' ? ix.on : ix.kind} ${ix.unique ? 'unique ' : ''}(${ix.entries.toLocaleString('en-US')} entries)`,
                  ),
                ),
              );
        return h('div', {}, button, indexes);
      }),
    ),
  );
  fill(byId('sidebar'), ...(parts.length === 0 ? [h('p', { class: 'hint' }, 'No databases yet.')] : parts));
}

function renderHeader(): void {
  const overview = context.overview;
  if (overview === null) return;
  byId('where').textContent = `${overview.path} (${overview.backend === 'wal' ? 'WAL' : 'SQLite'})`;
  const mode = byId('mode');
  mode.textContent = overview.writable ? 'read-write' : 'read-only';
  mode.classList.toggle('write', overview.writable);
  const select = byId<HTMLSelectElement>('commit');
  fill(
    select,
    h('option', { value: '', selected: context.asOf === null }, `newest (#${overview.sequence})`),
    ...context.commits.map((c) =>
      h(
        'option',
        { value: c.sequence, selected: context.asOf === c.sequence },
        `#${c.sequence} · ${c.timestamp}`,
      ),
    ),
  );
  const live = byId('live');
  live.dataset.sequence = String(overview.sequence);
  if (live.textContent === '') live.textContent = overview.live ? 'live' : 'not live';
  live.title = overview.live
    ? 'the view follows new commits while the newest is shown'
    : 'this backend does not report commits of other processes (WAL read-only)';
}

async function refresh(): Promise<void> {
  const [overview, kept] = await Promise.all([
    get<Overview>('/api/overview', { asOf: context.asOf }),
    get<History>('/api/history'),
  ]);
  context.overview = overview;
  context.commits = kept.commits;
  renderHeader();
  renderSidebar();
  query.render(browse.current);
  history.render();
  vectors.render();
}

async function viewCommit(sequence: number | null): Promise<void> {
  context.asOf = sequence;
  try {
    await refresh();
    await browse.load();
  } catch (error) {
    context.showError(error);
  }
}

function listen(): void {
  const events = new EventSource('/api/events');
  const live = byId('live');
  events.addEventListener('message', (message) => {
    const event = JSON.parse(String(message.data)) as CommitEvent;
    live.textContent = `live · commit #${event.sequence}`;
    live.dataset.sequence = String(event.sequence);
    live.classList.add('flash');
    setTimeout(() => live.classList.remove('flash'), 600);
    // A view of an earlier commit stays as it is; the newest follows.
    if (context.asOf === null) void viewCommit(null);
    else void refresh().catch((error: unknown) => context.showError(error));
  });
  events.addEventListener('error', () => {
    live.textContent = 'disconnected';
  });
}

for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button'))
  button.addEventListener('click', () => selectTab(button.dataset.tab as Tab));
byId<HTMLSelectElement>('commit').addEventListener('change', (e) => {
  const value = (e.target as HTMLSelectElement).value;
  void viewCommit(value === '' ? null : Number(value));
});

refresh().then(listen, (error: unknown) => context.showError(error));
