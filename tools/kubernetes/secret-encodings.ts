/**
 * A secret value a program encoded before printing it (`echo $DB_PASSWORD | base64`,
 * `printenv TLS_KEY | xxd -p`): secret-env.ts masks the value by its bytes, so it also masks
 * these spellings of each value of MIN_VALUE characters or more, of any length (a certificate
 * or private key in an environment variable too; a Secret's value that is not UTF-8, a binary
 * key, by its bytes):
 * - base64, standard and URL-safe alphabets, with or without `=` padding, alone or inside a
 *   longer encoded text (`TLS_KEY=...` encoded whole) at any of its byte alignments;
 * - hex, either case (`xxd -p`, `od -An -tx1`, `hexdump -ve '1/1 "%.2x"'`, `xxd -i`'s `0x68,`,
 *   `\x68` escapes);
 * - its bytes as decimal or octal numbers, one a number (`od -An -tu1`, `od -b`, `\150`);
 * all with any other characters between two encoded ones (encoded-runs.ts: `base64`'s wrapping,
 * an indented YAML block, `paste -sd,`, `tr '\n' '|'`, quoted pieces, a no-break space, `jq`'s
 * `\n` escapes), and also read with each line's number or offset and a hex dump's text column
 * left out (numbered-lines.ts: `cat -n`, `nl`, `grep -n`, `xxd`, `hexdump -C`, `od -tx1`).
 * How: the text's base64 and hex characters and its numbers are decoded at every alignment
 * and each value whose first bytes occur there (one pass for all values) is looked for in the
 * bytes (Knuth-Morris-Pratt): time linear in the output for each value, whatever its length.
 * None when no value is looked for (secret-env.ts builds no masker). What is masked is every
 * character carrying a bit of the value (the one or two at each end that also hold a
 * neighbour's bits included, the neighbours' own characters kept) and what lies between them,
 * each line of it as one mask, so the line count stays: each line's leading and trailing blanks
 * (an indentation) are kept; a span ending before a hex dump's text column takes that column
 * too (the value's bytes shown as text).
 * Where the output was cut (the byte cap), the text's decoded tail that is a prefix of a
 * value, MIN_VALUE bytes or more of it, is masked from there to its end; where a text begins
 * after something left out (a kubectl_logs window after the log's first lines), a decoded head
 * that is a suffix of a value (as many bytes) is masked to there.
 * Why not patterns (as before): a pattern is as long as the encoding and its scan costs up to
 * its length at each place of the output that nearly matches it; from about 4 KiB V8 could not
 * compile one, so values over 256 bytes went unmasked in encoded form.
 * Not covered: other encodings (`rev`, gzip, `od -x` byte-swapped words, `xxd -b` bits, base32),
 * a part of a value encoded alone (`${TLS_KEY:100}`, each piece encoded on its own), numbers
 * not at a line's start between the encoded lines (`cat -n | paste -sd,`), alphabet characters
 * put between the pieces (`paste -sd x`, `sed 's/^/data: /'`, a timestamp before each line),
 * fewer than MIN_VALUE bytes of a value at a cut end or start.
 */
import { decodeBase64, decodeHex, decodeNumbers, isBlank, type Decoded } from './encoded-runs.js';
import { columnEnd, numberedView } from './numbered-lines.js';

interface Value {
  bytes: Uint8Array;
  fail: Int32Array | null;
  /** The bytes reversed, and their failure table (a suffix at a cut start). */
  rev: Uint8Array | null;
  failRev: Int32Array | null;
}

/** The KMP failure table of `p` (built on first use, kept with its value). */
function failTable(p: Uint8Array): Int32Array {
  const fail = new Int32Array(p.length);
  for (let i = 1, k = 0; i < p.length; i++) {
    while (k > 0 && p[i] !== p[k]) k = fail[k - 1]!;
    if (p[i] === p[k]) k++;
    fail[i] = k;
  }
  return fail;
}

const failOf = (v: Value): Int32Array => (v.fail ??= failTable(v.bytes));

/**
 * The longest suffix of the value that `d.bytes[from, to)` begins with (KMP over both reversed),
 * read from at most the value's length of bytes: linear in it.
 */
function suffixAtStart(d: Decoded, v: Value, from: number, to: number): number {
  const L = v.bytes.length;
  const rev = (v.rev ??= v.bytes.slice().reverse());
  const fail = (v.failRev ??= failTable(rev));
  let k = 0;
  for (let i = Math.min(to, from + L) - 1; i >= from; i--) {
    const x = d.bytes[i]!;
    if (k === L) k = fail[k - 1]!;
    while (k > 0 && x !== rev[k]) k = fail[k - 1]!;
    if (x === rev[k]) k++;
  }
  return k;
}

