/**
 * Power loss, proved by crash-state enumeration: every workload runs once on the simulated
 * disk of `fixtures/power-loss-fs.ts`; the checker cuts its record at every crash point (or a
 * seeded sample of them), draws the disk images the simulator's rules allow there, and checks
 * that each opens with every acknowledged commit intact and no partial one (see
 * `fixtures/power-loss-check.ts`). Deliberately broken backends must be caught.
 *
 * A bounded sample; `scripts/power-loss-full.ts` runs the full enumeration. `PROTO_POWER_SEED`
 * (or `PROTO_SEED`) fixes the seed; every failure names it.
 */
import { describe, expect, it } from 'vitest';
import {
  type EnumerationOptions,
  type EnumerationReport,
  enumerateCrashes,
  formatViolation,
  powerSeed,
} from './fixtures/power-loss-check.js';
import { BROKEN_VARIANTS } from './fixtures/power-loss-variants.js';
import {
  type RecordedRun,
  recordCompaction,
  recordRecovery,
  recordWorkload,
  WORKLOADS,
  type Workload,
} from './fixtures/power-loss-workloads.js';

const seed = powerSeed();

function workload(name: string): Workload {
  const found = WORKLOADS.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no workload ${name}`);
  return found;
}

async function expectNoViolation(run: RecordedRun, options: Omit<EnumerationOptions, 'seed'>) {
  const report = await enumerateCrashes(run, { seed, ...options });
  expect(report.violations.map(formatViolation), `seed ${seed}`).toEqual([]);
  expect(report.images).toBeGreaterThanOrEqual(report.checkedPoints);
  return report;
}

describe('storage-wal: power loss (crash-state enumeration)', () => {
  for (const each of WORKLOADS) {
    it(`keeps every acknowledged commit whole at every crash point: ${each.name}`, async () => {
      const report = await expectNoViolation(await recordWorkload(each), {
        imagesPerPoint: 4,
        exhaustiveNames: 3,
      });
      expect(report.checkedPoints).toBe(report.crashPoints);
    });
  }

  it('keeps every acknowledged commit whole at sampled crash points of longer runs', async () => {
    for (const name of ['segment rollover', 'concurrent commits sharing an fsync']) {
      const report = await expectNoViolation(await recordWorkload(workload(name), { scale: 4 }), {
        imagesPerPoint: 3,
        maxPoints: 40,
      });
      expect(report.crashPoints).toBeGreaterThan(report.checkedPoints);
    }
  });

  it('survives a power loss during recovery from a power loss', async () => {
    for (const name of ['segment rollover', 'close and reopen']) {
      const run = await recordRecovery(await recordWorkload(workload(name)), seed);
      await expectNoViolation(run, { imagesPerPoint: 4, exhaustiveNames: 3 });
    }
  });

  it('survives a power loss after the fdatasync of a recovery repair failed and the open was retried', async () => {
    const source = await recordWorkload(workload('segment rollover'));
    const run = await recordRecovery(source, seed, { failRepairSync: true });
    expect(run.fs.events.some((event) => event.kind === 'sync-failed')).toBe(true);
    await expectNoViolation(run, { imagesPerPoint: 3, exhaustiveNames: 3 });
  });

  it('opens with the same root and contents at every crash point of compactWal, touching nothing outside', async () => {
    const run = await recordCompaction({ versions: 6, segmentBytes: 1024 });
    const report = await expectNoViolation(run, { imagesPerPoint: 4, exhaustiveNames: 6 });
    expect(report.checkedPoints).toBe(report.crashPoints);
    // the run did switch: its record holds the new manifest and the deletion of the old segments
    expect(run.compaction?.roots[1]).not.toBe(run.compaction?.roots[0]);
    expect(run.fs.events.filter((event) => event.kind === 'unlink').length).toBeGreaterThan(1);
  });

  it('issue 16: keeps the first commit of a new database when the new directory entry was not synced', async () => {
    // The crash that found it: after the first acknowledged commit, an image where nothing
    // pending landed. The directory's name in its parent was never synced, so the whole
    // database, MANIFEST and segments, vanished.
    const run = await recordWorkload({
      name: 'one commit',
      segmentBytes: 1 << 20,
      async run(session) {
        const backend = await session.open();
        const [pointer] = await backend.writeAtoms([new Uint8Array([1, 2, 3])]);
        await backend.compareAndSetRoot(null, pointer as string);
        await backend.close();
      },
    });
    const syncedParent = run.fs.events.some(
      (event) => event.kind === 'syncdir-start' && event.path === '/sim',
    );
    expect(syncedParent).toBe(true);
    await expectNoViolation(run, { imagesPerPoint: 2, exhaustiveNames: 8 });
  });

  it('issue 16: does not build on a commit whose fdatasync failed when reopened in the same boot', async () => {
    // The crash that found it: fdatasync of commit 2 fails (its writes are lost, yet still
    // read from the page cache); the database is closed and reopened, recovery found commit 2
    // and the next commits built on it; a power loss after they were acknowledged then lost
    // commit 2's atoms from under them. Now the failed sync cuts the unacknowledged tail off.
    const run = await recordWorkload(workload('fdatasync fails, then reopen'));
    const failed = run.commits.filter((commit) => commit.failed);
    expect(failed.map((commit) => commit.index)).toEqual([2]);
    expect(run.fs.events.some((event) => event.kind === 'sync-failed')).toBe(true);
    expect(run.commits.filter((commit) => commit.won)).toHaveLength(4);
    await expectNoViolation(run, { imagesPerPoint: 2 });
  });

  describe('test of the test: a broken backend is caught', () => {
    for (const variant of BROKEN_VARIANTS) {
      it(`finds a violation in a backend that ${variant.name}`, async () => {
        const run =
          variant.workload === 'compaction'
            ? await recordCompaction({ versions: 6, segmentBytes: 1024, wrap: variant.wrap })
            : await recordWorkload(workload(variant.workload), { wrap: variant.wrap });
        const report: EnumerationReport = await enumerateCrashes(run, {
          seed,
          imagesPerPoint: 3,
          exhaustiveNames: 4,
          maxViolations: 1,
        });
        expect(report.violations, `seed ${seed}`).toHaveLength(1);
      });
    }
  });
});
