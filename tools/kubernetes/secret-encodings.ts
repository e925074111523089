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
 * - base32, upper case (`base32`) or lower (`base32 | tr A-Z a-z`): a letter of the other case or
 *   a digit outside it ends a run; a lower-case run is read only with 16 characters in a row
 *   (`=` padding counted), so a value under about 10 bytes alone in lower case is not;
 * - its bytes as decimal or octal numbers, one a number (`od -An -tu1`, `od -b`, `\150`), as
 *   little-endian hex words of 2, 4 or 8 bytes (`od -x`, `od -tx2`, `hexdump`, `od -tx4`,
 *   `od -tx8`), or as
 *   8 bits each (`xxd -b`) (word-runs.ts);
 * all with any other characters between two encoded ones (encoded-runs.ts: `base64`'s wrapping,
 * an indented YAML block, `paste -sd,`, `tr '\n' '|'`, quoted pieces, a no-break space, `jq`'s
 * `\n` escapes), and also read with each line's number or offset and a hex dump's text column
 * left out (numbered-lines.ts: `cat -n`, `nl`, `grep -n`, `xxd`, `hexdump -C`, `od -tx1`).
 * How: one pass collects the text's base64 characters (alphabet-runs.ts); the hex and then the
 * decimal characters are taken from its arrays in place, and base32's scan reads only the ranges
 * base64's pass found a long enough run of it in (base32-runs.ts Windows32); they are
 * decoded at every alignment, the decoders telling where a value's first two bytes occur, and
 * each value is looked for from those places only (value-search.ts: Knuth-Morris-Pratt, time
 * linear in the output for each value, whatever its length). Memory: one alphabet and one
 * alignment at a time, searched and dropped before the next, in arrays reused for the whole text
 * (int-lists.ts Scratch, 1 or 2 bytes an entry): about 5 to 9 bytes per output byte at the peak,
 * the text and its masked copy included, where collecting every alphabet at once with 4-byte
 * places and decoding every alignment at once took about 35.
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
 * Not covered: other encodings (gzip, `rev` after an encoding, mixed-case base32), a `0x`
 * prefix's `0` as a decimal byte,
 * a part of a value encoded alone (`${TLS_KEY:100}`, each piece encoded on its own), numbers
 * not at a line's start between the encoded lines (`cat -n | paste -sd,`), alphabet characters
 * put between the pieces (`paste -sd x`, `sed 's/^/data: /'`, a timestamp before each line),
 * fewer than MIN_VALUE bytes of a value at a cut end or start.
 */
import { decimalOf, hexOf, isBlank, scanRuns } from './alphabet-runs.js';
import { decodeBase32, decodeBase64, decodeHex, type Decoded, type EachAlignment } from './encoded-runs.js';
import { candidates, HEAD, headsOf, search, searchAt, suffixAtStart, type Heads, type Value } from './value-search.js';
import { decodeGroups, decodeNumbers } from './word-runs.js';
import { columnEnd, numberedView } from './numbered-lines.js';
import { Scratch } from './int-lists.js';

/** Text spans [start, end) to mask, in any order. */
type Spans = number[];

/** How a byte maps to the characters: 8 bits of 6- or 5-bit characters, 2 hex digits, or a number or group of its own (`ends`). */
type Unit = 'bit' | 'digit' | 'number';

/** The spans of each value found in the decoded runs, and at a cut end the prefix of one. */
function spansIn(d: Decoded, values: readonly Value[], heads: Heads, unit: Unit, min: number, cut: Cut, out: Spans): void {
  // Among the runs' characters: the first holding a bit of byte i, and the last.
  const w = d.width ?? 1;
  const firstOf = (i: number) => (unit === 'bit' ? Math.floor(d.at(i) / w) : d.at(i));
  const lastOf = (i: number) => (unit === 'bit' ? Math.floor((d.at(i) + 7) / w) : unit === 'digit' ? d.at(i) + 1 : d.ends!(i) - 1);
  // Text span of bytes [a, b).
  const push = (a: number, b: number) => out.push(d.pos.get(firstOf(a)), d.pos.get(lastOf(b - 1)) + 1);
  for (const [i, at] of candidates(d, heads)) {
    const v = values[i]!;
    const L = v.bytes.length;
    if (L <= d.longest) searchAt(d, v, at, (end) => push(end - L, end));
    if (!cut.end) continue;
    for (const [from, to] of d.last) {
      if (to - from < min) continue;
      // The state at the end: the longest prefix of the value the segment ends with; masked to the run's end.
      const k = search(d, v, Math.max(from, to - L), to, () => undefined);
      if (k >= min) out.push(d.pos.get(firstOf(to - k)), d.pos.get(d.lastChar) + 1);
    }
  }
  // A suffix at a cut start ends with the value's last bytes, not its head: every value is tried (at most its length each).
  if (!cut.start) return;
  for (const v of values) {
    for (const [from, to] of d.first) {
      if (to - from < min) continue;
      const k = suffixAtStart(d, v, from, to);
      // From the run's first character: the bits before the segment's first byte are the value's too.
      if (k >= min) out.push(d.pos.get(0), d.pos.get(lastOf(from + k - 1)) + 1);
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
    const scratch = new Scratch();
    const second = numbered !== null || text.includes('\\');
    for (const escapes of second ? [false, true] : [false]) {
      const found: Spans = [];
      const view = escapes ? numbered : null;
      const skip = view?.skip ?? null;
      // Each alphabet scanned, decoded one alignment at a time and searched, then dropped before
      // the next (alphabet-runs.ts, encoded-runs.ts): the peak is one alphabet's and one alignment's arrays.
      // A run shorter than the encoding of `least` bytes holds no value, nor a prefix to mask.
      const inBits: EachAlignment = (d) => {
        if (d.n > 0) spansIn(d, list, heads, 'bit', least, cut, found);
      };
      // One pass over the text for base64's characters; hex's and decimal's are taken from its
      // arrays in turn (alphabet-runs.ts hexOf, decimalOf); base32's scan only in the ranges it found.
      const min32 = Math.ceil((8 * least) / 5);
      let runs = scanRuns(text, skip, escapes, 'b64', min32, scratch);
      // Where base32's scan is to read: base64's scan found them (base32-runs.ts Windows32).
      const windows32 = runs.windows32!;
      decodeBase64(runs, Math.ceil((8 * least) / 6), heads.pairs, scratch, inBits);
      // Bytes as numbers, as little-endian hex words, as 8 bits (word-runs.ts).
      const inNumbers = (num: Decoded) => {
        if (num.longest >= least) spansIn(num, list, heads, 'number', least, cut, found);
      };
      runs = hexOf(runs, text);
      decodeHex(runs, 2 * least, heads.pairs, scratch, (d) => {
        if (d.n > 0) spansIn(d, list, heads, 'digit', least, cut, found);
      });
      inNumbers(decodeGroups(runs, 'words', heads.pairs, scratch));
      runs = decimalOf(runs);
      inNumbers(decodeNumbers(runs, 10, heads.pairs, scratch));
      inNumbers(decodeNumbers(runs, 8, heads.pairs, scratch));
      inNumbers(decodeGroups(runs, 'bits', heads.pairs, scratch));
      if (windows32.n > 0) decodeBase32(scanRuns(text, skip, escapes, 'b32', min32, scratch, windows32), heads.pairs, scratch, inBits);
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
