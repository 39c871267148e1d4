/** The plan of `explain({ analyze: true })` drawn as a tree: each node with its estimated and actual rows. */
import type { PlanTree } from '../src/studio/protocol.js';
import { h } from './dom.js';

function rows(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

function nodeOf(plan: PlanTree): HTMLElement {
  const actual = plan.actualRows;
  const off =
    actual !== undefined &&
    plan.estimatedRows > 0 &&
    Math.abs(Math.log10((actual + 1) / (plan.estimatedRows + 1))) >= 1;
  const node = h(
    'li',
    { class: 'plan-node', 'data-node': plan.node },
    h(
      'div',
      { class: 'plan-label' },
      h('span', { class: 'plan-op' }, plan.node),
      plan.index === undefined ? null : h('span', { class: 'plan-index' }, plan.index),
      plan.detail === '' ? null : h('span', { class: 'plan-detail' }, plan.detail),
      h('span', { class: 'plan-rows', title: 'estimated rows' }, `est ${rows(plan.estimatedRows)}`),
      actual === undefined
        ? null
        : h(
            'span',
            { class: `plan-rows actual${off ? ' off' : ''}`, title: 'actual rows' },
            `actual ${rows(actual)}`,
          ),
    ),
  );
  if (plan.children.length > 0) node.append(h('ul', {}, ...plan.children.map(nodeOf)));
  return node;
}

export function renderPlan(plan: PlanTree): HTMLElement {
  return h('ul', { class: 'plan-tree' }, nodeOf(plan));
}
