/**
 * Progress of long jobs on stderr, drawn by `cli-progress` when stderr is a terminal and
 * silent otherwise (pipes, CI, `--json`), so that scripts read clean output.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Sets the units done (and the total when it becomes known). */
  update(done: number, total?: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

export function progress(
  label: string,
  options: { readonly quiet: boolean; readonly unit: string },
): Progress {
  if (options.quiet || process.stderr.isTTY !== true) return SILENT;
  let total = 0;
  let started = false;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} ${options.unit} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    },
    undefined,
  );
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      // An unknown total grows with the work, so the bar shows a count.
      const shown = Math.max(total, done);
      if (!started) {
        bar.start(shown, done);
        started = true;
      } else {
        bar.setTotal(shown);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
