/**
 * Persistence of an atom graph: writes every atom reachable from a root that its space has
 * not stored yet, children before parents, one backend call per level of the graph.
 */
import { forEachElement } from '../arrays.js';
import { ATOM_LOADER, ATOM_POINTER, Atom, type AtomLoader, AtomRef } from '../atom.js';
import { encodeAtom, LazyValue } from '../codec.js';
import { StorageError, TransactionError } from '../errors.js';
import type { AtomPointer } from '../storage/backend.js';

/** Where `persist` writes: an atom store (see `AtomStore`). */
export interface AtomSink {
  /** The loader of the space written to: atoms stamped with it (by `spaceId`) are stored already. */
  readonly loader: AtomLoader;
  /** Writes encoded atoms; resolves with their pointers in the same order. */
  writeAtoms(encoded: readonly Uint8Array[]): Promise<readonly AtomPointer[]>;
  /** Called for each atom once written: stamps it with `pointer` and the sink's loader. */
  stored(atom: Atom, pointer: AtomPointer, bytes: Uint8Array): void;
}

/**
 * Writes every atom reachable from `root` that is not stored in `sink` yet, children first,
 * and resolves with the root's pointer and the encoded bytes written. An atom or reference of
 * another space rejects with `invalid-argument`, as does a value the codec cannot store; atoms
 * of a level already written stay written (they are unreachable until a root points at them).
 */
export async function persist(root: Atom, sink: AtomSink): Promise<{ pointer: AtomPointer; bytes: number }> {
  let bytes = 0;
  const levels: Atom[][] = [];
  const heights = new Map<Atom, number>();
  const payloads = new Map<Atom, unknown>();
  /** Atoms encoded while visited (every atom they refer to was stored): bytes and segments. */
  const ahead = new Map<Atom, { bytes: Uint8Array; segments: (LazyValue | number)[] }>();
  const loader = sink.loader;
  const spaceId = loader.spaceId;
  // Encoding an atom before knowing its children: a child not stored here stops it, and the
  // payload is walked instead. Most atoms (leaves, delta records, cells of plain values) refer
  // only to stored atoms, so they are encoded once and never walked.
  const { stored, reference, early } = referenceHooks(loader);
  const visit = (atom: Atom): number => {
    if (stored(atom)) return -1;
    const known = heights.get(atom);
    if (known !== undefined) return known;
    const payload = atom.toPayload();
    payloads.set(atom, payload);
    let height = 0;
    let children: Iterable<Atom | AtomRef> | undefined = atom.childAtoms?.();
    if (children === undefined) {
      try {
        ahead.set(atom, encodeCollecting(atom, payload, early, loader));
        children = [];
      } catch (error) {
        if (error !== NOT_STORED) throw error;
        children = collectAtoms(payload, loader);
      }
    }
    for (const child of children) {
      if (child instanceof AtomRef) {
        if (child.loader.spaceId !== spaceId) throw foreign();
        continue;
      }
      height = Math.max(height, visit(child) + 1);
    }
    heights.set(atom, height);
    (levels[height] ??= []).push(atom);
    return height;
  };
  visit(root);
  for (const level of levels) {
    if (level === undefined) continue;
    // Segments written (encoded or copied): value, start, end, per atom.
    const segments: (LazyValue | number)[] = [];
    const segmentsUntil: number[] = [];
    const options = {
      reference,
      origin: loader,
      segment: (value: LazyValue, start: number, end: number) => {
        segments.push(value, start, end);
      },
    };
    const encoded = level.map((atom) => {
      const done = ahead.get(atom);
      if (done !== undefined) {
        for (const item of done.segments) segments.push(item);
        segmentsUntil.push(segments.length);
        return done.bytes;
      }
      const bytes = encodeAtom(atom.atomType, payloads.get(atom), options);
      segmentsUntil.push(segments.length);
      return bytes;
    });
    const pointers = await sink.writeAtoms(encoded);
    let next = 0;
    for (let i = 0; i < level.length; i++) {
      const atom = level[i] as Atom;
      const encodedBytes = encoded[i] as Uint8Array;
      bytes += encodedBytes.byteLength;
      // Stored now: writing these values to this space again copies their bytes. Copied ones
      // move to the new frame too, so a leaf keeps only its latest frame alive.
      for (; next < (segmentsUntil[i] as number); next += 3) {
        (segments[next] as LazyValue).bind(
          encodedBytes,
          segments[next + 1] as number,
          segments[next + 2] as number,
          loader,
        );
      }
      sink.stored(atom, pointers[i] as AtomPointer, encodedBytes);
    }
  }
  const pointer = root[ATOM_POINTER];
  if (pointer === undefined)
    throw new StorageError({ layer: 'atom', reason: 'io', message: 'commit root was not written' });
  return { pointer, bytes };
}

/**
 * Writes ahead of a checkpoint: up to about `maxBytes` of the atoms reachable from `root` that
 * are not stored yet and refer only to stored atoms (the bottom of what is unwritten: leaves
 * first, then the branches whose children are all written), in one backend call, stamped as
 * stored like `persist`'s. Resolves with their pointers and bytes; fewer than `maxBytes` means the
 * walk met every unwritten atom (what is left is the parents of what it just wrote). The atoms
 * are unreachable until a checkpoint refers to them; a checkpoint's `persist` then skips them.
 */
