/**
 * The value encoder: walks a value with an explicit stack (so nesting depth is bounded by
 * `MAX_DEPTH`, not by the JavaScript call stack) and writes tags into one `ByteWriter`.
 */
import { Buffer } from 'node:buffer';
import type { AtomPointer } from '../storage/backend.js';
import { invalidArgument, tooLarge } from './failures.js';
import { LazyValue } from './lazy.js';
import { describeValue, formatPath } from './path.js';
import {
  HEADER_SIZE,
  MAX_ARRAY_LENGTH,
  MAX_DEPTH,
  MAX_POINTER_LENGTH,
  TAG_ARRAY,
  TAG_BYTES,
  TAG_DATE,
  TAG_FALSE,
  TAG_HOLES,
  TAG_NULL,
  TAG_OBJECT,
  TAG_POINTER,
  TAG_SEGMENT,
  TAG_STRING,
  TAG_TRUE,
  TAG_UNDEFINED,
} from './tags.js';
import { ByteWriter } from './writer.js';

/** The reference hook of `EncodeOptions`. */
export type ReferenceHook = (value: object) => AtomPointer | undefined;

/** The segment hook of `EncodeOptions`: a segment's value and the span it got in the frame. */
export type SegmentReport = (value: LazyValue, start: number, end: number) => void;

/** One array or object being written. */
interface Frame {
  container: object | null;
  isObject: boolean;
  /** Objects: where their entries start in the encoder's `entryKeys`/`entryValues`. */
  base: number;
  /** Sparse arrays: the indices present at or after the first hole, ascending; else null. */
  present: number[] | null;
  cursor: number;
  /** Next entry (objects) or element (arrays) to write; the one in progress is `index - 1`. */
  index: number;
  /** Entry count or array length. */
  length: number;
}

/** Ancestors up to this depth are checked for cycles by a scan; deeper ones through a Set. */
const SHALLOW = 32;
/** Frames kept between encodes; deeper stacks are released after use. */
const KEPT_FRAMES = 1024;
/** Output buffers larger than this are not kept for the next encode. */
const KEPT_BUFFER = 1 << 16;

const getTime = Date.prototype.getTime;

