/**
 * The runs of base64 and hex characters in a text, decoded at every alignment, for
 * secret-encodings.ts to search for values in. One pass over the text, then one over each run
 * per alignment: linear in the text, whatever the values.
 * A run: characters of the alphabet with nothing but ASCII whitespace (space, tab, CR, LF, VT,
 * FF) between any two of them, skipped: `base64`'s and openssl's wrapping, indented lines (a YAML
 * block), `tr '\n' ' '`, `fold`, `paste -sd' '`, CRLF, tabs. Any other character cuts it.
 * `pos` maps each of its characters back to the text, so what is masked is only the characters
 * carrying a value's bits.
 * - base64: characters of either alphabet (`+` and `-` are 62, `/` and `_` 63; `=` ends a run).
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

/** ASCII whitespace: space, tab, line feed, vertical tab, form feed, carriage return. Between two characters of a run it does not cut it. */
export const isBlank = (code: number): boolean => code === 32 || (code >= 9 && code <= 13);

function scan(text: string, table: Int8Array, minRun: number): Runs {
  const vals = new Uint8Array(text.length);
  const pos = new Int32Array(text.length);
  const starts: number[] = [];
  let n = 0;
  let runStart = 0;
  // A character other than the alphabet's and whitespace since the last one of the alphabet (or none yet).
  let cut = true;
  let open = false;
  const close = () => {
    // A run too short to hold any value is dropped.
    if (n - runStart < minRun) n = runStart;
    else starts.push(runStart);
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? table[code]! : -1;
    if (v < 0) {
      if (!isBlank(code)) cut = true;
      continue;
    }
    if (cut) {
      if (open) close();
      runStart = n;
      open = true;
      cut = false;
    }
    vals[n] = v;
    pos[n] = i;
    n++;
  }
  let endsText = false;
  if (open) {
    endsText = !cut;
    const before = starts.length;
    close();
    if (starts.length === before) endsText = false;
  }
  starts.push(n);
  let startsText = n > 0;
  for (let i = 0; startsText && i < pos[0]!; i++) if (!isBlank(text.charCodeAt(i))) startsText = false;
  return { vals, pos, starts, endsText, startsText };
}

/** The base64 runs of at least `minChars` characters, decoded. */
export function decodeBase64(text: string, minChars: number): Decoded {
  const r = scan(text, B64, minChars);
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
    const bits = (r.starts[k + 1]! - s) * 6;
    for (const shift of [0, 2, 4, 6]) {
      const from = n;
      for (let b = shift; b + 8 <= bits; b += 8) {
        const ci = s + Math.floor(b / 6);
        bytes[n] = (((r.vals[ci]! << 6) | r.vals[ci + 1]!) >> (4 - (b % 6))) & 0xff;
        at[n++] = s * 6 + b;
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
export function decodeHex(text: string, minDigits: number): Decoded {
  const r = scan(text, HEX, minDigits);
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
