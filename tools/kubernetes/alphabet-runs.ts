/**
 * The characters of a text's encoding alphabets, in one pass, for the decoders (encoded-runs.ts,
 * word-runs.ts): base64 (either alphabet), base32, hex and decimal digits, each character with
 * its place in the text.
 * The run: every character of the alphabet in the text, in order; any other character between
 * two of them is skipped, not a break (see encoded-runs.ts for why). Also skipped: hex's `0x`
 * prefix, and in a second reading an escape's letter (`\n`, `\t`, `\u00a0` of `jq -Rs` or JSON;
 * `n` is a base64 character, and in the first reading a letter after a backslash may be the
 * value's own), and the characters numbered-lines.ts leaves out (`skip`). Base32 alone is
 * broken by a letter or digit outside its alphabet (scanAll).
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

/** One alphabet's characters in a text, in order: each one's value, and its index in the text. */
export interface Runs {
  vals: Uint8Array;
  pos: Int32Array;
  /** Run starts (character indices), then the end of the last. */
  starts: number[];
  /** The last run ends the text, or only whitespace does after it. */
  endsText: boolean;
  /** The first run begins the text, or only whitespace comes before it. */
  startsText: boolean;
}

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

/** The runs of each alphabet in a text, for the decoders. */
export interface AllRuns {
  b64: Runs;
  b32: Runs;
  hex: Runs;
  dec: Runs;
}

/**
 * scan's runs of the four alphabets in one pass over the text. Base32's differ: a letter or digit
 * outside its alphabet (a lower-case letter, `0`, `1`, `8`, `9`) ends a run, and a run shorter
 * than `min32` characters is dropped. Why: `base32` prints upper case only, and read across
 * lower-case text base32 would decode most of an output's capitals at 8 alignments for nothing.
 */
export function scanAll(text: string, skip: Uint8Array | null, escapes: boolean, min32: number): AllRuns {
  const L = text.length;
  const v64 = new Uint8Array(L);
  const p64 = new Int32Array(L);
  const v32 = new Uint8Array(L);
  const p32 = new Int32Array(L);
  const vh = new Uint8Array(L);
  const ph = new Int32Array(L);
  const vd = new Uint8Array(L);
  const pd = new Int32Array(L);
  let n64 = 0;
  let n32 = 0;
  let nh = 0;
  let nd = 0;
  // Base32: the kept runs' ends, the current run's start, and whether a break came before it.
  const starts32 = [0];
  let run32 = 0;
  let broken = false;
  let runBroken = false;
  let first32 = false;
  const end32 = () => {
    if (n32 > run32) {
      if (n32 - run32 < min32) n32 = run32;
      else {
        if (starts32.length === 1) first32 = !runBroken;
        starts32.push(n32);
        run32 = n32;
      }
    }
  };
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
    if (c === 0) continue;
    if (c & IN64) {
      v64[n64] = B64[code]!;
      p64[n64++] = i;
    }
    if (c & IN32) {
      if (n32 === run32) runBroken = broken;
      v32[n32] = B32[code]!;
      p32[n32++] = i;
    } else if (c & BREAK32) {
      end32();
      broken = true;
    }
    if (c & INHEX && !(code === 48 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1)))) {
      vh[nh] = HEX[code]!;
      ph[nh++] = i;
    }
    if (c & INDEC) {
      vd[nd] = DEC[code]!;
      pd[nd++] = i;
    }
  }
  const before = starts32.length;
  end32();
  const whole = (vals: Uint8Array, pos: Int32Array, n: number): Runs => ({ vals, pos, starts: n > 0 ? [0, n] : [0], endsText: n > 0, startsText: n > 0 });
  return {
    b64: whole(v64, p64, n64),
    b32: { vals: v32, pos: p32, starts: starts32, startsText: starts32.length > 1 && first32, endsText: starts32.length > before },
    hex: whole(vh, ph, nh),
    dec: whole(vd, pd, nd),
  };
}