/** Tell `found` each place of `d.bytes[from, to)` where the value ends (the index after it); returns the state at `to`. */
function search(d: Decoded, v: Value, from: number, to: number, found: (endIndex: number) => void): number {
  const p = v.bytes;
  const fail = failOf(v);
  const bytes = d.bytes;
  let k = 0;
  for (let i = from; i < to; i++) {
    const x = bytes[i]!;
    if (x < 0) {
      k = 0;
      continue;
    }
    while (k > 0 && x !== p[k]) k = fail[k - 1]!;
    if (x === p[k]) k++;
    if (k === p.length) {
      found(i + 1);
      k = fail[k - 1]!;
    }
  }
  return k;
}

/** Bytes of a value's head: the prefilter's window, and the least value (or cut-end prefix) looked for. */
const HEAD = 4;

/**
 * The values whose first HEAD bytes occur in the decoded runs: only those are searched for. Why:
 * one pass for all values, where each value's search is a pass of its own; a value's match, or
 * its prefix at a cut end (HEAD bytes or more), begins with those bytes.
 */
interface Heads {
  /** By a window's first two bytes: may a value begin there? */
  pairs: Uint8Array;
  /** The values (indices) by their first HEAD bytes. */
  byHead: Map<number, number[]>;
}

function headsOf(values: readonly Value[]): Heads {
  const pairs = new Uint8Array(65536);
  const byHead = new Map<number, number[]>();
  for (const [i, v] of values.entries()) {
    const b = v.bytes;
    const h = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    pairs[h >>> 16] = 1;
    byHead.set(h, [...(byHead.get(h) ?? []), i]);
  }
  return { pairs, byHead };
}

/** The values (indices) whose heads occur in `d`. */
function present(d: Decoded, heads: Heads, count: number): Set<number> {
  const out = new Set<number>();
  const { pairs, byHead } = heads;
  let h = 0;
  let len = 0;
  for (let i = 0; i < d.n; i++) {
    const x = d.bytes[i]!;
    if (x < 0) {
      len = 0;
      continue;
    }
    h = ((h << 8) | x) >>> 0;
    if (++len < HEAD || pairs[h >>> 16] === 0) continue;
    const hit = byHead.get(h);
    if (!hit) continue;
    for (const v of hit) out.add(v);
    if (out.size === count) break;
  }
  return out;
}

/** Text spans [start, end) to mask, in any order. */
type Spans = number[];

/** How a byte maps to the characters: 8 bits of 6-bit characters, 2 hex digits, or a number of its own. */
type Unit = 'bit' | 'digit' | 'number';

/** The spans of each value found in the decoded runs, and at a cut end the prefix of one. */
function spansIn(d: Decoded, values: readonly Value[], heads: Heads, unit: Unit, min: number, cut: Cut, out: Spans): void {
  // Among the runs' characters: the first holding a bit of byte i, and the last.
  const firstOf = (i: number) => (unit === 'bit' ? Math.floor(d.at[i]! / 6) : d.at[i]!);
  const lastOf = (i: number) => (unit === 'bit' ? Math.floor((d.at[i]! + 7) / 6) : unit === 'digit' ? d.at[i]! + 1 : d.ends![i]! - 1);
  // Text span of bytes [a, b).
  const push = (a: number, b: number) => out.push(d.pos[firstOf(a)]!, d.pos[lastOf(b - 1)]! + 1);
  for (const i of present(d, heads, values.length)) {
    const v = values[i]!;
    const L = v.bytes.length;
    if (L <= d.longest) search(d, v, 0, d.n, (end) => push(end - L, end));
    if (!cut.end) continue;
    for (const [from, to] of d.last) {
      if (to - from < min) continue;
      // The state at the end: the longest prefix of the value the segment ends with; masked to the run's end.
      const k = search(d, v, Math.max(from, to - L), to, () => undefined);
      if (k >= min) out.push(d.pos[firstOf(to - k)]!, d.pos[d.lastChar]! + 1);
    }
  }
  // A suffix at a cut start ends with the value's last bytes, not its head: every value is tried (at most its length each).
  if (!cut.start) return;
  for (const v of values) {
    for (const [from, to] of d.first) {
      if (to - from < min) continue;
      const k = suffixAtStart(d, v, from, to);
      // From the run's first character: the bits before the segment's first byte are the value's too.
      if (k >= min) out.push(d.pos[0]!, d.pos[lastOf(from + k - 1)]! + 1);
    }
  }
}

