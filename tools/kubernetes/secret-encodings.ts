/**
 * A secret value a program encoded before printing it (`echo $DB_PASSWORD | base64`,
 * `printenv TOKEN | xxd -p`): secret-env.ts masks the value by its bytes, so it also masks these
 * spellings of each value of MIN_VALUE characters or more, up to MAX_ENCODED bytes:
 * - base64, standard and URL-safe alphabets, with or without `=` padding. Why patterns and not
 *   strings: inside a longer encoded text (`DB_PASSWORD=...` encoded whole) the characters of a
 *   value depend on where it starts modulo 3 bytes; for each of the three alignments the
 *   characters fully made of the value's bits are fixed and the one or two at each end that
 *   also hold the neighbouring bytes' bits are a class of the characters those bits allow, so
 *   every character carrying a bit of the value is masked and the neighbours' own are kept.
 *   A line break may fall between any two characters (`base64` wraps at 76 columns, openssl at
 *   64): each line's part of a match becomes the mask, so the line count stays.
 * - hex, either case, bytes adjacent or apart by one or two spaces or a line break
 *   (`xxd -p`, `od -An -tx1` within a line, `hexdump -ve '1/1 "%.2x"'`).
 * Not covered: other encodings (`rev`, gzip, `od -x` byte-swapped words, `xxd`'s offset and
 * text columns across lines), a prefix of an encoding cut at the byte cap, and the encodings of
 * a value longer than MAX_ENCODED bytes.
 */

/**
 * Longer values are not searched for in encoded form. Why so short: a pattern is as long as the
 * encoding, and its scan costs up to its length at each place of the output where it nearly
 * matches (measured on 1 MB of output built to nearly match: 256 bytes 0.25 s, 2 KiB 190 s for a
 * repetitive value; from about 4 KiB V8 cannot compile the pattern at all). Passwords, tokens and
 * API keys fit; a certificate or key in an environment variable is masked as it is, not encoded.
 */
export const MAX_ENCODED = 256;

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Between two characters of an encoding: nothing, or a line break. */
const WRAP = '(?:\\r?\\n)?';
/** Between two hex bytes: nothing, one or two spaces, or a line break (with an indent). */
const HEX_GAP = '(?: {1,2}|\\r?\\n ?)?';

const esc = (c: string) => c.replace(/[-+/\\^$.*?()[\]{}|]/g, '\\$&');

/** The pattern of one character whose known bits (`mask`) are `bits`: the character, or a class of those allowed. */
function charPattern(alphabet: string, bits: number, mask: number): string {
  if (mask === 0x3f) return esc(alphabet[bits]!);
  const allowed: string[] = [];
  for (let c = 0; c < 64; c++) if ((c & mask) === bits) allowed.push(esc(alphabet[c]!));
  return `[${allowed.join('')}]`;
}

/** The base64 pattern of `bytes` starting `lead` bytes (0 to 2) after a 3-byte group boundary. */
function base64Pattern(bytes: Buffer, lead: number, alphabet: string): string {
  const from = lead * 8;
  const to = (lead + bytes.length) * 8;
  const bit = (k: number) => (bytes[(k - from) >> 3]! >> (7 - ((k - from) & 7))) & 1;
  const chars: string[] = [];
  for (let i = Math.floor(from / 6); i * 6 < to; i++) {
    let bits = 0;
    let mask = 0;
    for (let j = 0; j < 6; j++) {
      const k = i * 6 + j;
      if (k >= from && k < to) {
        mask |= 1 << (5 - j);
        bits |= bit(k) << (5 - j);
      }
    }
    chars.push(charPattern(alphabet, bits, mask));
  }
  return chars.join(WRAP);
}

/** The patterns of each value's encodings (values too short or too long: none). */
export function encodedPatterns(values: readonly string[], min: number): RegExp[] {
  const sources = new Set<string>();
  const hex = new Set<string>();
  for (const v of new Set(values.flatMap((x) => [x, x.trim()]))) {
    if (v.length < min) continue;
    const bytes = Buffer.from(v, 'utf8');
    if (bytes.length > MAX_ENCODED) continue;
    for (const alphabet of [STD, URL]) for (const lead of [0, 1, 2]) sources.add(base64Pattern(bytes, lead, alphabet));
    hex.add([...bytes].map((b) => b.toString(16).padStart(2, '0').split('').join(WRAP)).join(HEX_GAP));
  }
  return [...[...sources].map((s) => new RegExp(s, 'g')), ...[...hex].map((s) => new RegExp(s, 'gi'))];
}

/** Mask every match of the patterns, each line of a match as one mask; `count` is told how many. */
export function maskEncoded(text: string, patterns: readonly RegExp[], mask: string, count: { n: number }): string {
  let out = text;
  for (const p of patterns) {
    p.lastIndex = 0;
    out = out.replace(p, (m) => {
      count.n++;
      return m.split(/(\r?\n)/).map((part, i) => (i % 2 === 1 ? part : part.trim() === '' ? part : mask)).join('');
    });
  }
  return out;
}
