/**
 * The bench report from the workloads' results: a Markdown table of every ratio with its target
 * and whether it was met, the same as JSON, and an SVG chart of each ratio against its target
 * (a log scale, so 0.1× and 10× sit as far from 1× on either side). Pure: no files, no clock.
 */
import { describeTarget, meets, type RatioResult, type UnmeasuredTarget } from '../fixtures/ratios.js';

/** One workload's newest result file. */
export interface WorkloadResult {
  /** The workload's script name (`bytes`). */
  readonly script: string;
  /** The result file, relative to the repository (`apps/bench/results/bytes-<time>.json`). */
  readonly file: string;
  /** When the workload ran (ISO 8601, from the file name). */
  readonly ranAt: string;
  /** The workload's command-line arguments (`--commits=200`); none for the defaults. */
  readonly args: readonly string[];
  /** The machine line of the result, when it has one. */
  readonly machine: string | undefined;
  /** Undefined when the result holds no `ratios` (a workload not converted yet). */
  readonly ratios: readonly RatioResult[] | undefined;
  /** The targets the run had no figure for (none when the result holds no `notMeasured`). */
  readonly notMeasured: readonly UnmeasuredTarget[];
}

export interface ReportRow extends RatioResult {
  readonly met: boolean;
  readonly script: string;
  readonly file: string;
}

/** A target without a figure in the newest result of its workload. */
export interface UnmeasuredRow extends UnmeasuredTarget {
  readonly script: string;
  readonly file: string;
}

export interface Report {
  readonly rows: readonly ReportRow[];
  readonly notMeasured: readonly UnmeasuredRow[];
  /** Scripts that ran but wrote no ratios, and scripts with no result at all. */
  readonly withoutRatios: readonly string[];
  readonly notRun: readonly string[];
  readonly markdown: string;
  readonly json: string;
  readonly svg: string;
}

export function buildReport(results: readonly WorkloadResult[], workloads: readonly string[]): Report {
  const rows: ReportRow[] = results.flatMap((result) =>
    (result.ratios ?? []).map((ratio) => ({
      ...ratio,
      met: meets(ratio.value, ratio.target),
      script: result.script,
      file: result.file,
    })),
  );
  const notMeasured: UnmeasuredRow[] = results.flatMap((result) =>
    result.notMeasured.map((target) => ({ ...target, script: result.script, file: result.file })),
  );
  const withoutRatios = results
    .filter((r) => r.ratios === undefined && r.notMeasured.length === 0)
    .map((r) => r.script);
  const notRun = workloads.filter((name) => !results.some((r) => r.script === name));
  const json = `${JSON.stringify(
    {
      results: results.map(({ ratios: _ratios, notMeasured: _notMeasured, ...rest }) => rest),
      rows,
      notMeasured,
      withoutRatios,
      notRun,
    },
    null,
    2,
  )}\n`;
  return {
    rows,
    notMeasured,
    withoutRatios,
    notRun,
    markdown: markdownOf(rows, notMeasured, results, withoutRatios, notRun),
    json,
    svg: svgOf(rows),
  };
}

const cell = (text: string) => text.replaceAll('|', '\\|');
/** `0.81×` for a ratio; `0.997 recall@10`, `0 conflicts` for a value with a unit. */
function valueText(value: number, unit?: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === undefined) return `${value.toFixed(2)}×`;
  return `${Number.isInteger(value) ? String(value) : value.toFixed(3)} ${unit}`;
}

