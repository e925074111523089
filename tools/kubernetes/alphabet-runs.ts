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
const DEC = new Int8Array(128).fill(-1);
'0123456789'.split('').forEach((c, i) => (DEC[c.charCodeAt(0)] = i));
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
  /** Base64's scan: the longest run of base32 characters (no other letter or digit between), to skip base32's scan when short. */
  longest32?: number;
}

/** In a hex or decimal run's `vals`: the digit follows the previous one with nothing between (one number or group, word-runs.ts). */
export const ADJ = 16;

/** ASCII whitespace: space, tab, line feed, vertical tab, form feed, carriage return (a masked line's indentation, kept). */
export const isBlank = (code: number): boolean => code === 32 || (code >= 9 && code <= 13);

/** After a backslash: an escape (`\n`, `\t` in JSON or `printf %q`) whose letter is no encoded character. */
const ESCAPES = new Set([...'nrtbfv'].map((c) => c.charCodeAt(0)));
const hexDigit = (c: number): boolean => c < 128 && HEX[c]! >= 0;
const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Each ASCII character's alphabets: base64, base32, hex, decimal; or a letter or digit that breaks a base32 run. */
const IN64 = 1;
const IN32 = 2;
const INHEX = 4;
const INDEC = 8;
const BREAK32 = 16;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  CLASS[c] = (B64[c]! >= 0 ? IN64 : 0) | (B32[c]! >= 0 ? IN32 : isAlnum(c) ? BREAK32 : 0) | (HEX[c]! >= 0 ? INHEX : 0) | (DEC[c]! >= 0 ? INDEC : 0);
}

/** An alphabet of the scan. */
export type Alphabet = 'b64' | 'b32' | 'hex' | 'dec';
const BIT: Record<Alphabet, number> = { b64: IN64, b32: IN32, hex: INHEX, dec: INDEC };
const VALUE: Record<Alphabet, Int8Array> = { b64: B64, b32: B32, hex: HEX, dec: DEC };

/** Base32's scan: the kept runs' ends, the current run's start, and whether a break came before it. */
interface Base32State {
  starts: number[];
  run: number;
  broken: boolean;
  runBroken: boolean;
  first: boolean;
}

/** A base32 run ends: kept, or dropped when shorter than min32 (its characters' places too); the characters' count after. */
function end32(s: Base32State, n: number, min32: number, pos: Ascending): number {
  if (n === s.run) return n;
  if (n - s.run < min32) {
    pos.truncate(s.run);
    return s.run;
  }
  if (s.starts.length === 1) s.first = !s.runBroken;
  s.starts.push(n);
  s.run = n;
  return n;
}

/**
 * The runs of one alphabet in a text, for the decoders: one pass per alphabet, each alphabet's
 * runs decoded and dropped before the next is scanned (its arrays, 3 bytes a character, are the
 * scan's largest). Base32's differ: a letter or digit outside its alphabet (a lower-case letter,
 * `0`, `1`, `8`, `9`) ends a run, and a run shorter than `min32` characters is dropped. Why:
 * `base32` prints upper case only, and read across lower-case text base32 would decode most of
 * an output's capitals at 8 alignments for nothing.
 */
export function scanRuns(text: string, skip: Uint8Array | null, escapes: boolean, alphabet: Alphabet, min32: number, scratch: Scratch): Runs {
  const L = text.length;
  const vals = scratch.vals(L);
  const pos = new Ascending(scratch.pos(L));
  const low = pos.lows();
  let next = 0;
  const bit = BIT[alphabet];
  const value = VALUE[alphabet];
  const b32 = alphabet === 'b32';
  const hex = alphabet === 'hex';
  const adj = alphabet === 'hex' || alphabet === 'dec' ? ADJ : 0;
  // Base64's: every base32 character and every letter or digit that breaks its run is one of base64's.
  let run32 = 0;
  let longest32 = 0;
  let n = 0;
  let lastAt = -2;
  const s32: Base32State = { starts: [0], run: 0, broken: false, runBroken: false, first: false };
  for (let i = 0; i < L; i++) {
    if (skip !== null && skip[i] === 1) continue;
    const code = text.charCodeAt(i);
    if (code === 92 && escapes) {
      const next = text.charCodeAt(i + 1);
      if (ESCAPES.has(next)) i++;
      else if (next === 117 && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
      continue;
    }
    if (code >= 128) continue;
    const c = CLASS[code]!;
    if ((c & bit) === 0) {
      if (b32 && c & BREAK32) {
        n = end32(s32, n, min32, pos);
        s32.broken = true;
      }
      continue;
    }
    if (hex && code === 48 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1))) continue;
    if (b32 && n === s32.run) s32.runBroken = s32.broken;
    else if (c & IN32) run32++;
    else if (c & BREAK32) {
      if (run32 > longest32) longest32 = run32;
      run32 = 0;
    }
    if (i >= next) next = pos.begin(i, n);
    low[n] = i;
    vals[n++] = value[code]! | (i === lastAt + 1 ? adj : 0);
    lastAt = i;
  }
  pos.n = n;
  if (!b32) return { vals, pos, starts: n > 0 ? [0, n] : [0], endsText: n > 0, startsText: n > 0, longest32: Math.max(longest32, run32) };
  const before = s32.starts.length;
  end32(s32, n, min32, pos);
  return { vals, pos, starts: s32.starts, startsText: s32.starts.length > 1 && s32.first, endsText: s32.starts.length > before };
}
