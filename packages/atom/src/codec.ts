/**
 * `@proto/atom/codec`: the binary value codec. Everything ProtoBase stores is a frame made
 * here: a checksummed, versioned encoding of a plain value (`encodeValue`) or of an atom, a
 * type name plus payload (`encodeAtom`). Objects that are not plain values are stored as
 * pointers to other atoms through a reference hook; storage backends list and rewrite those
 * pointers with `atomReferences` and `rewriteReferences` without decoding.
 *
 * @module @proto/atom/codec
 */

export { LazyValue } from './codec/lazy.js';
export { atomReferences, rewriteReferences } from './codec/references.js';
export type { DecodeOptions, EncodeOptions, PlainValue } from './codec/types.js';
export { decodeAtom, decodeValue, encodeAtom, encodeValue } from './codec/value.js';
