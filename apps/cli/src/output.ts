/**
 * Writing results: human-readable lines by default, one JSON document with `--json`; large
 * outputs are streamed with backpressure (a slow pipe holds the producer, never a buffer).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Key } from '@proto/collections';
import { collectionText } from './collections.js';
import { CliError } from './errors.js';
import { type Json, ValueText } from './values.js';

export const text = new ValueText(collectionText);

export interface Context {
  readonly json: boolean;
  readonly quiet: boolean;
}

/** A line sink that waits when the stream's buffer is full. */
export class LineWriter {
  readonly #stream: Writable;
  readonly #owned: boolean;
  constructor(target: string | undefined) {
    this.#owned = target !== undefined && target !== '-';
    this.#stream = this.#owned ? createWriteStream(target as string) : process.stdout;
  }

  async line(value: string): Promise<void> {
    if (!this.#stream.write(`${value}\n`))
      await new Promise((resolve) => this.#stream.once('drain', resolve));
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    const stream = this.#stream as WriteStream;
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
  }
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A value as one line of tagged JSON. */
export function valueLine(value: unknown): string {
  return JSON.stringify(text.toJson(value));
}

/**
 * A key given on the command line: tagged JSON when it parses as JSON (`42`, `"42"`,
 * `{"$date":"2026-01-01T00:00:00.000Z"}`, `[1,"a"]`), otherwise the text itself as a string.
 */
export function parseKey(arg: string): Key {
  let json: Json;
  try {
    json = JSON.parse(arg) as Json;
  } catch {
    return arg;
  }
  const key = text.fromJson(json);
  if (
    typeof key === 'object' &&
    key !== null &&
    !(key instanceof Date) &&
    !(key instanceof Uint8Array) &&
    !Array.isArray(key)
  )
    throw new CliError(
      'usage',
      `${arg} is not a key (keys are strings, numbers, bigints, booleans, null, dates, bytes or arrays of them)`,
    );
  return key as Key;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
