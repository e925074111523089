/**
 * The base64, base32 and hex characters of a text (alphabet-runs.ts: one pass an alphabet),
 * decoded at every alignment, for secret-encodings.ts to search for values in: one pass over
 * the characters per alignment, linear in the text, whatever the values.
 * The run: every character of the alphabet in the text, in order; any other character between
 * two of them is skipped, not a break. Why: a value's encoding reaches the output with any
 * separator between its pieces (`base64`'s and openssl's wrapping, an indented YAML block,
 * `tr '\n' ' '`, `paste -sd,`, `tr '\n' '|'`, quotes around each piece `"abcd","efgh"`, a
 * no-break space or another Unicode space, `\x41\x42`, `xxd -i`'s `0x41, 0x42`), and the
 * bytes decoded from characters that are not the value's are no match for it (a match is a
 * value's every byte in order). Also skipped: hex's `0x` prefix, and in a second reading an
 * escape's letter (`\n`, `\t`, `\u00a0` of `jq -Rs` or JSON; `n` is a base64 character, and in
 * the first reading a letter after a backslash may be the value's own). numbered-lines.ts
 * gives what that second reading also leaves out: line numbers, offsets, a hex dump's text column.
 * `pos` maps each of its characters back to the text, so what is masked is only the characters
 * carrying a value's bits (and what lies between them).
 * - base64: characters of either alphabet (`+` and `-` are 62, `/` and `_` 63).
 *   Decoded from each even bit of the run's first character (0, 2, 4, 6): a value's bytes begin
 *   at one of those bits modulo 8, wherever it lies in the encoded text.
 * - base32 (`base32`): 5 bits a character, decoded from each bit (0 to 7) of a run's first.
 * - hex, either case (`xxd -p`, `od -An -tx1`, a byte's digits apart too). Decoded from the
 *   run's first and second digit.
 */
import { ADJ, type Runs } from './alphabet-runs.js';
import { IntList, type Ascending, type Scratch } from './int-lists.js';

export type { Runs };

/**
 * The bytes decoded from the runs at one alignment (base64, base32, hex; word-runs.ts: its one),
 * each run one segment, -1 between segments (no value spans one). `at(i)`: where byte i begins,
 * the index of its first bit among all runs' bits (base64: 6 a character) or of its first digit
 * (hex); the next bytes of its segment follow it there (computed from the segment's start: no
 * array the text's size is written). One alignment at a time: it is searched and dropped before
 * the next is decoded (all at once were several bytes of memory per output byte).
 */
export interface Decoded {
  bytes: Int16Array;
  at: (i: number) => number;
  n: number;
  /** The longest segment: a longer value is not looked for. */
  longest: number;
  /** The text index of each character of the runs, in order. */
  pos: Ascending;
  /** The bytes of the run that ends the text (whitespace after it at most): [from, to) of `bytes`; none: []. */
  last: [number, number][];
  /** The index (among the runs' characters) of that run's last character. */
  lastChar: number;
  /** Bits a character (base64 6, base32 5); absent: digits, a byte's two or a number's. */
  width?: number;
  /** Numbers and groups (word-runs.ts): the index (among the characters) after byte i's last digit; `at(i)`: its first. */
  ends?: (i: number) => number;
  /** The bytes of the run that begins the text (after whitespace at most): [from, to) of `bytes`; none: []. */
  first: [number, number][];
  /** Ascending, `hits.a[0, hits.n)`: each i where bytes i and i + 1 (of one segment) are a pair marked in the `pairs` the decoder was given (a value's first two bytes). */
  hits: IntList;
}

/**
 * The pairs of bytes to tell (`hits`), marked at `(first << 8) | second`; its last 256 entries
 * (first = 256: no byte before, a segment's start) stay 0.
 */
export const pairTable = (): Uint8Array => new Uint8Array(257 * 256);
export const NO_PAIRS = pairTable();
/** No byte before (a segment's start): its pairs are never marked. */
export const NONE = 256;

/** A decoding's alignments, each given to `each` in turn (and dropped after). */
export type EachAlignment = (d: Decoded) => void;

/**
 * `at` of a decoding whose segments' bytes are `step` apart (bits or digits): per segment, its
 * first byte's index in `bytes` (ascending) and where that byte begins.
 */
