/**
 * Runs every benchmark workload in turn, each in its own process so that one workload's heap
 * and caches do not colour the next. Arguments (`--full`, ...) pass through to each workload.
 * Then writes the bench report (`docs/bench/`: report.md, report.json, ratios.svg) from the
 * newest result of every workload, so a subset run refreshes its own rows only.
 *
 *   bash tooling/scripts/run.sh bench            # from the repository root
 *   pnpm bench -- --full                          # adds the 1M sizes
 *   pnpm bench -- --only=kv-point,tx              # a subset
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPORT_DIR, writeReport } from './report/write.js';
import { WORKLOADS } from './workloads.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const passed = args.filter((a) => !a.startsWith('--only='));
const unknown = only?.filter((name) => !(WORKLOADS as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown workload(s): ${unknown.join(', ')}; choose from ${WORKLOADS.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of WORKLOADS) {
  if (only !== undefined && !only.includes(name)) continue;
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  console.log(`\n# ${name}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', script, ...passed], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    console.error(`workload ${name} failed (exit ${result.status ?? result.signal})`);
  }
}
const report = writeReport(WORKLOADS);
console.log(
  `\n# report\n\n${report.rows.filter((r) => r.met).length} of ${report.rows.length} targets met, ${report.notMeasured.length} not measured: ${REPORT_DIR}/report.md`,
);
process.exitCode = failed > 0 ? 1 : 0;
