/**
 * The base64 and hex characters of a text, decoded at every alignment, for secret-encodings.ts
 * to search for values in. One pass over the text, then one over its characters per alignment:
 * linear in the text, whatever the values.
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
 * - hex, either case (`xxd -p`, `od -An -tx1`, a byte's digits apart too). Decoded from the
 *   run's first and second digit.
 */

const B64 = new Int8Array(128).fill(-1);
const HEX = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;
const DEC = new Int8Array(128).fill(-1);
'0123456789'.split('').forEach((c, i) => (DEC[c.charCodeAt(0)] = i));
'0123456789abcdef'.split('').forEach((c, i) => (HEX[c.charCodeAt(0)] = HEX[c.toUpperCase().charCodeAt(0)] = i));

/**
 * The bytes decoded from the runs, every alignment of every run one segment, -1 between
 * segments (no value spans one). `at[i]`: where byte i begins, the index of its first bit among
 * all runs' bits (base64: 6 a character) or of its first digit (hex); the next bytes of its
 * segment follow it there.
 */
export interface Decoded {
  bytes: Int16Array;
  at: Int32Array;
  n: number;
  /** The longest segment: a longer value is not looked for. */
  longest: number;
  /** The text index of each character of the runs, in order. */
  pos: Int32Array;
  /** Per alignment of the run that ends the text (whitespace after it at most), its bytes: [from, to) of `bytes`; none: []. */
  last: [number, number][];
  /** The index (among the runs' characters) of that run's last character. */
  lastChar: number;
  /** Numbers (decodeNumbers): the index (among the characters) after byte i's last digit; `at[i]`: its first. */
  ends?: Int32Array;
  /** Per alignment of the run that begins the text (after whitespace at most), its bytes: [from, to) of `bytes`; none: []. */
  first: [number, number][];
}

