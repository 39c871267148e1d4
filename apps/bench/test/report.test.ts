import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RatioResult } from '../src/fixtures/ratios.ts';
import { buildReport, type WorkloadResult } from '../src/report/render.ts';
import { newestResults, writeReport } from '../src/report/write.ts';

const ratios: RatioResult[] = [
  {
    workload: 'BYTES',
    name: 'one-key commit ÷ bound',
    value: 0.81,
    target: { atMost: 1 },
    detail: '910 B ÷ 1,124 B',
  },
  { workload: 'TX-SMALL', name: 'C = 1 ÷ better-sqlite3', value: 0.47, target: { atLeast: 1 } },
  { workload: 'CACHE', name: 'get | hit ÷ Redis', value: 20.7, target: { atLeast: 10 } },
];
const fixture: WorkloadResult[] = [
  {
    script: 'bytes',
    file: 'apps/bench/results/bytes-x.json',
    ranAt: 'then',
    args: [],
    machine: 'm',
    ratios: ratios.slice(0, 1),
  },
  {
    script: 'tx',
    file: 'apps/bench/results/tx-x.json',
    ranAt: 'then',
    args: [],
    machine: undefined,
    ratios: ratios.slice(1),
  },
  {
    script: 'open',
    file: 'apps/bench/results/open-x.json',
    ranAt: 'then',
    args: [],
    machine: undefined,
    ratios: undefined,
  },
];
const tableRows = (markdown: string) =>
  markdown.split('\n').filter((line) => /^\| [A-Z]/.test(line) && !line.startsWith('| workload'));

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('bench: the report', () => {
  it('lists every ratio with its target and whether it was met when built from results', () => {
    const report = buildReport(fixture, ['bytes', 'tx', 'open', 'ann']);
    expect(tableRows(report.markdown)).toEqual([
      '| BYTES | one-key commit ÷ bound | 0.81× (910 B ÷ 1,124 B) | ≤ 1× | met | `bytes` |',
      '| TX-SMALL | C = 1 ÷ better-sqlite3 | 0.47× | ≥ 1× | **missed** | `tx` |',
      '| CACHE | get \\| hit ÷ Redis | 20.70× | ≥ 10× | met | `tx` |',
    ]);
    expect(report.markdown).toContain('**2 of 3 targets met.**');
    expect(report.markdown).toContain('Ran but recorded no ratios yet: `open`.');
    expect(report.markdown).toContain('No result yet: `ann`.');
    const json = JSON.parse(report.json) as { rows: { name: string; met: boolean }[] };
    expect(json.rows.map((r) => [r.name, r.met])).toEqual([
      ['one-key commit ÷ bound', true],
      ['C = 1 ÷ better-sqlite3', false],
      ['get | hit ÷ Redis', true],
    ]);
  });

  it('draws a well-formed SVG with a missed target in red when a ratio misses', () => {
    const { svg } = buildReport(fixture, ['bytes', 'tx']);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // Well-formed: every element opened is closed, in order, and no stray `<`/`&` in text.
    const stack: string[] = [];
    for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (closing === '/') expect(stack.pop()).toBe(name);
      else if (selfClosing !== '/') stack.push(name as string);
    }
    expect(stack).toEqual([]);
    expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]|&(?!amp;|lt;|gt;|quot;)/);
    const groups = [...svg.matchAll(/<g class="(met|missed)">[\s\S]*?<\/g>/g)];
    expect(groups.map((g) => g[1])).toEqual(['met', 'missed', 'met']);
    expect(groups[1]?.[0]).toContain('fill="#c62828"');
    expect(groups[1]?.[0]).toContain('0.47×');
    expect(groups[0]?.[0]).toContain('fill="#2e7d32"');
  });

  it('reads the newest result of each workload when several runs are in the results folder', () => {
    dir = mkdtempSync(join(tmpdir(), 'proto-bench-report-'));
    const results = join(dir, 'results');
    mkdirSync(results);
    const write = (file: string, value: number) =>
      writeFileSync(
        join(results, file),
        JSON.stringify({ ratios: [{ workload: 'BYTES', name: 'b', value, target: { atMost: 1 } }] }),
      );
    write('bytes-2026-01-01T10-00-00.json', 2);
    write('bytes-2026-01-02T10-00-00.json', 0.5);
    writeFileSync(join(results, 'bytes-2026-01-03T10-00-00.md'), 'not a result');
    const found = newestResults(results, ['bytes', 'tx']);
    expect(found.map((r) => [r.script, r.ranAt, r.ratios?.[0]?.value])).toEqual([
      ['bytes', '2026-01-02 10:00:00 UTC', 0.5],
    ]);
    const out = join(dir, 'report');
    writeReport(['bytes', 'tx'], results, out);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(
      '| BYTES | b | 0.50× | ≤ 1× | met | `bytes` |',
    );
    expect(readFileSync(join(out, 'ratios.svg'), 'utf8')).toContain('<svg');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).notRun).toEqual(['tx']);
  });
});
