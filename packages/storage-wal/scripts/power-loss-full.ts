/**
 * The full power-loss enumeration: every crash point of every workload (and of `compactWal`),
 * several disk images each, checked against the storage contract. Prints counts per workload
 * and every violation with the seed to replay it.
 *
 *   cd packages/storage-wal
 *   node --conditions=@proto/source --import tsx scripts/power-loss-full.ts [--images 6] [--seed 1234]
 *
 * `PROTO_POWER_SEED` works too. The bounded sample of `test/power-loss.test.ts` runs the same
 * checks on fewer crash points.
 */
import { parseArgs } from 'node:util';
import {
  type EnumerationReport,
  enumerateCrashes,
  formatViolation,
  powerSeed,
} from '../test/fixtures/power-loss-check.js';
import {
  type RecordedRun,
  recordCompaction,
  recordRecovery,
  recordWorkload,
  WORKLOADS,
} from '../test/fixtures/power-loss-workloads.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '6' },
    names: { type: 'string', default: '8' },
    seed: { type: 'string' },
    workload: { type: 'string' },
    point: { type: 'string' },
  },
});
const imagesPerPoint = Number(values.images);
const seed = values.seed === undefined ? powerSeed() : Number(values.seed);
if (!Number.isInteger(imagesPerPoint) || imagesPerPoint < 1 || !Number.isSafeInteger(seed)) {
  throw new Error('usage: power-loss-full.ts [--images <n>] [--seed <n>] [--workload <name>] [--point <n>]');
}
console.log(`power-loss enumeration: ${imagesPerPoint} images per crash point, seed ${seed}`);

const started = performance.now();
const runs: (() => Promise<RecordedRun>)[] = [
  ...WORKLOADS.map((workload) => () => recordWorkload(workload)),
  // the workloads with an injected failure make the same commits at any scale
  ...WORKLOADS.filter((workload) => workload.wrap === undefined).map(
    (workload) => () => recordWorkload(workload, { scale: 4 }),
  ),
  ...WORKLOADS.map((workload) => async () => recordRecovery(await recordWorkload(workload), seed)),
  async () =>
    recordRecovery(await recordWorkload(WORKLOADS[2] as (typeof WORKLOADS)[number]), seed, {
      failRepairSync: true,
    }),
  () => recordCompaction({ versions: 6, segmentBytes: 1024 }),
  () => recordCompaction({ name: 'compaction of 20 versions', versions: 20, segmentBytes: 2048 }),
];
const reports: EnumerationReport[] = [];
for (const record of runs) {
  const run = await record();
  if (values.workload !== undefined && run.name !== values.workload) continue;
  const report = await enumerateCrashes(run, {
    seed,
    imagesPerPoint,
    maxViolations: 20,
    exhaustiveNames: Number(values.names),
    ...(values.point === undefined ? {} : { onlyPoint: Number(values.point) }),
  });
  reports.push(report);
  console.log(
    `${report.workload}: ${report.events} events, ${report.crashPoints} crash points, ${report.checkedPoints} checked, ${report.images} images, ${report.violations.length} violations`,
  );
  for (const violation of report.violations) console.log(`  ${formatViolation(violation)}`);
}
const images = reports.reduce((sum, report) => sum + report.images, 0);
const points = reports.reduce((sum, report) => sum + report.checkedPoints, 0);
const violations = reports.reduce((sum, report) => sum + report.violations.length, 0);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `total: ${reports.length} workloads, ${points} crash points, ${images} images, ${violations} violations, ${seconds} s`,
);
if (violations > 0) process.exitCode = 1;
