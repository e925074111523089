/**
 * Bytes printed as numbers or as groups of digits, for secret-encodings.ts: a number or group is
 * digits next to each other in the text, read from the decimal or hex runs alphabet-runs.ts
 * scanned.
 * - Numbers (decodeNumbers): one a byte, decimal or octal.
 * - Little-endian words: a group of 4, 8 or 16 hex digits holds 2, 4 or 8 bytes, the last printed
 *   first (`od -x`, `od -tx2`, `hexdump` with no format, `od -tx4`, `xxd -e`, `od -tx8`); the bytes are taken in
 *   their order in memory, so a value at any byte of a word is found.
 * - Bits: a group of 8 binary digits is a byte (`xxd -b`).
 * Any other group (a longer or shorter one, a digit outside the kind) breaks the bytes there. A
 * byte's characters (`at`, `ends`) are its whole group's: a masked word takes its neighbour's
 * bytes with it, never leaves a byte of the value shown.
 */
import { ADJ } from './alphabet-runs.js';
import { NONE, type Decoded, type Runs } from './encoded-runs.js';
import { Ascending, IntList, type Scratch } from './int-lists.js';

/** The end (index after its last digit) of the number or group whose first digit is k: digits next to each other in the text. */
function groupEnd(vals: Uint8Array, k: number, digits: number): number {
  let m = k + 1;
  while (m < digits && vals[m]! & ADJ) m++;
  return m;
}

/** Which groups are bytes: hex words (bytes reversed), or 8 bits. */
export type GroupKind = 'words' | 'bits';

/** The groups of `r` (hex runs for words, decimal for bits), decoded; `pairs`: as decodeHex's. */
export function decodeGroups(r: Runs, kind: GroupKind, pairs: Uint8Array, scratch: Scratch): Decoded {
  const digits = r.starts[r.starts.length - 1]!;
  const bytes = scratch.bytes(digits + 1);
  // Each byte's group's first digit (ascending, 2 bytes an entry); its end: groupEnd.
  const at = new Ascending(scratch.at(bytes.length));
  const hits = new IntList();
  const { vals, pos } = r;
  let n = 0;
  let from = 0;
  let longest = 0;
  let prev = NONE;
  let first: [number, number][] | null = null;
  const put = (x: number, k: number) => {
    if (pairs[(prev << 8) | x] === 1) hits.push(n - 1);
    prev = x;
    bytes[n++] = x;
    at.push(k);
  };
  for (let k = 0; k < digits; ) {
    const m = groupEnd(vals, k, digits);
    const len = m - k;
    let ok = false;
    if (kind === 'words' && (len === 4 || len === 8 || len === 16)) {
      ok = true;
      for (let d = m - 2; d >= k; d -= 2) put(((vals[d]! & ~ADJ) << 4) | (vals[d + 1]! & ~ADJ), k);
    } else if (kind === 'bits' && len === 8) {
      let v = 0;
      for (let d = k; d < m && v >= 0; d++) v = (vals[d]! & ~ADJ) > 1 ? -1 : (v << 1) | (vals[d]! & ~ADJ);
      if (v >= 0) {
        ok = true;
        put(v, k);
      }
    }
    if (!ok) {
      if (n > from) {
        first ??= [[from, n]];
        longest = Math.max(longest, n - from);
        bytes[n++] = -1;
        at.push(k);
        from = n;
        prev = NONE;
      } else first ??= [];
    }
    k = m;
  }
  longest = Math.max(longest, n - from);
  const last: [number, number][] = n > from ? [[from, n]] : [];
  first ??= last;
  bytes[n++] = -1;
  at.push(digits);
  return { bytes, at: (i) => at.get(i), n, longest, pos, last, lastChar: digits - 1, first, ends: (i) => groupEnd(vals, at.get(i), digits), hits };
}

/**
 * Bytes printed as numbers, one a number (`od -An -tu1`, `od -b`, `printf '%d,'`, a list of a
 * program's bytes `[104, 117]`, octal escapes `\150\165`), in `radix` 10 or 8: every number of
 * 1 to 3 digits up to 255 is a byte, whatever separates them; a longer or larger one (or, octal,
 * one with an 8 or 9) breaks the bytes there. One alignment; `ends` gives each byte's last digit.
 */
export function decodeNumbers(r: Runs, radix: 8 | 10, pairs: Uint8Array, scratch: Scratch): Decoded {
  const digits = r.starts[r.starts.length - 1]!;
  const bytes = scratch.bytes(digits + 1);
  const at = new Ascending(scratch.at(bytes.length));
  const vals = r.vals;
  let n = 0;
  let from = 0;
  let longest = 0;
  let first: [number, number][] | null = null;
  const hits = new IntList();
  let prev = NONE;
  for (let k = 0; k < digits; ) {
    // A number: digits next to each other in the text.
    const m = groupEnd(vals, k, digits);
    let v = 0;
    for (let d = k; d < m && v >= 0; d++) v = (vals[d]! & ~ADJ) >= radix ? -1 : v * radix + (vals[d]! & ~ADJ);
    if (m - k <= 3 && v >= 0 && v <= 255) {
      if (pairs[(prev << 8) | v] === 1) hits.push(n - 1);
      prev = v;
      bytes[n++] = v;
      at.push(k);
    } else if (n > from) {
      first ??= [[from, n]];
      longest = Math.max(longest, n - from);
      bytes[n++] = -1;
      at.push(k);
      from = n;
      prev = NONE;
    } else first ??= [];
    k = m;
  }
  longest = Math.max(longest, n - from);
  const last: [number, number][] = n > from ? [[from, n]] : [];
  first ??= last;
  bytes[n++] = -1;
  at.push(digits);
  return { bytes, at: (i) => at.get(i), n, longest, pos: r.pos, last, lastChar: digits - 1, first, ends: (i) => groupEnd(vals, at.get(i), digits), hits };
}
