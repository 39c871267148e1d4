/**
 * Runs a package's TypeScript test fixtures (`test/fixtures/*.ts`) as child processes and reads
 * their output, for the backends' multi-process and crash tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FixtureProcess {
  readonly child: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Resolves with the exit code and signal once the process exited and its output was read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Resolves when a line satisfying `predicate` has been printed (rejects if the process ends first). */
  waitForLine(predicate: (line: string, index: number) => boolean): Promise<void>;
  /** Calls `listener` for every complete line, including those already printed. */
  onLine(listener: (line: string, index: number) => void): void;
}

/**
 * `runFixture(name, args)` for the package at `packageDir`: starts `node
 * --conditions=@proto/source --import tsx test/fixtures/<name> ...args` there.
 */
export function fixtureRunner(packageDir: URL): (name: string, args: readonly string[]) => FixtureProcess {
  const cwd = fileURLToPath(packageDir);
  return (name, args) => runFixture(cwd, name, args);
}

function runFixture(cwd: string, name: string, args: readonly string[]): FixtureProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=@proto/source', '--import', 'tsx', `test/fixtures/${name}`, ...args],
    { cwd, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const listeners: ((line: string, index: number) => void)[] = [];
  let partial = '';
  let errors = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const listener of listeners) listener(line, lines.length - 1);
    }
  });
  child.stderr?.on('data', (chunk: string) => {
    errors += chunk;
  });
  // The child may be killed before it reads stdin; a broken pipe there is expected.
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const onLine = (listener: (line: string, index: number) => void) => {
    for (const [index, line] of lines.entries()) listener(line, index);
    listeners.push(listener);
  };
  return {
    child,
    lines,
    exited,
    stderr: () => errors,
    onLine,
    waitForLine(predicate) {
      return new Promise<void>((resolve, reject) => {
        let found = false;
        onLine((line, index) => {
          if (!found && predicate(line, index)) {
            found = true;
            resolve();
          }
        });
        exited.then(({ code, signal }) => {
          if (!found)
            reject(new Error(`fixture ${name} ended (code ${code}, signal ${signal}) first:\n${errors}`));
        }, reject);
      });
    },
  };
}

/** The `ack <pointer> <counter>` lines of a commit-loop fixture. */
export function acknowledgements(lines: readonly string[]): { pointer: string; counter: number }[] {
  return lines
    .filter((line) => line.startsWith('ack '))
    .map((line) => {
      const [, pointer = '', counter = ''] = line.split(' ');
      return { pointer, counter: Number(counter) };
    });
}
