/**
 * Writes the bench report (`docs/bench/`) from the newest result of each workload, without
 * running any: `main.ts` does this after its workloads; run it alone to rebuild the report.
 *
 *   node --import tsx src/report.ts
 */
import { relative } from 'node:path';
import { REPORT_DIR, writeReport } from './report/write.js';
import { WORKLOADS } from './workloads.js';

const report = writeReport(WORKLOADS);
console.log(
  `bench report: ${report.rows.filter((r) => r.met).length} of ${report.rows.length} targets met, ${report.notMeasured.length} not measured; ${relative(process.cwd(), REPORT_DIR)}/report.md`,
);
