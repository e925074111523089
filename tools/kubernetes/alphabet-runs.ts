/**
 * The characters of a text's encoding alphabets, one pass an alphabet, for the decoders
 * (encoded-runs.ts, word-runs.ts): base64 (either alphabet), base32, hex and decimal digits,
 * each character with its place in the text (int-lists.ts: 2 bytes a character).
 * The run: every character of the alphabet in the text, in order; any other character between
 * two of them is skipped, not a break (see encoded-runs.ts for why). Also skipped: hex's `0x`
 * prefix, and in a second reading an escape's letter (`\n`, `\t`, `\u00a0` of `jq -Rs` or JSON;
 * `n` is a base64 character, and in the first reading a letter after a backslash may be the
 * value's own), and the characters numbered-lines.ts leaves out (`skip`). Base32 alone is
 * broken by a letter or digit outside its alphabet (scanRuns).
 */

const B64 = new Int8Array(128).fill(-1);
const HEX = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;
const B32 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('').forEach((c, i) => (B32[c.charCodeAt(0)] = i));
/** Base32's values of either case (`base32 | tr A-Z a-z`). */
const B32I = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('').forEach((c, i) => (B32I[c.charCodeAt(0)] = B32I[c.toLowerCase().charCodeAt(0)] = i));
'0123456789abcdef'.split('').forEach((c, i) => (HEX[c.charCodeAt(0)] = HEX[c.toUpperCase().charCodeAt(0)] = i));

import { Ascending, type Scratch } from './int-lists.js';

/** One alphabet's characters in a text, in order: each one's value, and its index in the text. */
export interface Runs {
  /** Hex and decimal: the digit's value, ADJ added when the character right before it in the text is one of the run's too. */
  vals: Uint8Array;
  pos: Ascending;
  /** Run starts (character indices), then the end of the last. */
  starts: number[];
  /** The last run ends the text, or only whitespace does after it. */
  endsText: boolean;
  /** The first run begins the text, or only whitespace comes before it. */
  startsText: boolean;
  /**
   * Base64's scan: the longest run of upper-case base32 characters (no other letter or digit
   * between), or stretch of lower-case ones in a row if longer, to skip base32's scan when short.
   */
  longest32?: number;
  /** Base64's scan: the longest stretch of lower-case base32 characters in a row. */
  longestLower?: number;
}

/** In a hex or decimal run's `vals`: the digit follows the previous one with nothing between (one number or group, word-runs.ts). */
export const ADJ = 16;

/** ASCII whitespace: space, tab, line feed, vertical tab, form feed, carriage return (a masked line's indentation, kept). */
export const isBlank = (code: number): boolean => code === 32 || (code >= 9 && code <= 13);

/** After a backslash: an escape (`\n`, `\t` in JSON or `printf %q`) whose letter is no encoded character. */
const ESCAPES = new Set([...'nrtbfv'].map((c) => c.charCodeAt(0)));
const hexDigit = (c: number): boolean => c < 128 && HEX[c]! >= 0;
const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A base64 character's value to its hex digit's (`A`-`F` and `a`-`f` are 0-5 and 26-31, `0`-`9` 52-61), -1: none. */
const HEX_OF_B64 = new Int8Array(64).fill(-1);
for (let c = 0; c < 128; c++) if (B64[c]! >= 0 && HEX[c]! >= 0) HEX_OF_B64[B64[c]!] = HEX[c]!;

/** Each ASCII character's alphabets: base64, base32, hex, decimal; or a letter or digit that breaks a base32 run. */
const IN64 = 1;
const IN32 = 2;
const INHEX = 4;
const IN32L = 8;
const BREAK32 = 16;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const lower = (c >= 97 && c <= 122) || (c >= 50 && c <= 55);
  CLASS[c] = (B64[c]! >= 0 ? IN64 : 0) | (B32[c]! >= 0 ? IN32 : isAlnum(c) ? BREAK32 : 0) | (HEX[c]! >= 0 ? INHEX : 0) | (lower ? IN32L : 0);
}

/** An alphabet of the scan. */
export type Alphabet = 'b64' | 'b32' | 'hex';
const BIT: Record<Alphabet, number> = { b64: IN64, b32: IN32 | IN32L, hex: INHEX };
const VALUE: Record<Alphabet, Int8Array> = { b64: B64, b32: B32I, hex: HEX };