interface Runs {
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

/**
 * The text's characters of the alphabet, all of one run: every other character between them is
 * skipped (see the module comment), and so is, in hex, the `0` of a `0x` prefix. `skip`:
 * characters also left out (numbered-lines.ts). `escapes`: an escape's letter too (`\n`,
 * `\u00a0` whole); only in a second reading, as a letter after a backslash may be the value's.
 */
function scan(text: string, table: Int8Array, minRun: number, skip: Uint8Array | null, escapes: boolean): Runs {
  const vals = new Uint8Array(text.length);
  const pos = new Int32Array(text.length);
  const hex = table === HEX;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (skip !== null && skip[i] === 1) continue;
    const code = text.charCodeAt(i);
    if (code === 92 && escapes) {
      const next = text.charCodeAt(i + 1);
      if (ESCAPES.has(next)) i++;
      else if (next === 117 && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
      continue;
    }
    const v = code < 128 ? table[code]! : -1;
    if (v < 0) continue;
    if (hex && code === 48 && (text.charCodeAt(i + 1) | 32) === 120 && hexDigit(text.charCodeAt(i + 2)) && !isAlnum(text.charCodeAt(i - 1))) continue;
    vals[n] = v;
    pos[n] = i;
    n++;
  }
  // A run too short to hold any value is dropped.
  if (n < minRun) n = 0;
  return { vals, pos, starts: n > 0 ? [0, n] : [0], endsText: n > 0, startsText: n > 0 };
}

/** The base64 runs of at least `minChars` characters, decoded. */
export function decodeBase64(text: string, minChars: number, skip: Uint8Array | null = null, escapes = false): Decoded {
  const r = scan(text, B64, minChars, skip, escapes);
  const runs = r.starts.length - 1;
  const chars = r.starts[runs]!;
  const bytes = new Int16Array(3 * chars + 4 * runs + 1);
  const at = new Int32Array(bytes.length);
  let n = 0;
  let longest = 0;
  const last: [number, number][] = [];
  const first: [number, number][] = [];
  for (let k = 0; k < runs; k++) {
    const s = r.starts[k]!;
    const e = r.starts[k + 1]!;
    for (const shift of [0, 2, 4, 6]) {
      const from = n;
      // Bits taken from the characters, the first `shift` dropped; a byte out per 8 (integers only: the hot loop).
      let acc = 0;
      let have = -shift;
      let b = s * 6 + shift;
      for (let ci = s; ci < e; ci++) {
        acc = ((acc << 6) | r.vals[ci]!) & 0x3fff;
        have += 6;
        if (have >= 8) {
          have -= 8;
          bytes[n] = (acc >> have) & 0xff;
          at[n++] = b;
          b += 8;
        }
      }
      longest = Math.max(longest, n - from);
      if (k === runs - 1 && r.endsText) last.push([from, n]);
      if (k === 0 && r.startsText) first.push([from, n]);
      bytes[n++] = -1;
    }
  }
  return { bytes, at, n, longest, pos: r.pos, last, lastChar: chars - 1, first };
}

/** The hex runs of at least `minDigits` digits, decoded. */
export function decodeHex(text: string, minDigits: number, skip: Uint8Array | null = null, escapes = false): Decoded {
  const r = scan(text, HEX, minDigits, skip, escapes);
  const runs = r.starts.length - 1;
  const digits = r.starts[runs]!;
  // Each alignment: a byte per two digits, and a break after it.
  const bytes = new Int16Array(digits + 2 * runs + 1);
  const at = new Int32Array(bytes.length);
  let n = 0;
  let longest = 0;
  const last: [number, number][] = [];
  const first: [number, number][] = [];
  for (let k = 0; k < runs; k++) {
    const s = r.starts[k]!;
    const e = r.starts[k + 1]!;
    for (const q of [0, 1]) {
      const from = n;
      for (let d = s + q; d + 1 < e; d += 2) {
        bytes[n] = (r.vals[d]! << 4) | r.vals[d + 1]!;
        at[n++] = d;
      }
      longest = Math.max(longest, n - from);
      if (k === runs - 1 && r.endsText) last.push([from, n]);
      if (k === 0 && r.startsText) first.push([from, n]);
      bytes[n++] = -1;
    }
  }
  return { bytes, at, n, longest, pos: r.pos, last, lastChar: digits - 1, first };
}

/**
 * Bytes printed as numbers, one a number (`od -An -tu1`, `od -b`, `printf '%d,'`, a list of a
 * program's bytes `[104, 117]`, octal escapes `\150\165`), in `radix` 10 or 8: every number of
 * 1 to 3 digits up to 255 is a byte, whatever separates them; a longer or larger one (or, octal,
 * one with an 8 or 9) breaks the bytes there. One alignment; `ends` gives each byte's last digit.
 */
export function decodeNumbers(text: string, radix: 8 | 10, skip: Uint8Array | null = null, escapes = false): Decoded {
  const r = scan(text, DEC, 0, skip, escapes);
  const digits = r.starts[r.starts.length - 1]!;
  const bytes = new Int16Array(digits + 1);
  const at = new Int32Array(bytes.length);
  const ends = new Int32Array(bytes.length);
  let n = 0;
  let from = 0;
  let longest = 0;
  let first: [number, number][] | null = null;
  for (let k = 0; k < digits; ) {
    // A number: digits next to each other in the text.
    let m = k + 1;
    while (m < digits && r.pos[m] === r.pos[m - 1]! + 1) m++;
    let v = 0;
    for (let d = k; d < m && v >= 0; d++) v = r.vals[d]! >= radix ? -1 : v * radix + r.vals[d]!;
    if (m - k <= 3 && v >= 0 && v <= 255) {
      bytes[n] = v;
      at[n] = k;
      ends[n++] = m;
    } else if (n > from) {
      first ??= [[from, n]];
      longest = Math.max(longest, n - from);
      bytes[n++] = -1;
      from = n;
    } else first ??= [];
    k = m;
  }
  longest = Math.max(longest, n - from);
  const last: [number, number][] = n > from ? [[from, n]] : [];
  first ??= last;
  bytes[n++] = -1;
  return { bytes, at, n, longest, pos: r.pos, last, lastChar: digits - 1, first, ends };
}
