/**
 * Large values out of line: a keyed leaf stores a value whose encoded size passes
 * `BLOB_BYTES` in its own atom (`ValueBlob`) and keeps a reference to it, as B-trees keep
 * large values on overflow pages. Rewriting the leaf then writes the reference, not the value,
 * so a leaf of 64 session records costs a few hundred bytes to rewrite instead of the records,
 * and the kernel's cache holds small leaves and loads a large value only when it is read.
 *
 * In a leaf's value array a blob is a `BlobValue` (never a codec value, never seen outside the
 * tree code: `leafValue` unwraps it); the stored leaf lists the positions of its blobs (see
 * `KLeaf`). A value moves out of line when its leaf is written: at once for a long string or
 * byte array, and for an object or array once its encoded size is known (after its first write,
 * usually the delta commit that introduced it), so its bytes are copied into the blob, not
 * encoded again.
 */
import { Atom, AtomRef, type AtomSlot, LazyValue, refOf, registerAtomType } from '@proto/atom/extension';
import { collectionError } from '../errors.js';

function badPayload(type: string): never {
  return collectionError('corrupt', `a stored ${type} atom has an unexpected shape; the data is not trusted`);
}

/** Values whose encoded form is larger than this many bytes are stored out of line. */
export const BLOB_BYTES = 1024;

/** The atom holding one large value (a segment, copied as bytes while it does not change). */
export class ValueBlob extends Atom {
  static readonly typeName = 'proto.coll.value';
  constructor(readonly stored: LazyValue) {
    super();
  }
  get atomType(): string {
    return ValueBlob.typeName;
  }
  toPayload(): unknown {
    return [this.stored];
  }
}

registerAtomType(ValueBlob.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 1) return badPayload('value');
  return new ValueBlob(LazyValue.of(payload[0]));
});

/** A leaf's slot for a value stored out of line. */
export class BlobValue {
  #slot: AtomSlot<ValueBlob>;
  constructor(slot: AtomSlot<ValueBlob>) {
    this.#slot = slot;
  }

  /** The slot to encode: a reference once the blob is stored (so the leaf does not pin it). */
  get slot(): AtomSlot<ValueBlob> {
    const slot = this.#slot;
    if (slot instanceof AtomRef) return slot;
    const ref = refOf(slot);
    if (ref !== undefined) this.#slot = ref;
    return ref ?? slot;
  }

  /** The value as a segment (its bytes are copied when written to the same space). */
  segment(): LazyValue {
    const slot = this.#slot;
    const blob = slot instanceof AtomRef ? slot.get() : slot;
    if (!(blob instanceof ValueBlob)) return badPayload('leaf');
    return blob.stored;
  }

  /** The value. */
  get(): unknown {
    return this.segment().get();
  }
}

/**
 * The value to keep in a leaf for `v` when the leaf is written: a `BlobValue` when `v` is large
 * (a long string or byte array, or a stored segment of more than `BLOB_BYTES`), else `v`.
 */
export function outOfLine(v: unknown): unknown {
  if (v instanceof LazyValue) {
    return (v.storedBytes ?? 0) > BLOB_BYTES ? new BlobValue(new ValueBlob(v)) : v;
  }
  if (typeof v === 'string') return v.length > BLOB_BYTES ? new BlobValue(new ValueBlob(LazyValue.of(v))) : v;
  if (v instanceof Uint8Array && v.byteLength > BLOB_BYTES)
    return new BlobValue(new ValueBlob(LazyValue.of(v)));
  return v;
}