/**
 * Base32's scan: the kept runs' ends, the current run's start, whether a break came before it,
 * its case (0: digits only so far, 1 upper, 2 lower), the count after its last letter, and its
 * longest stretch of characters next to each other in the text (`stretch`: the current one's).
 */
interface Base32State {
  starts: number[];
  run: number;
  broken: boolean;
  runBroken: boolean;
  first: boolean;
  kase: number;
  afterLetter: number;
  stretch: number;
  runStretch: number;
}

/**
 * A lower-case base32 run is kept only with this many characters in a row (its `=` padding
 * counted). Why: lower-case prose is one long run (only a capital or `0`, `1`, `8`, `9` breaks
 * it), decoded at 8 alignments for nothing; `base32` prints 76 characters a line, a value of 10
 * bytes or more 16 in a row.
 */
export const LOWER_STRETCH = 16;

/**
 * A base32 run ends at `split` (the characters from there to n begin the next run): kept, or
 * dropped when shorter than min32 or, lower case, without min32 characters in a row (its
 * characters' places too); the characters' count after.
 */
function end32(s: Base32State, split: number, n: number, min32: number, pos: Ascending, vals: Uint8Array): number {
  const kase = s.kase;
  const runStretch = s.runStretch;
  s.kase = 0;
  s.runStretch = 0;
  if (split === s.run) return n;
  if (split - s.run >= min32 && (kase !== 2 || runStretch >= Math.max(min32, LOWER_STRETCH))) {
    if (s.starts.length === 1) s.first = !s.runBroken;
    s.starts.push(split);
    s.run = split;
    if (split < n) s.runBroken = true;
    return n;
  }
  // Dropped: the next run's first characters (digits) move to where it began.
  pos.n = n;
  pos.drop(s.run, split);
  vals.copyWithin(s.run, split, n);
  if (split < n) s.runBroken = true;
  return pos.n;
}

/**
 * The runs of one alphabet in a text, for the decoders: one pass per alphabet, each alphabet's
 * runs decoded and dropped before the next is scanned (its arrays, 3 bytes a character, are the
 * scan's largest). Base32's differ: a letter or digit outside its alphabet (a lower-case letter,
 * `0`, `1`, `8`, `9`) ends a run, and a run shorter than `min32` characters is dropped. Why:
 * `base32` prints upper case only, and read across lower-case text base32 would decode most of
 * an output's capitals at 8 alignments for nothing.
 */
export function scanRuns(text: string, skip: Uint8Array | null, escapes: boolean, alphabet: Alphabet, min32: number, scratch: Scratch, lower = true): Runs {
  const L = text.length;
  const vals = scratch.vals(L);
  const pos = new Ascending(scratch.pos(L));
  const low = pos.lows();
  let next = 0;
  // Base32 reads lower case too only where base64's scan saw LOWER_STRETCH of it in a row (`longestLower`).
  const bit = alphabet === 'b32' && !lower ? IN32 : BIT[alphabet];
  const value = VALUE[alphabet];
  const b32 = alphabet === 'b32';
  const hex = alphabet === 'hex';
  const b64 = alphabet === 'b64';
  const adj = hex ? ADJ : 0;
  // Base64's: every base32 character and every letter or digit that breaks its run is one of base64's.
  let run32 = 0;
  let longest32 = 0;
  let n = 0;
  let lastAt = -2;
  // And the longest stretch of lower-case base32 characters next to each other.
  let stretchL = 0;
  let longestL = 0;
  const s32: Base32State = { starts: [0], run: 0, broken: false, runBroken: false, first: false, kase: 0, afterLetter: 0, stretch: 0, runStretch: 0 };
  for (let i = 0; i < L; i++) {
    const code = text.charCodeAt(i);
    // The hot path first: an ASCII character of the alphabet, not left out.
    const c = code < 128 ? CLASS[code]! : 0;
    if ((c & bit) === 0) {
      if (skip !== null && skip[i] === 1) continue;
      if (code === 92 && escapes) {
        const next = text.charCodeAt(i + 1);
        if (ESCAPES.has(next)) i++;
        else if (next === 117 && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
      } else if (code === 61 && b32 && i === lastAt + 1) {
        // `=` padding: the stretch goes on.
        if (++s32.stretch > s32.runStretch) s32.runStretch = s32.stretch;
        lastAt = i;
      } else if (c & BREAK32) {
        if (b32) {
          n = end32(s32, n, n, min32, pos, vals);
          s32.broken = true;
        } else if (b64) {
          if (run32 > longest32) longest32 = run32;
          run32 = 0;
        }
      }
      continue;
    }
    if (skip !== null && skip[i] === 1) continue;
    if (hex) {
      if (code === 48 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1))) continue;
    } else if (b64) {
      if (c & IN32) run32++;
      else if (c & BREAK32) {
        if (run32 > longest32) longest32 = run32;
        run32 = 0;
      }
      if (c & IN32L) {
        stretchL = i === lastAt + 1 ? stretchL + 1 : 1;
        if (stretchL > longestL) longestL = stretchL;
      } else stretchL = 0;
    } else if (b32) {
      // A letter of the other case ends the run; digits before it go with the upper-case run.
      const kase = code >= 97 ? 2 : code >= 65 ? 1 : 0;
      if (kase !== 0) {
        if (s32.kase !== 0 && kase !== s32.kase) {
          n = end32(s32, kase === 1 ? s32.afterLetter : n, n, min32, pos, vals);
          s32.broken = true;
        }
        s32.kase = kase;
      }
      if (n === s32.run) s32.runBroken = s32.broken;
      s32.stretch = i === lastAt + 1 ? s32.stretch + 1 : 1;
      if (s32.stretch > s32.runStretch) s32.runStretch = s32.stretch;
      if (kase !== 0) s32.afterLetter = n + 1;
    }
    if (i >= next) next = pos.begin(i, n);
    low[n] = i;
    vals[n++] = value[code]! | (i === lastAt + 1 ? adj : 0);
    lastAt = i;
  }
  pos.n = n;
  if (!b32) return { vals, pos, starts: n > 0 ? [0, n] : [0], endsText: n > 0, startsText: n > 0, longest32: Math.max(longest32, run32, longestL >= LOWER_STRETCH - 6 ? longestL : 0), longestLower: longestL };
  const before = s32.starts.length;
  end32(s32, n, n, min32, pos, vals);
  return { vals, pos, starts: s32.starts, startsText: s32.starts.length > 1 && s32.first, endsText: s32.starts.length > before };
}