export async function writeAhead(
  root: Atom,
  sink: AtomSink,
  maxBytes: number,
): Promise<{ pointers: AtomPointer[]; bytes: number }> {
  const loader = sink.loader;
  const spaceId = loader.spaceId;
  const { stored, early } = referenceHooks(loader);
  const atoms: Atom[] = [];
  const encoded: Uint8Array[] = [];
  const segments: (LazyValue | number)[][] = [];
  const visited = new Set<Atom>();
  let bytes = 0;
  const visit = (atom: Atom): void => {
    if (bytes >= maxBytes || stored(atom) || visited.has(atom)) return;
    visited.add(atom);
    let children: Iterable<Atom | AtomRef> | undefined = atom.childAtoms?.();
    if (children !== undefined) {
      let ready = true;
      for (const child of children) {
        if (child instanceof AtomRef) {
          if (child.loader.spaceId !== spaceId) throw foreign();
        } else if (!stored(child)) {
          ready = false;
          visit(child);
        }
      }
      if (!ready) return;
    }
    const payload = atom.toPayload();
    try {
      const frame = encodeCollecting(atom, payload, early, loader);
      atoms.push(atom);
      encoded.push(frame.bytes);
      segments.push(frame.segments);
      bytes += frame.bytes.byteLength;
    } catch (error) {
      if (error !== NOT_STORED) throw error;
      children = collectAtoms(payload, loader);
      for (const child of children) if (child instanceof Atom) visit(child);
    }
  };
  visit(root);
  if (atoms.length === 0) return { pointers: [], bytes: 0 };
  const pointers = await sink.writeAtoms(encoded);
  for (let i = 0; i < atoms.length; i++) {
    const atom = atoms[i] as Atom;
    const frame = encoded[i] as Uint8Array;
    const own = segments[i] as (LazyValue | number)[];
    // Written by a commit meanwhile: that copy is the one its parents refer to.
    if (stored(atom)) continue;
    for (let s = 0; s < own.length; s += 3)
      (own[s] as LazyValue).bind(frame, own[s + 1] as number, own[s + 2] as number, loader);
    sink.stored(atom, pointers[i] as AtomPointer, frame);
  }
  return { pointers: [...pointers], bytes };
}

/** Thrown by the early encoding's reference hook at a child not stored yet. */
const NOT_STORED: unique symbol = Symbol('not stored');

/** Encodes `atom`'s payload, collecting the stored values it copied (value, start, end each). */
function encodeCollecting(
  atom: Atom,
  payload: unknown,
  reference: (value: object) => AtomPointer | undefined,
  origin: AtomLoader,
): { bytes: Uint8Array; segments: (LazyValue | number)[] } {
  const segments: (LazyValue | number)[] = [];
  const bytes = encodeAtom(atom.atomType, payload, {
    reference,
    origin,
    segment: (value: LazyValue, start: number, end: number) => {
      segments.push(value, start, end);
    },
  });
  return { bytes, segments };
}

/**
 * The encoder's reference hooks for writing to the space of `loader`: whether an atom is stored
 * there, the pointer of a child (`reference`; another space's reference rejects), and `early`,
 * which also throws `NOT_STORED` at a child not stored yet.
 */
function referenceHooks(loader: AtomLoader) {
  const spaceId = loader.spaceId;
  const stored = (atom: Atom) => atom[ATOM_POINTER] !== undefined && atom[ATOM_LOADER]?.spaceId === spaceId;
  const reference = (value: object): AtomPointer | undefined => {
    if (value instanceof AtomRef) {
      if (value.loader.spaceId !== spaceId) throw foreign();
      return value.pointer;
    }
    if (value instanceof Atom) return value[ATOM_POINTER];
    return undefined;
  };
  const early = (value: object): AtomPointer | undefined => {
    if (value instanceof Atom && !stored(value)) throw NOT_STORED;
    return reference(value);
  };
  return { stored, reference, early };
}

/** Objects `collectAtoms` visits before it remembers them. */
const REMEMBER_AFTER = 4096;

/**
 * The atoms and references a payload holds. A `LazyValue` stored in `origin` is skipped: its
 * bytes are copied as they are and refer only to atoms already stored there. Past the first
 * few thousand, each object is visited once (a cycle is left for the encoder to reject with its
 * path), and arrays are walked by the elements they hold, so a sparse array costs what it stores.
 */
/** A token no stored value belongs to: walking or encoding with it decodes every segment. */
export const NOWHERE = { spaceId: -1 } as unknown as AtomLoader;

export function collectAtoms(payload: unknown, origin: AtomLoader): (Atom | AtomRef)[] {
  const found: (Atom | AtomRef)[] = [];
  const stack: unknown[] = [payload];
  const push = (item: unknown) => {
    stack.push(item);
  };
  let seen: Set<object> | undefined;
  let visited = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (value instanceof Atom || value instanceof AtomRef) {
      found.push(value);
      continue;
    }
    // Most payloads are small trees: objects are remembered only past the first thousands,
    // which is enough to end a cycle or to stop re-walking shared objects.
    if (++visited > REMEMBER_AFTER) {
      seen ??= new Set();
      if (seen.has(value)) continue;
      seen.add(value);
    }
    if (value instanceof LazyValue) {
      if (!value.storedIn(origin)) stack.push(value.get());
    } else if (Array.isArray(value)) forEachElement(value, push);
    else if (!(value instanceof Date) && !(value instanceof Uint8Array))
      for (const item of Object.values(value)) stack.push(item);
  }
  return found;
}

function foreign(): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'invalid-argument',
    message:
      'a value refers to an atom stored in another object space; copy the data instead of sharing atoms between spaces',
  });
}
