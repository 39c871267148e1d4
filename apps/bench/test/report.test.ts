import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RatioResult, sizeForTarget, TargetLog, type UnmeasuredTarget } from '../src/fixtures/ratios.ts';
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
  {
    workload: 'TX-SMALL',
    name: 'N = 100,000, C = 1 ÷ better-sqlite3',
    value: 0.47,
    target: { atLeast: 1 },
    cardSize: 1_000_000,
  },
  { workload: 'CACHE', name: 'get | hit ÷ Redis', value: 20.7, target: { atLeast: 10 } },
  {
    workload: 'TX-SMALL',
    name: 'conflicts between disjoint keys',
    value: 0,
    target: { atMost: 0 },
    unit: 'conflicts',
  },
  {
    workload: 'ANN',
    name: 'filtered recall',
    value: 0.912,
    target: { atLeast: 0.95 },
    unit: 'recall@10',
  },
];
const unmeasured: UnmeasuredTarget[] = [
  { workload: 'OPEN', name: 'first read, N = 1,000,000', target: { atMost: 1 }, reason: 'add --full' },
  { workload: 'TX-SMALL', name: 'PostgreSQL, 1, 4 and 8 processes', target: {}, reason: 'no such system' },
];
const fixture: WorkloadResult[] = [
  {
    script: 'bytes',
    file: 'apps/bench/results/bytes-x.json',
    ranAt: 'then',
    args: [],
    machine: 'm',
    ratios: ratios.slice(0, 1),
    notMeasured: [],
  },
  {
    script: 'tx',
    file: 'apps/bench/results/tx-x.json',
    ranAt: 'then',
    args: [],
    machine: undefined,
    ratios: ratios.slice(1),
    notMeasured: unmeasured.slice(1),
  },
  {
    script: 'open',
    file: 'apps/bench/results/open-x.json',
    ranAt: 'then',
    args: [],
    machine: undefined,
    ratios: undefined,
    notMeasured: [],
  },
  {
    script: 'kv-point',
    file: 'apps/bench/results/kv-point-x.json',
    ranAt: 'then',
    args: [],
    machine: undefined,
    ratios: undefined,
    notMeasured: unmeasured.slice(0, 1),
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
    const report = buildReport(fixture, ['bytes', 'tx', 'open', 'kv-point', 'ann']);
    expect(tableRows(report.markdown)).toEqual([
      '| BYTES | one-key commit ÷ bound | 0.81× (910 B ÷ 1,124 B) | ≤ 1× | met | `bytes` |',
      '| TX-SMALL | N = 100,000, C = 1 ÷ better-sqlite3 (card: N = 1,000,000) | 0.47× | ≥ 1× | **missed** | `tx` |',
      '| CACHE | get \\| hit ÷ Redis | 20.70× | ≥ 10× | met | `tx` |',
      '| TX-SMALL | conflicts between disjoint keys | 0 conflicts | ≤ 0 conflicts | met | `tx` |',
      '| ANN | filtered recall | 0.912 recall@10 | ≥ 0.95 recall@10 | **missed** | `tx` |',
      '| TX-SMALL | PostgreSQL, 1, 4 and 8 processes | reported | no such system | `tx` |',
      '| OPEN | first read, N = 1,000,000 | ≤ 1× | add --full | `kv-point` |',
    ]);
    expect(report.markdown).toContain('**3 of 5 targets met**; 2 more [not measured](#not-measured).');
    expect(report.markdown).toContain('## Not measured');
    expect(report.markdown).toContain(
      '1 of these rows come from a run at a smaller size than the card names',
    );
    expect(report.markdown).toContain('Ran but recorded no ratios yet: `open`.');
    expect(report.markdown).toContain('No result yet: `ann`.');
    const json = JSON.parse(report.json) as {
      rows: { name: string; met: boolean }[];
      notMeasured: { name: string; script: string }[];
    };
    expect(json.rows.map((r) => [r.name, r.met])).toEqual([
      ['one-key commit ÷ bound', true],
      ['N = 100,000, C = 1 ÷ better-sqlite3', false],
      ['get | hit ÷ Redis', true],
      ['conflicts between disjoint keys', true],
      ['filtered recall', false],
    ]);
    expect(json.notMeasured.map((r) => [r.name, r.script])).toEqual([
      ['PostgreSQL, 1, 4 and 8 processes', 'tx'],
      ['first read, N = 1,000,000', 'kv-point'],
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
    expect(groups.map((g) => g[1])).toEqual(['met', 'missed', 'met', 'met', 'missed']);
    expect(groups[1]?.[0]).toContain('fill="#c62828"');
    expect(groups[1]?.[0]).toContain('0.47×');
    expect(groups[0]?.[0]).toContain('fill="#2e7d32"');
    // A value with a unit is not drawn as a ratio bar: its text says met or missed.
    expect(groups[4]?.[0]).not.toContain('<rect');
    expect(groups[4]?.[0]).toContain('missed: target ≥ 0.95 recall@10');
    expect(groups[4]?.[0]).toContain('0.912 recall@10');
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

  it('reads a ratio written as null as missed, and unmeasured targets, when a result holds them', () => {
    dir = mkdtempSync(join(tmpdir(), 'proto-bench-report-'));
    const log = new TargetLog();
    const spec = { workload: 'ANN', name: 'IVF ÷ exact', target: { atLeast: 10 } };
    log.add(spec, Number.NaN, 'no nprobe reached recall 0.95');
    log.compare(
      { ...spec, name: 'exact ÷ brute force' },
      { value: 3, text: '3 QPS' },
      undefined,
      '--no-hnsw',
    );
    log.compare({ ...spec, name: 'a ÷ b' }, { value: 30, text: '30 QPS' }, { value: 2, text: '2 QPS' }, '');
    writeFileSync(
      join(dir, 'ann-2026-01-01T10-00-00.json'),
      // Parsed options under `args` (as older results have them) are not a command line.
      JSON.stringify({ args: { sizes: [1] }, ratios: log.ratios, notMeasured: log.notMeasured }),
    );
    const [found] = newestResults(dir, ['ann']);
    expect(found?.args).toEqual([]);
    expect(found?.ratios?.map((r) => [r.name, r.value, r.detail])).toEqual([
      ['IVF ÷ exact', Number.NaN, 'no nprobe reached recall 0.95'],
      ['a ÷ b', 15, '30 QPS ÷ 2 QPS'],
    ]);
    expect(found?.notMeasured).toEqual([{ ...spec, name: 'exact ÷ brute force', reason: '--no-hnsw' }]);
    const report = buildReport(found === undefined ? [] : [found], ['ann']);
    expect(report.rows.map((r) => r.met)).toEqual([false, true]);
    expect(tableRows(report.markdown)[0]).toBe(
      '| ANN | IVF ÷ exact | n/a (no nprobe reached recall 0.95) | ≥ 10× | **missed** | `ann` |',
    );
    expect(report.markdown).not.toContain('Ran but recorded no ratios yet');
    expect(report.markdown).not.toContain('smaller size than the card names');
  });

  it("checks a target at the card's size when it ran, else at the largest size, marked", () => {
    expect(sizeForTarget(100_000, [10_000, 100_000, 1_000_000])).toEqual({ n: 100_000, offCard: {} });
    expect(sizeForTarget(1_000_000, [10_000, 100_000])).toEqual({
      n: 100_000,
      offCard: { cardSize: 1_000_000 },
    });
  });
});