function markdownOf(
  rows: readonly ReportRow[],
  notMeasured: readonly UnmeasuredRow[],
  results: readonly WorkloadResult[],
  withoutRatios: readonly string[],
  notRun: readonly string[],
): string {
  const met = rows.filter((r) => r.met).length;
  const offCard = rows.filter((r) => r.cardSize !== undefined).length;
  const lines = [
    '# Bench report',
    '',
    'Every ratio the benchmark card sets a target for, from the newest result of each workload',
    '(`bash tooling/scripts/run.sh bench` writes this page; method and history in',
    '[`apps/bench/README.md`](../../apps/bench/README.md)). Ratios are ProtoBase ÷ peer unless',
    'the row says otherwise.',
    '',
    `**${met} of ${rows.length} targets met**${notMeasured.length > 0 ? `; ${notMeasured.length} more [not measured](#not-measured)` : ''}. Chart: [ratios.svg](ratios.svg); data: [report.json](report.json).`,
    '',
    ...(offCard === 0
      ? []
      : [
          `${offCard} of these rows come from a run at a smaller size than the card names (marked "card: N = ..."); \`bash tooling/scripts/run.sh bench --full\` measures every target at the card's size.`,
          '',
        ]),
    '| workload | ratio | measured | target | met | from |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${cell(r.workload)} | ${cell(r.name)}${r.cardSize === undefined ? '' : ` (card: N = ${r.cardSize.toLocaleString('en-US')})`} | ${valueText(r.value, r.unit)}${r.detail ? ` (${cell(r.detail)})` : ''} | ${describeTarget(r.target, r.unit)} | ${r.met ? 'met' : '**missed**'} | \`${r.script}\` |`,
    ),
    '',
    ...(notMeasured.length === 0
      ? []
      : [
          '## Not measured',
          '',
          'Targets the newest result of their workload has no figure for, and why.',
          '',
          '| workload | target of | target | why not measured | from |',
          '| --- | --- | --- | --- | --- |',
          ...notMeasured.map(
            (r) =>
              `| ${cell(r.workload)} | ${cell(r.name)} | ${describeTarget(r.target, r.unit)} | ${cell(r.reason)} | \`${r.script}\` |`,
          ),
          '',
        ]),
    '## Runs',
    '',
    '| workload | ran at | arguments | machine | result file |',
    '| --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| \`${r.script}\` | ${r.ranAt} | ${r.args.length === 0 ? 'defaults' : cell(r.args.map((a) => `\`${a}\``).join(' '))} | ${cell(r.machine ?? 'not recorded')} | \`${r.file}\` |`,
    ),
  ];
  if (withoutRatios.length > 0)
    lines.push('', `Ran but recorded no ratios yet: ${withoutRatios.map((s) => `\`${s}\``).join(', ')}.`);
  if (notRun.length > 0) lines.push('', `No result yet: ${notRun.map((s) => `\`${s}\``).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/**
 * Horizontal bars on a log scale from 0.01× to 100×; the target is a tick, the bar green or red.
 * A value with a unit (not a ratio) gets its met / missed text in place of a bar.
 */
function svgOf(rows: readonly ReportRow[]): string {
  const rowHeight = 22;
  const labelWidth = 420;
  const plotWidth = 420;
  const top = 40;
  const height = top + rows.length * rowHeight + 30;
  const width = labelWidth + plotWidth + 90;
  const [low, high] = [0.01, 100];
  const x = (value: number) => {
    const clamped = Math.min(high, Math.max(low, value));
    return (
      labelWidth +
      ((Math.log10(clamped) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * plotWidth
    );
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>ProtoBase bench: ratios against their targets</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">Ratios against targets (log scale; tick = target, green = met, red = missed)</text>`,
  ];
  for (const tick of [0.01, 0.1, 1, 10, 100]) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 24}" stroke="#dddddd"/>`,
      `<text x="${tx}" y="${height - 10}" text-anchor="middle" fill="#555555">${tick}×</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const label = `${row.workload}: ${row.name}`;
    const shown = label.length > 64 ? `${label.slice(0, 63)}…` : label;
    const colour = row.met ? '#2e7d32' : '#c62828';
    parts.push(
      `<g class="${row.met ? 'met' : 'missed'}">`,
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(shown)}</text>`,
    );
    if (row.unit === undefined) {
      const barEnd = Number.isFinite(row.value) ? x(row.value) : labelWidth;
      parts.push(
        `<rect x="${labelWidth}" y="${y + 4}" width="${Math.max(1, barEnd - labelWidth).toFixed(1)}" height="${rowHeight - 8}" fill="${colour}"/>`,
      );
      for (const bound of [row.target.atLeast, row.target.atMost]) {
        if (bound === undefined) continue;
        const bx = x(bound).toFixed(1);
        parts.push(
          `<line x1="${bx}" y1="${y + 1}" x2="${bx}" y2="${y + rowHeight - 1}" stroke="#000000" stroke-width="2"/>`,
        );
      }
    } else {
      // Not a ratio (a count, a recall): no place on the ratio axis, only the value against its target.
      parts.push(
        `<text x="${labelWidth + 8}" y="${y + 14}" fill="${colour}">${escapeXml(`${row.met ? 'met' : 'missed'}: target ${describeTarget(row.target, row.unit)}`)}</text>`,
      );
    }
    parts.push(
      `<text x="${labelWidth + plotWidth + 8}" y="${y + 14}">${escapeXml(valueText(row.value, row.unit))}</text>`,
      '</g>',
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
