/**
 * A second view of a text for encoded-runs.ts: the numbers a program puts before each line, and
 * the text column a hex dump puts after it, left out. `cat -n`, `nl`, `grep -n` number the lines
 * of an encoding, and `xxd`, `hexdump -C`, `od -tx1` print an offset before each line of hex and
 * (xxd, hexdump -C, `od -tx1z`) the bytes as text after it: those digits and letters are of the
 * base64 and hex alphabets, so in the text as it is they sit between the value's characters.
 * Why a second view and not the only one: a line's first word may be data (`od -An -tx1`'s
 * first byte, a base64 line that starts with digits), which the first view keeps.
 * - A number: at a line's start, after blanks, a word of hex digits (a decimal or octal number
 *   too) ended by a character outside the base64 alphabet (a tab, a space, `:`, `)`).
 * - A text column, only on a line that began with a number: from two blanks and `|` (hexdump
 *   -C) or `>` (od -tx1z) to the line's end; after `N:` (xxd), from the first two blanks past
 *   the hex to the line's end.
 */
import { isBlank } from './alphabet-runs.js';

/** The view: which characters are left out, and where a text column was. */
export interface NumberedView {
  /** 1 at each character left out. */
  skip: Uint8Array;
  /** Per line with a text column left out: its line's start, the column's start, the line's end (before CR LF); in order. */
  cols: number[];
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** Outside base64's alphabets (either) and `=`: a character that ends a number's word. */
const ends = (c: number): boolean => !(isHex(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 45 || c === 95 || c === 61);

/** Where `mark` first begins in text[from, end), or -1: within the line only (a search to the text's end on each line would be quadratic). */
function within(text: string, mark: string, from: number, end: number): number {
  const k = text.slice(from, end).indexOf(mark);
  return k < 0 ? -1 : from + k;
}

/** The text column's start on a line (after the number's end `t`), or -1. */
function columnOf(text: string, t: number, end: number, colon: boolean): number {
  for (const mark of ['  |', '  >']) {
    const k = within(text, mark, t, end);
    if (k >= 0) return k;
  }
  if (!colon) return -1;
  let i = t + 1;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return within(text, '  ', i, end);
}

/** The numbered view of a text; null when no line begins with a number (nothing to leave out). One pass: linear in the text. */
export function numberedView(text: string): NumberedView | null {
  let skip: Uint8Array | null = null;
  const cols: number[] = [];
  for (let s = 0; s < text.length; ) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const next = e + 1;
    if (e > s && text.charCodeAt(e - 1) === 13) e--;
    let i = s;
    while (i < e && isBlank(text.charCodeAt(i))) i++;
    let t = i;
    while (t < e && isHex(text.charCodeAt(t))) t++;
    if (t > i && t < e && ends(text.charCodeAt(t))) {
      skip ??= new Uint8Array(text.length);
      skip.fill(1, s, t);
      const col = columnOf(text, t, e, text.charCodeAt(t) === 58);
      if (col >= 0) {
        skip.fill(1, col, e);
        cols.push(s, col, e);
      }
    }
    s = next;
  }
  return skip ? { skip, cols } : null;
}

/**
 * The end of a span masked in this view: a span that ends on a line before its text column is
 * carried to the line's end, so the value's bytes shown as text there are masked too.
 */
export function columnEnd(view: NumberedView, end: number): number {
  const c = view.cols;
  // The last line starting before `end`: binary search over the triples.
  let lo = 0;
  let hi = c.length / 3 - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid * 3]! < end) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (at < 0) return end;
  const col = c[at * 3 + 1]!;
  const lineEnd = c[at * 3 + 2]!;
  return end <= col ? lineEnd : end;
}
