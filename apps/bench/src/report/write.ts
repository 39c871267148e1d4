/**
 * Reads the newest result of each workload in `apps/bench/results/` and writes the bench report
 * into `docs/bench/` (`report.md`, `report.json`, `ratios.svg`).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RatioResult, UnmeasuredTarget } from '../fixtures/ratios.js';
import { BENCH_DIR, type Machine, machineLine } from '../fixtures/timing.js';
import { buildReport, type Report, type WorkloadResult } from './render.js';

const REPOSITORY_ROOT = join(BENCH_DIR, '..', '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const REPORT_DIR = join(REPOSITORY_ROOT, 'docs', 'bench');

/** The newest `<workload>-<time>.json` of each workload in `dir`. */
export function newestResults(dir: string, workloads: readonly string[]): WorkloadResult[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const results: WorkloadResult[] = [];
  for (const script of workloads) {
    const pattern = new RegExp(`^${script}-(\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d)\\.json$`);
    const newest = files
      .map((file) => ({ file, stamp: pattern.exec(file)?.[1] }))
      .filter((f): f is { file: string; stamp: string } => f.stamp !== undefined)
      .sort((a, b) => a.stamp.localeCompare(b.stamp))
      .at(-1);
    if (newest === undefined) continue;
    const json = JSON.parse(readFileSync(join(dir, newest.file), 'utf8')) as {
      machine?: Machine;
      args?: unknown;
      ratios?: (Omit<RatioResult, 'value'> & { value: number | null })[];
      notMeasured?: UnmeasuredTarget[];
    };
    const [day, time = ''] = newest.stamp.split('T');
    results.push({
      script,
      file: relative(REPOSITORY_ROOT, join(dir, newest.file)),
      ranAt: `${day} ${time.replaceAll('-', ':')} UTC`,
      machine: json.machine?.cores === undefined ? undefined : machineLine(json.machine),
      // Older results of some workloads kept their parsed options under `args`.
      args: Array.isArray(json.args) ? json.args.map(String) : [],
      // JSON has no NaN: a ratio the run could not form (`NaN`) was written as `null`.
      ratios: json.ratios?.map((ratio) => ({ ...ratio, value: ratio.value ?? Number.NaN })),
      notMeasured: json.notMeasured ?? [],
    });
  }
  return results;
}

/** Builds the report from `resultsDir` and writes it to `reportDir`. */
export function writeReport(
  workloads: readonly string[],
  resultsDir = RESULTS_DIR,
  reportDir = REPORT_DIR,
): Report {
  const report = buildReport(newestResults(resultsDir, workloads), workloads);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, 'report.md'), report.markdown);
  writeFileSync(join(reportDir, 'report.json'), report.json);
  writeFileSync(join(reportDir, 'ratios.svg'), report.svg);
  return report;
}
