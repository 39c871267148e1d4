/**
 * The byte-level vocabulary of the codec: frame header constants, value tags and limits.
 *
 * Changing any number here changes the stored format: bump `FORMAT_VERSION` and keep a reader
 * for the old one.
 */

/** First two bytes of every frame: `pb`. */
export const MAGIC_0 = 0x70;
export const MAGIC_1 = 0x62;
/** The only format version this build writes and reads. */
export const FORMAT_VERSION = 1;
/** Frame kind byte: the body is one value. */
export const KIND_VALUE = 0x56; // 'V'
/** Frame kind byte: the body is a type name followed by one value. */
export const KIND_ATOM = 0x41; // 'A'
/** magic (2) + version (1) + kind (1) + CRC32 of the rest (4, little-endian). */
export const HEADER_SIZE = 8;
/** Offset of the CRC32 field inside the header. */
export const CRC_OFFSET = 4;

// Value tags. 0x00 is deliberately unused so that zero-filled bytes never decode.
export const TAG_UNDEFINED = 0x01;
export const TAG_NULL = 0x02;
export const TAG_FALSE = 0x03;
export const TAG_TRUE = 0x04;
/** A non-negative safe integer >= 128 as a varint. */
export const TAG_UINT = 0x05;
/** A negative safe integer: varint of its magnitude (>= 1). */
export const TAG_NINT = 0x06;
/** Any other number (fractions, -0, NaN, infinities, unsafe integers): float64 LE. */
export const TAG_FLOAT = 0x07;
/** A bigint >= 0: varint byte count, then the magnitude big-endian. */
export const TAG_BIGINT_POS = 0x08;
/** A bigint < 0: varint byte count (>= 1), then the magnitude big-endian. */
export const TAG_BIGINT_NEG = 0x09;
/** A string: see `writeString` for the header. */
export const TAG_STRING = 0x0a;
/** A Date: its time value as float64 LE (NaN for an invalid date). */
export const TAG_DATE = 0x0b;
/** A Uint8Array: varint byte count, then the bytes. */
export const TAG_BYTES = 0x0c;
/** An array: varint length, then items (values or hole runs) covering exactly that length. */
export const TAG_ARRAY = 0x0d;
/** A plain object: varint entry count, then per entry a key string and a value. */
export const TAG_OBJECT = 0x0e;
/** Inside an array only: a run of holes, varint count (>= 1). */
export const TAG_HOLES = 0x0f;
/** A pointer to another atom: a string of 1 to 255 UTF-16 code units. */
export const TAG_POINTER = 0x10;
/**
 * A segment: a uint32 LE byte count, then exactly one value in that many bytes. Lets a decoder
 * skip the value without looking inside (`LazyValue`) and an encoder copy it back unchanged.
 * Segments do not nest: a segment inside a segment is corrupt.
 */
export const TAG_SEGMENT = 0x11;
/** Tags 0x80..0xff are the integers 0..127. */
export const TAG_SMALL_INT = 0x80;

/** Deepest nesting of arrays and objects a value may have. */
export const MAX_DEPTH = 100_000;
/** The largest `length` a JavaScript array can have. */
export const MAX_ARRAY_LENGTH = 2 ** 32 - 1;
/** The largest bigint magnitude V8 can build, in bytes (2^30 bits). */
export const MAX_BIGINT_BYTES = 2 ** 27;
/** Pointers are non-empty strings of at most this many UTF-16 code units. */
export const MAX_POINTER_LENGTH = 255;
