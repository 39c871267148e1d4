/**
 * The commands that check and rewrite storage: `verify`, `compact` (WAL, offline), `reclaim`
 * (SQLite, online) and `backup` (a consistent copy into a new location of either backend).
 */
import type { VerifyReport } from '@proto/atom';
import { compactWal } from '@proto/storage-wal';
import { CliError } from './errors.js';
import {
  type BackendKind,
  checkNewLocation,
  detect,
  kindForNew,
  type Opened,
  openBackend,
  openSpace,
  sizeOnDisk,
} from './open.js';
import { type Context, formatBytes, formatCount, print, printJson } from './output.js';
import { progress } from './progress.js';

export async function verify(opened: Opened, ctx: Context): Promise<VerifyReport> {
  const bar = progress('verify', { quiet: ctx.quiet || ctx.json, unit: 'atoms' });
  let report: VerifyReport;
  try {
    report = await opened.space.verify({ onProgress: (p) => bar.update(p.atoms) });
  } finally {
    bar.stop();
  }
  if (ctx.json) printJson(report);
  else {
    for (const p of report.problems)
      print(
        `damaged: atom ${p.pointer}${p.parent === undefined ? ' (the root)' : ` (referred to by ${p.parent})`}: ${p.message}`,
      );
    print(
      report.problems.length === 0
        ? `ok: ${formatCount(report.atoms)} atoms read and decoded from commit #${report.sequence} and its kept history`
        : `${report.problems.length}${report.truncated ? '+' : ''} damaged atom${report.problems.length === 1 ? '' : 's'}; ${formatCount(report.atoms)} atoms read fine`,
    );
  }
  return report;
}

export async function compact(path: string, backend: BackendKind | undefined, ctx: Context): Promise<void> {
  const kind = detect(path, backend);
  if (kind !== 'wal')
    throw new CliError(
      'usage',
      `${path} is an SQLite database: use "proto reclaim", which runs while it is open`,
    );
  const bar = progress('compact', { quiet: ctx.quiet || ctx.json, unit: 'atoms' });
  let phase = '';
  const report = await compactWal(path, {
    onProgress: (p) => {
      if (p.phase !== phase) phase = p.phase;
      bar.update(p.done, p.total);
    },
  }).finally(() => bar.stop());
  if (ctx.json) printJson(report);
  else
    print(
      `compacted ${path}: ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}, ${formatCount(report.liveAtoms)} atoms kept`,
    );
}

export async function reclaim(path: string, backend: BackendKind | undefined, ctx: Context): Promise<void> {
  const kind = detect(path, backend);
  if (kind !== 'sqlite')
    throw new CliError(
      'usage',
      `${path} is a WAL database: use "proto compact" while no process has it open`,
    );
  const opened = await openSpace(path, { backend: kind, write: true });
  const bar = progress('reclaim', { quiet: ctx.quiet || ctx.json, unit: 'atoms' });
  try {
    const report = await opened.space.reclaim({ onProgress: (p) => bar.update(p.done, p.total) });
    bar.stop();
    if (ctx.json) printJson(report);
    else
      print(
        `reclaimed ${path}: ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}, ${formatCount(report.liveAtoms)} atoms kept`,
      );
  } finally {
    bar.stop();
    await opened.space.close();
  }
}

export async function backup(
  opened: Opened,
  to: string,
  toBackend: BackendKind | undefined,
  ctx: Context,
): Promise<void> {
  checkNewLocation(to);
  const kind = kindForNew(to, toBackend);
  const target = await openBackend(to, kind, { readOnly: false });
  const bar = progress('backup', { quiet: ctx.quiet || ctx.json, unit: 'atoms' });
  try {
    const report = await opened.space.backup(target, { onProgress: (p) => bar.update(p.atoms) });
    bar.stop();
    await target.close();
    const result = { ...report, to, backend: kind, bytesOnDisk: sizeOnDisk(to, kind) };
    if (ctx.json) printJson(result);
    else
      print(
        `backed up commit #${report.sequence} of ${opened.path} to ${to} (${kind}): ${formatCount(report.atoms)} atoms, ${formatBytes(report.bytes)}`,
      );
  } catch (error) {
    bar.stop();
    await target.close().catch(() => undefined);
    throw error;
  }
}