/**
 * The decimal runs, made from the hex runs in place (their arrays reused: the hex runs are gone
 * after): their decimal digits, each with ADJ where the hex digit before it was next to it in the
 * text and is decimal too. The same as a scan for decimal digits (the places, escapes and `skip`
 * are the hex scan's), but for a `0x` prefix's `0`, left out (no byte's number either). Why: a
 * fourth pass over the whole text was about an eighth of the scan's time.
 */
export function decimalOf(r: Runs): Runs {
  const { vals, pos } = r;
  const low = pos.lows();
  const n = pos.n;
  const blocks = pos.compactor();
  let prevDec = false;
  let w = 0;
  let nextBlock = 0;
  for (let j = 0; j < n; j++) {
    if (j >= nextBlock) nextBlock = blocks.moveTo(j, w)[1];
    const v = vals[j]!;
    const d = v & ~ADJ;
    if (d >= 10) {
      prevDec = false;
      continue;
    }
    vals[w] = d | (v & ADJ && prevDec ? ADJ : 0);
    low[w++] = low[j]!;
    prevDec = true;
  }
  blocks.end(w);
  return { vals, pos, starts: w > 0 ? [0, w] : [0], endsText: w > 0, startsText: w > 0 };
}

/**
 * The hex runs, made from the base64 runs of the same text, `skip` and reading in place (their
 * arrays reused: the base64 runs are gone after): every hex digit is a base64 character, and
 * what the base64 scan left out (escapes, `skip`) the hex scan leaves out too; the `0x` prefix
 * and ADJ are judged on the text as scanRuns does. Why: a pass over the whole text an alphabet
 * was most of the scan's time.
 */
export function hexOf(r: Runs, text: string): Runs {
  const { vals, pos } = r;
  const low = pos.lows();
  const n = pos.n;
  const blocks = pos.compactor();
  let lastAt = -2;
  let w = 0;
  let base = 0;
  let nextBlock = 0;
  for (let j = 0; j < n; j++) {
    if (j >= nextBlock) [base, nextBlock] = blocks.moveTo(j, w);
    const d = HEX_OF_B64[vals[j]!]!;
    if (d < 0) continue;
    const i = base + low[j]!;
    if (d === 0 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1))) continue;
    vals[w] = d | (i === lastAt + 1 ? ADJ : 0);
    low[w++] = low[j]!;
    lastAt = i;
  }
  blocks.end(w);
  return { vals, pos, starts: w > 0 ? [0, w] : [0], endsText: w > 0, startsText: w > 0 };
}
