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

import { Ascending, IntList, type Scratch } from './int-lists.js';
import { end32, LOWER_STRETCH, Windows32, type Base32State } from './base32-runs.js';

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
  /** Base64's scan: where base32's scan reads (base32-runs.ts Windows32), the rest of the text skipped. */
  windows32?: IntList;
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
 * The runs of one alphabet in a text, for the decoders: one pass per alphabet, each alphabet's
 * runs decoded and dropped before the next is scanned (its arrays, 3 bytes a character, are the
 * scan's largest). Base32's differ: a letter or digit outside its alphabet (a lower-case letter,
 * `0`, `1`, `8`, `9`) ends a run, and a run shorter than `min32` characters is dropped. Why:
 * `base32` prints upper case only, and read across lower-case text base32 would decode most of
 * an output's capitals at 8 alignments for nothing. Base64's scan finds the ranges base32's reads
 * (`windows32`, base32-runs.ts Windows32: lower case only in a range of it); given none, base32's
 * scan reads the whole text, lower case too.
 */
export function scanRuns(text: string, skip: Uint8Array | null, escapes: boolean, alphabet: Alphabet, min32: number, scratch: Scratch, windows32: IntList | null = null): Runs {
  const L = text.length;
  const vals = scratch.vals(L);
  const pos = new Ascending(scratch.pos(L));
  const low = pos.lows();
  let next = 0;
  let bit = BIT[alphabet];
  const value = VALUE[alphabet];
  const b32 = alphabet === 'b32';
  const hex = alphabet === 'hex';
  const b64 = alphabet === 'b64';
  const adj = hex ? ADJ : 0;
  // Base64's: where base32's scan is to read (base32-runs.ts Windows32). Every base32 character,
  // and every letter or digit that breaks its run, is one of base64's: the run's length since the
  // last break, the stretch of base32 characters next to each other (`=` counted), the last breaks.
  const win = new Windows32(min32);
  const least32 = win.least;
  let run32 = 0;
  let stretch = 0;
  let last32 = -2;
  let lastBreak = -1;
  let lastHard = -1;
  let n = 0;
  let lastAt = -2;
  const s32: Base32State = { starts: [0], run: 0, broken: false, runBroken: false, first: false, kase: 0, afterLetter: 0, stretch: 0, runStretch: 0 };
  // Base32 reads only its ranges, each begun as after a break; the other alphabets the whole text.
  const ranges = b32 && windows32 ? windows32.a : [0, L, b32 ? 1 : 0];
  const rangesEnd = b32 && windows32 ? windows32.n : 3;
  for (let r = 0; r < rangesEnd; r += 3) {
    const from = ranges[r]!;
    const to = ranges[r + 1]!;
    if (b32) {
      // Lower case read only in a range of it: elsewhere a lower-case letter breaks a run.
      bit = ranges[r + 2] === 1 ? IN32 | IN32L : IN32;
      if (from > 0) {
        n = end32(s32, n, n, min32, pos, vals);
        s32.broken = true;
      }
      lastAt = -2;
    }
    for (let i = from; i < to; i++) {
      const code = text.charCodeAt(i);
      // The hot path first: an ASCII character of the alphabet, not left out.
      const c = code < 128 ? CLASS[code]! : 0;
      if ((c & bit) === 0) {
        if (skip !== null && skip[i] === 1) continue;
        if (code === 92 && escapes) {
          const next = text.charCodeAt(i + 1);
          if (ESCAPES.has(next)) i++;
          else if (next === 117 && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
        } else if (code === 61) {
          // `=` padding: the stretch goes on.
          if (b32 && i === lastAt + 1) {
            if (++s32.stretch > s32.runStretch) s32.runStretch = s32.stretch;
            lastAt = i;
          } else if (b64 && i === last32 + 1) {
            last32 = i;
            if (++stretch >= LOWER_STRETCH && win.open !== 2) win.lower(lastHard + 1);
          }
        } else if (c & BREAK32 && b32) {
          n = end32(s32, n, n, min32, pos, vals);
          s32.broken = true;
        }
        continue;
      }
      if (skip !== null && skip[i] === 1) continue;
      if (hex) {
        if (code === 48 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1))) continue;
      } else if (b64) {
        if (c & BREAK32) {
          // A lower-case letter, or `0`, `1`, `8`, `9` (a break in either case: hard).
          run32 = 0;
          lastBreak = i;
          const hard = (c & IN32L) === 0;
          if (hard) lastHard = i;
          if (win.open !== 0) win.close(i, hard);
        }
        if (c & (IN32 | IN32L)) {
          stretch = i === last32 + 1 ? stretch + 1 : 1;
          last32 = i;
          if (stretch >= LOWER_STRETCH && win.open !== 2) win.lower(lastHard + 1);
          if (c & IN32 && ++run32 >= least32 && win.open === 0) win.upper(lastBreak + 1);
        }
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
    // A range ends at a break (or the text's end): the run ends there.
    if (b32 && to < L) {
      n = end32(s32, n, n, min32, pos, vals);
      s32.broken = true;
    }
  }
  pos.n = n;
  if (!b32) return { vals, pos, starts: n > 0 ? [0, n] : [0], endsText: n > 0, startsText: n > 0, windows32: b64 ? win.done(L) : new IntList() };
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
