/**
 * The folded reading of a text: what a person or a model reads in it, spelled in the ASCII the
 * detectors know. Text can carry a secret that every plain pattern misses while any reader still
 * sees it: characters that render as nothing (zero-width, soft hyphen, bidi controls, variation
 * selectors, NUL), look-alikes (full-width digits and `＠`, other scripts' decimal digits, Unicode
 * dashes and spaces, combining marks over ASCII), Unicode tag characters that spell ASCII
 * invisibly, or one escape layer (`%40`, JSON `\u0040` and `\/`, HTML `&#64;`).
 *
 * Limits, by design: one escape layer is decoded (`%2540` stays `%40`); homoglyphs of another
 * script (Cyrillic `а` for Latin `a`) are letters, not look-alikes; an address written out
 * (`alice [at] example [dot] com`) is a person's deliberate spelling and is not recognised (it
 * would cost a pattern test on every cell); a secret transformed by what produced it (reversed,
 * interleaved with visible characters, base64 of anything but a private key, split across cells,
 * rows or lines) is not reassembled. A function allow-list and column masks are the wall there;
 * content detectors are a net.
 */

/**
 * Cheap test for texts that may read differently folded: any character outside printable ASCII
 * and the letters of the common scripts (Latin, Cyrillic, kana, CJK, Hangul, which folding never
 * changes into anything a detector reads), or an escape character (`%`, `&`, `\`). Why: it runs
 * on every cell, as one native character-class scan; foldText decides the rest.
 */
export const FOLD_HINT = /[^\t\n\r\x20-\x24\x27-\x5B\x5D-\x7E\u00C0-\u024F\u0400-\u0482\u048A-\u04FF\u3041-\u3096\u30A1-\u30FA\u4E00-\u9FFF\uAC00-\uD7A3]/;

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const ESCAPES = /\\u([0-9A-Fa-f]{4})|\\\/|&#(?:[xX]([0-9A-Fa-f]{1,6})|([0-9]{1,7}));/g;
const NON_ASCII = /[^\x00-\x7F]/;
// Invisible and look-alike characters left after NFKC; ASCII digits, '-' and ' ' are excluded by
// the lookaheads so the callback runs only where something changes.
const UNICODE_FOLD =
  /[\u{E0020}-\u{E007E}]|[^\S\t\n\r ]|(?![0-9])\p{Nd}|(?!-)[\p{Pd}\u2212\u2796\uFE63\uFF0D]|(?![\t\n\r])[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]|(?<=[\x21-\x7E])\p{M}+/gu;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const DASH = /^[\p{Pd}\u2212\u2796\uFE63\uFF0D]$/u;
const SPACE = /^(?!\uFEFF)\s$/;

function fromCode(code: number): string {
  return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

function decodePercentRun(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    // Not UTF-8: keep each byte as the character of the same number (what a reader would guess).
    return run.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Value of a decimal digit of any script: Unicode encodes each script's 0-9 as one ascending run. */
function digitValue(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  let start = cp;
  for (let k = 0; k < 60 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1)); k++) start--;
  return String((cp - start) % 10);
}

function foldChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0xe0020 && cp <= 0xe007e) return String.fromCharCode(cp - 0xe0000); // tag characters spell ASCII
  if (DECIMAL_DIGIT.test(ch)) return digitValue(ch);
  if (DASH.test(ch)) return '-';
  if (SPACE.test(ch)) return ' ';
  return ''; // controls, format and default-ignorable characters (U+FEFF too), marks over ASCII
}

/**
 * The folded reading of `text` (the same string when folding changes nothing). Why: the scanner
 * runs the detectors over this reading too, so a secret disguised as above is still found.
 */
export function foldText(text: string): string {
  let s = text;
  if (s.includes('%')) s = s.replace(PERCENT_RUN, decodePercentRun);
  if (s.includes('\\') || s.includes('&#')) {
    s = s.replace(ESCAPES, (m, u?: string, hex?: string, dec?: string) =>
      u !== undefined ? String.fromCharCode(parseInt(u, 16)) : hex !== undefined ? fromCode(parseInt(hex, 16)) : dec !== undefined ? fromCode(Number(dec)) : m === '\\/' ? '/' : m,
    );
  }
  if (NON_ASCII.test(s)) s = s.normalize('NFKC');
  s = s.replace(UNICODE_FOLD, foldChar);
  return s;
}