/** True when something added enumerable properties to Object.prototype (so for-in would see them). */
function prototypePolluted(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

function isCanonicalIndex(key: string, length: number): number {
  const index = Number(key);
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === key ? index : -1;
}

/** Encodes values into frame bodies. Reusable: `begin`, write, then `end`. */
export class Encoder {
  readonly out = new ByteWriter(256);
  private readonly frames: Frame[] = [];
  private depth = 0;
  private deep: Set<object> | null = null;
  private reference: ReferenceHook | undefined = undefined;
  /**
   * The entries of the open objects, stacked: an object's keys and values are read in one pass
   * when it is entered (for-in, which V8 serves from its enum cache) instead of one keyed
   * load per property later.
   */
  private readonly entryKeys: string[] = [];
  private readonly entryValues: unknown[] = [];
  private entryTop = 0;
  private entryHigh = 0;
  /** for-in is only exact while Object.prototype has no enumerable properties. */
  private forIn = true;
  /** The object space of the frame: stored `LazyValue`s of this origin are copied as bytes. */
  private origin: unknown = undefined;
  /** The open segment: where its uint32 length goes (-1: none) and the depth it started at. */
  private segmentAt = -1;
  private segmentDepth = -1;
  /** The value of the open segment, reported to `onSegment` when it closes. */
  private segmentValue: LazyValue | undefined = undefined;
  private onSegment: SegmentReport | undefined = undefined;

  /** Starts a frame: leaves room for the header. */
  begin(reference: ReferenceHook | undefined, origin?: unknown, onSegment?: SegmentReport): void {
    this.out.pos = HEADER_SIZE;
    this.reference = reference;
    this.origin = origin;
    this.onSegment = onSegment;
    this.forIn = !prototypePolluted();
  }

  /** Drops references to user values so a pooled encoder retains nothing. */
  end(): boolean {
    for (let i = 0; i < this.depth; i++) this.release(this.frames[i]!);
    this.depth = 0;
    this.deep = null;
    this.reference = undefined;
    this.origin = undefined;
    this.segmentAt = -1;
    this.segmentDepth = -1;
    this.segmentValue = undefined;
    this.onSegment = undefined;
    this.entryValues.fill(undefined, 0, this.entryHigh);
    this.entryTop = 0;
    this.entryHigh = 0;
    if (this.frames.length > KEPT_FRAMES) this.frames.length = KEPT_FRAMES;
    if (this.entryKeys.length > KEPT_FRAMES) {
      this.entryKeys.length = KEPT_FRAMES;
      this.entryValues.length = KEPT_FRAMES;
    }
    return this.out.buf.length <= KEPT_BUFFER;
  }

  /** Writes one complete value. */
  value(root: unknown): void {
    this.write(root);
    const out = this.out;
    while (this.depth > 0) {
      const frame = this.frames[this.depth - 1]!;
      if (frame.isObject) {
        if (frame.index === frame.length) {
          this.pop();
          continue;
        }
        const entry = frame.base + frame.index++;
        out.string(this.entryKeys[entry]!);
        this.write(this.entryValues[entry]);
        continue;
      }
      const array = frame.container as unknown[];
      if (frame.index === frame.length) {
        this.pop();
        continue;
      }
      const present = frame.present;
      if (present === null) {
        const index = frame.index;
        const element = array[index];
        if (element === undefined && !(index in array)) {
          this.sparse(frame, array);
          continue;
        }
        if (element instanceof LazyValue && this.segmentAt < 0 && element.storedIn(this.origin)) {
          frame.index = this.copyRun(array, index, frame.length);
          continue;
        }
        frame.index = index + 1;
        this.write(element);
        continue;
      }
      if (frame.cursor === present.length) {
        this.holes(frame.length - frame.index);
        frame.index = frame.length;
        continue;
      }
      const index = present[frame.cursor++]!;
      if (index > frame.index) this.holes(index - frame.index);
      frame.index = index + 1;
      this.write(array[index]);
    }
  }

  private write(value: unknown): void {
    const out = this.out;
    switch (typeof value) {
      case 'string':
        out.string(value, TAG_STRING);
        return;
      case 'number':
        out.number(value);
        return;
      case 'boolean':
        out.byte(value ? TAG_TRUE : TAG_FALSE);
        return;
      case 'undefined':
        out.byte(TAG_UNDEFINED);
        return;
      case 'object':
        if (value === null) out.byte(TAG_NULL);
        else this.object(value);
        return;
      case 'bigint':
        out.bigint(value);
        return;
      default: {
        // Functions and symbols: never data, so not offered to the reference hook either.
        const path = this.path(this.depth);
        throw invalidArgument(
          `cannot encode ${describeValue(value)} at ${path}; store data, not code or symbols`,
          {
            path,
          },
        );
      }
    }
  }

  private object(value: object): void {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      this.enterObject(value as Record<string, unknown>);
      return;
    }
    if (proto === Array.prototype) {
      this.enterArray(value as unknown[]);
      return;
    }
    if (proto === Date.prototype) {
      let time: number;
      try {
        time = getTime.call(value);
      } catch {
        this.refer(value); // something built on Date.prototype that is not a Date
        return;
      }
      this.out.byte(TAG_DATE);
      this.out.float64(time);
      return;
    }
    if ((proto === Uint8Array.prototype || proto === Buffer.prototype) && ArrayBuffer.isView(value)) {
      this.out.byte(TAG_BYTES);
      this.out.bytes(value as Uint8Array);
      return;
    }
    if (proto === LazyValue.prototype) {
      this.segment(value as LazyValue);
      return;
    }
    this.refer(value);
  }

  /** Writes a segment: its bytes copied when they belong to this frame's origin, else its value. */
  private segment(lazy: LazyValue): void {
    // Segments do not nest: inside one, a lazy value is written as its plain value.
    if (this.segmentAt >= 0) {
      this.write(lazy.get());
      return;
    }
    const out = this.out;
    out.byte(TAG_SEGMENT);
    if (lazy.storedIn(this.origin)) {
      out.uint32(lazy.end - lazy.start);
      const start = out.pos;
      out.copy(lazy.bytes as Uint8Array, lazy.start, lazy.end);
      this.onSegment?.(lazy, start, out.pos);
      return;
    }
    out.ensure(4);
    this.segmentAt = out.pos;
    this.segmentDepth = this.depth;
    this.segmentValue = lazy;
    out.pos += 4;
    this.write(lazy.get());
    // A container closes its segment when its frame is popped.
    if (this.depth === this.segmentDepth) this.closeSegment();
  }

  /**
   * Copies the stored segments `array[from..)` that lie back to back in one frame with a single
   * copy (tags and lengths included), reports each, and returns the index after the run.
   */
  private copyRun(array: readonly unknown[], from: number, length: number): number {
    const first = array[from] as LazyValue;
    const bytes = first.bytes as Uint8Array;
    let end = first.end;
    let next = from + 1;
    while (next < length) {
      const item = array[next];
      if (!(item instanceof LazyValue) || item.bytes !== bytes || item.start !== end + 5) break;
      if (!item.storedIn(this.origin)) break;
      end = item.end;
      next++;
    }
    const out = this.out;
    // The tag and uint32 length before each value are copied with it.
    const runStart = first.start - 5;
    const shift = out.pos - runStart;
    out.copy(bytes, runStart, end);
    const report = this.onSegment;
    if (report !== undefined) {
      for (let i = from; i < next; i++) {
        const item = array[i] as LazyValue;
        report(item, item.start + shift, item.end + shift);
      }
    }
    return next;
  }

  private closeSegment(): void {
    const at = this.segmentAt;
    const end = this.out.pos;
    this.out.buf.writeUInt32LE(end - at - 4, at);
    this.segmentAt = -1;
    this.segmentDepth = -1;
    const lazy = this.segmentValue as LazyValue;
    this.segmentValue = undefined;
    this.onSegment?.(lazy, at + 4, end);
  }

  private enterObject(value: Record<string, unknown>): void {
    const keys = this.entryKeys;
    const values = this.entryValues;
    const base = this.entryTop;
    let top = base;
    if (this.forIn) {
      for (const key in value) {
        keys[top] = key;
        values[top++] = value[key];
      }
    } else {
      for (const key of Object.keys(value)) {
        keys[top] = key;
        values[top++] = value[key];
      }
    }
    if (top > this.entryHigh) this.entryHigh = top;
    const symbols = Object.getOwnPropertySymbols(value);
    if (symbols.length > 0) {
      const path = this.path(this.depth);
      throw invalidArgument(
        `cannot encode the symbol-keyed property ${String(symbols[0])} of the object at ${path}; use string keys`,
        { path },
      );
    }
    const count = top - base;
    this.out.byte(TAG_OBJECT);
    this.out.varint(count);
    if (count > 0) {
      this.push(value, true, base, count);
      this.entryTop = top;
    }
  }

  private enterArray(value: unknown[]): void {
    const length = value.length;
    this.out.byte(TAG_ARRAY);
    this.out.varint(length);
    if (length > 0) this.push(value, false, 0, length);
  }

  private push(container: object, isObject: boolean, base: number, length: number): void {
    const depth = this.depth;
    this.checkCycle(container, depth);
    if (depth >= MAX_DEPTH) {
      throw tooLarge(`value nests deeper than ${MAX_DEPTH} arrays and objects at ${this.path(depth)}`);
    }
    let frame = this.frames[depth];
    if (frame === undefined) {
      frame = { container, isObject, base, present: null, cursor: 0, index: 0, length };
      this.frames.push(frame);
    } else {
      frame.container = container;
      frame.isObject = isObject;
      frame.base = base;
      frame.present = null;
      frame.cursor = 0;
      frame.index = 0;
      frame.length = length;
    }
    if (depth >= SHALLOW) {
      this.deep ??= new Set();
      this.deep.add(container);
    }
    this.depth = depth + 1;
  }

  private pop(): void {
    const frame = this.frames[--this.depth]!;
    if (this.depth >= SHALLOW) this.deep?.delete(frame.container!);
    if (frame.isObject) this.entryTop = frame.base;
    this.release(frame);
    if (this.depth === this.segmentDepth) this.closeSegment();
  }

  private release(frame: Frame): void {
    frame.container = null;
    frame.present = null;
  }

  private checkCycle(container: object, depth: number): void {
    const frames = this.frames;
    const shallow = Math.min(depth, SHALLOW);
    let seen = -1;
    for (let i = 0; i < shallow; i++) {
      if (frames[i]!.container === container) {
        seen = i;
        break;
      }
    }
    if (seen < 0 && depth > SHALLOW && this.deep?.has(container)) {
      for (let i = SHALLOW; i < depth; i++) {
        if (frames[i]!.container === container) {
          seen = i;
          break;
        }
      }
    }
    if (seen >= 0) {
      const path = this.path(depth);
      throw invalidArgument(
        `cannot encode a cycle: the value at ${path} is its own ancestor at ${this.path(seen)}; ` +
          'store shared or cyclic data in separate atoms',
        { path },
      );
    }
  }

  /** Switches an array frame to sparse mode at its first hole. */
  private sparse(frame: Frame, array: unknown[]): void {
    const present: number[] = [];
    for (const key of Object.keys(array)) {
      const index = isCanonicalIndex(key, Math.min(frame.length, MAX_ARRAY_LENGTH));
      if (index < 0) {
        const path = this.path(this.depth - 1);
        throw invalidArgument(
          `cannot encode the property ${JSON.stringify(key)} of the array at ${path}; arrays store only their elements`,
          { path },
        );
      }
      if (index >= frame.index) present.push(index);
    }
    frame.present = present;
    frame.cursor = 0;
  }

  private holes(count: number): void {
    this.out.byte(TAG_HOLES);
    this.out.varint(count);
  }

  private refer(value: object): void {
    const hook = this.reference;
    const pointer = hook === undefined ? undefined : hook(value);
    if (pointer === undefined) {
      const path = this.path(this.depth);
      throw invalidArgument(
        `cannot encode ${describeValue(value)} at ${path}; use a ProtoBase collection or a plain object`,
        { path },
      );
    }
    if (typeof pointer !== 'string' || pointer.length === 0 || pointer.length > MAX_POINTER_LENGTH) {
      const path = this.path(this.depth);
      throw invalidArgument(
        `the reference hook returned ${String(pointer)} for the ${describeValue(value)} at ${path}; ` +
          `pointers are non-empty strings of at most ${MAX_POINTER_LENGTH} characters`,
        { path },
      );
    }
    this.out.string(pointer, TAG_POINTER);
  }

  /** The path of the value in progress inside the first `depth` frames. */
  private path(depth: number): string {
    const segments: (string | number)[] = [];
    for (let i = 0; i < depth; i++) {
      const frame = this.frames[i]!;
      segments.push(frame.isObject ? this.entryKeys[frame.base + frame.index - 1]! : frame.index - 1);
    }
    return formatPath(segments);
  }
}