/** One line of a masked span as one mask, its leading and trailing blanks (indentation) kept; blank: as it is. */
function maskLine(part: string, mask: string): string {
  let a = 0;
  while (a < part.length && isBlank(part.charCodeAt(a))) a++;
  if (a === part.length) return part;
  let b = part.length;
  while (isBlank(part.charCodeAt(b - 1))) b--;
  return part.slice(0, a) + mask + part.slice(b);
}

/** Mask the spans (merged where they overlap or touch), each line of one as one mask; how many masks. */
function applySpans(text: string, spans: Spans, mask: string): { text: string; n: number } {
  const order: number[] = [];
  for (let i = 0; i < spans.length; i += 2) order.push(i);
  order.sort((x, y) => spans[x]! - spans[y]!);
  const parts: string[] = [];
  let at = 0;
  let n = 0;
  let i = 0;
  while (i < order.length) {
    const start = spans[order[i]!]!;
    let end = spans[order[i]! + 1]!;
    for (i++; i < order.length && spans[order[i]!]! <= end; i++) end = Math.max(end, spans[order[i]! + 1]!);
    parts.push(text.slice(at, start));
    parts.push(text.slice(start, end).split(/(\r?\n)/).map((part, j) => (j % 2 === 1 ? part : maskLine(part, mask))).join(''));
    at = end;
    n++;
  }
  parts.push(text.slice(at));
  return { text: parts.join(''), n };
}

/** Where the text was cut: at its end (the byte cap), at its start (a log window's first line). */
export interface Cut {
  start: boolean;
  end: boolean;
}

/** Masks the base64 and hex spellings of a set of values in texts; null: no value to look for. */
export interface EncodedMasker {
  (text: string, mask: string, cut: Cut, count: { n: number }): string;
}

/** A value as text (looked for as its UTF-8), or as bytes (a Secret's value that is not UTF-8). */
export type SecretValue = string | Uint8Array;

/**
 * The masker of each value's (and its trimmed form's) encodings; values shorter than `min`
 * characters (bytes) or HEAD bytes: none.
 */
export function encodedMasker(values: readonly SecretValue[], min: number): EncodedMasker | null {
  const seen = new Set<string>();
  const list: Value[] = [];
  for (const v of new Set(values.flatMap((x): SecretValue[] => (typeof x === 'string' ? [x, x.trim()] : [x])))) {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    if (v.length < min || bytes.length < HEAD) continue;
    const key = bytes.toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    list.push({ bytes: new Uint8Array(bytes), fail: null, rev: null, failRev: null });
  }
  if (!list.length) return null;
  const heads = headsOf(list);
  // The least value, and the least prefix at a cut end, of HEAD bytes at least.
  const least = Math.max(HEAD, min);
  return (text, mask, cut, count) => {
    const spans: Spans = [];
    // Two readings: the text as it is; then, where it has numbered lines or a backslash, with line
    // numbers, offsets and hex dumps' text columns left out (numbered-lines.ts) and escapes undone.
    const numbered = numberedView(text);
    const second = numbered !== null || text.includes('\\');
    for (const escapes of second ? [false, true] : [false]) {
      const found: Spans = [];
      const view = escapes ? numbered : null;
      const skip = view?.skip ?? null;
      // A run shorter than the encoding of `least` bytes holds no value, nor a prefix to mask.
      const b64 = decodeBase64(text, Math.ceil((8 * least) / 6), skip, escapes);
      if (b64.n > 0) spansIn(b64, list, heads, 'bit', least, cut, found);
      const hex = decodeHex(text, 2 * least, skip, escapes);
      if (hex.n > 0) spansIn(hex, list, heads, 'digit', least, cut, found);
      for (const radix of [10, 8] as const) {
        const num = decodeNumbers(text, radix, skip, escapes);
        if (num.longest >= least) spansIn(num, list, heads, 'number', least, cut, found);
      }
      // A span ending before a hex dump's text column takes the rest of that line: the value's bytes as text.
      if (view) for (let i = 1; i < found.length; i += 2) found[i] = columnEnd(view, found[i]!);
      for (const x of found) spans.push(x);
    }
    if (!spans.length) return text;
    const r = applySpans(text, spans, mask);
    count.n += r.n;
    return r.text;
  };
}