function steppedAt(from: IntList, base: IntList, step: number): (i: number) => number {
  return (i) => {
    // The last segment starting at i or before: binary search.
    let lo = 0;
    let hi = from.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (from.a[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return base.a[lo]! + step * (i - from.a[lo]!);
  };
}

/** The base64 runs (alphabet-runs.ts) of at least `minChars` characters, decoded. */
export function decodeBase64(r: Runs, minChars: number, pairs: Uint8Array, scratch: Scratch, each: EachAlignment): void {
  if (r.starts[r.starts.length - 1]! >= minChars) decodeBits(r, 6, pairs, scratch, each);
}

/**
 * The base32 runs (`base32`, RFC 4648: upper-case `A`-`Z`, `2`-`7`; scanRuns's runs, the short
 * ones dropped there) decoded: as base64, 5 bits a character, from each of its bits (0 to 7).
 */
export function decodeBase32(r: Runs, pairs: Uint8Array, scratch: Scratch, each: EachAlignment): void {
  decodeBits(r, 5, pairs, scratch, each);
}

/** Runs of `width`-bit characters, decoded from each bit a byte may begin at (modulo 8). */
function decodeBits(r: Runs, width: 5 | 6, pairs: Uint8Array, scratch: Scratch, each: EachAlignment): void {
  const runs = r.starts.length - 1;
  const chars = r.starts[runs]!;
  if (runs === 0) return;
  for (let shift = 0; shift < 8; shift += width === 6 ? 2 : 1) {
    const bytes = scratch.bytes(Math.ceil((width * chars) / 8) + runs + 1);
    const hits = new IntList();
    const segFrom = new IntList();
    const segBase = new IntList();
    let n = 0;
    let longest = 0;
    const last: [number, number][] = [];
    const first: [number, number][] = [];
    const vals = r.vals;
    for (let k = 0; k < runs; k++) {
      const s = r.starts[k]!;
      const e = r.starts[k + 1]!;
      const from = n;
      // Bits taken from the characters, the first `shift` dropped; a byte out per 8 (integers only: the hot loop).
      let acc = 0;
      let have = -shift;
      segFrom.push(n);
      segBase.push(s * width + shift);
      let prev = NONE;
      for (let ci = s; ci < e; ci++) {
        acc = ((acc << width) | vals[ci]!) & 0x3fff;
        have += width;
        if (have >= 8) {
          have -= 8;
          const x = (acc >> have) & 0xff;
          if (pairs[(prev << 8) | x] === 1) hits.push(n - 1);
          prev = x;
          bytes[n++] = x;
        }
      }
      longest = Math.max(longest, n - from);
      if (k === runs - 1 && r.endsText) last.push([from, n]);
      if (k === 0 && r.startsText) first.push([from, n]);
      bytes[n++] = -1;
    }
    each({ bytes, at: steppedAt(segFrom, segBase, 8), n, longest, pos: r.pos, last, lastChar: chars - 1, first, hits, width });
  }
}

/** The hex runs (alphabet-runs.ts) of at least `minDigits` digits, decoded from their first digit, then their second. */
export function decodeHex(r: Runs, minDigits: number, pairs: Uint8Array, scratch: Scratch, each: EachAlignment): void {
  const runs = r.starts.length - 1;
  const digits = r.starts[runs]!;
  if (runs === 0 || digits < minDigits) return;
  for (const q of [0, 1]) {
    // A byte per two digits, and a break after each run.
    const bytes = scratch.bytes((digits >> 1) + runs + 1);
    const hits = new IntList();
    const segFrom = new IntList();
    const segBase = new IntList();
    let n = 0;
    let longest = 0;
    const last: [number, number][] = [];
    const first: [number, number][] = [];
    const vals = r.vals;
    for (let k = 0; k < runs; k++) {
      const s = r.starts[k]!;
      const e = r.starts[k + 1]!;
      const from = n;
      segFrom.push(n);
      segBase.push(s + q);
      let prev = NONE;
      for (let d = s + q; d + 1 < e; d += 2) {
        const x = ((vals[d]! & ~ADJ) << 4) | (vals[d + 1]! & ~ADJ);
        if (pairs[(prev << 8) | x] === 1) hits.push(n - 1);
        prev = x;
        bytes[n++] = x;
      }
      longest = Math.max(longest, n - from);
      if (k === runs - 1 && r.endsText) last.push([from, n]);
      if (k === 0 && r.startsText) first.push([from, n]);
      bytes[n++] = -1;
    }
    each({ bytes, at: steppedAt(segFrom, segBase, 2), n, longest, pos: r.pos, last, lastChar: digits - 1, first, hits });
  }
}
