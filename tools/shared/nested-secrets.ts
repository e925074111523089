/**
 * Secret-named assignments that secret-text.ts's forms step over because they sit inside
 * something else:
 * - inside the value of a non-secret assignment: `JAVA_OPTS=-Ddb.password=hunter2 -Xmx1g`,
 *   `opts=password=hunter2`, `CATALINA_OPTS="-Dx.keyStorePassword=pw"`. The forms match the
 *   outer name and take its whole value, so the inner name was never tried;
 * - inside a JSON string holding JSON (`"{\"password\":\"pw\"}"`, a structured log line's
 *   message, the last-applied annotation in `kubectl get -o json`): the escaped quotes hide
 *   the member from the JSON form. The string is decoded, masked like any text, and encoded again.
 *   So is a JSON string holding lines (`"apiVersion: v1\nkind: Secret\ndata:\n  k: ..."`,
 *   `"LOG=1\nDB_PASSWORD=..."`): `\n` is no line break to the forms, and a name behind it
 *   (`\nDB_PASSWORD=`) reads as `nDB_PASSWORD` after a backslash.
 * Both are linear: each `=` is looked at once and its name read backwards up to the last
 * separator (names hold no `=`), and each JSON string is decoded once per level, to MAX_DEPTH.
 */

const MASK = '***';

/** Characters a name is made of (secret-text.ts's NAME, plus a `-D` or `--` before it). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
/** What may stand before a nested name: the line's start, a blank, a separator, a quote, or the outer `=`. */
const BEFORE = new Set([' ', '\t', '\n', '\r', ';', '&', '|', '(', '`', '"', "'", '?', '{', ',', '=']);
/** An unquoted value ends at a blank, a separator or a quote (form 5 of secret-text.ts). */
const VALUE_END = new Set([' ', '\t', '\n', '\r', ';', '&', '|', ')', '"', "'", '`', ',']);

/** Where the value starting at `from` ends: a quoted one at its closing quote (or the line's end). */
function valueEnd(text: string, from: number): number {
  const q = text[from];
  if (q === '"' || q === "'") {
    for (let i = from + 1; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') return i;
      if (c === '\\' && q === '"') i++;
      else if (c === q) return i + 1;
    }
    return text.length;
  }
  let i = from;
  // `\"` ends a value inside an escaped JSON string; another backslash is part of the value.
  while (i < text.length && !VALUE_END.has(text[i]!) && !(text[i] === '\\' && text[i + 1] === '"')) i++;
  return i;
}

/**
 * Mask the values of secret-named `NAME=value` assignments however deep in other values they
 * sit. `secret(name)` is secret-text.ts's secretName, `maskable(name, value)` its full test (not
 * a shell directory); a value is read only beside a secret name, and never twice.
 */
export function maskNestedAssignments(
  text: string,
  secret: (name: string) => boolean,
  maskable: (name: string, value: string) => boolean,
  count?: { n: number },
): string {
  let out = '';
  let at = 0;
  let from = 0;
  for (let eq = text.indexOf('='); eq !== -1; eq = text.indexOf('=', from)) {
    from = eq + 1;
    let s = eq;
    while (s > at && NAME_CHAR.test(text[s - 1]!)) s--;
    if (s === eq || (s > 0 && !BEFORE.has(text[s - 1]!))) continue;
    const run = text.slice(s, eq);
    if (!/^-*[A-Za-z_]/.test(run)) continue;
    const name = run.startsWith('-D') && !secret(run.slice(1)) ? run.slice(2) : run.replace(/^-+/, '');
    if (!secret(name)) continue;
    const end = valueEnd(text, eq + 1);
    from = Math.max(end, eq + 1);
    const value = text.slice(eq + 1, end);
    if (value === '' || value === MASK || !maskable(name, value)) continue;
    out += text.slice(at, eq + 1) + MASK;
    at = end;
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * A JSON string that holds JSON (`"{\"`, `"[{\"`, `"["`, pretty-printed `"{\n`) or lines: a `\n`
 * among its first 200 characters, not the one ending it (a Docker log's `"...\n"` is not read).
 * The bound keeps the look-ahead from each `"` linear over runs of `\"`; a string whose first
 * line is longer is left to the forms.
 */
const ENCODED_JSON = /"(?=\{\\["n]|\[\{\\"|\[\\["n]|(?:[^"\\\n]|\\[^n\n]){0,200}\\n(?!"))/g;
/**
 * JSON inside JSON inside JSON is decoded, three strings deep. Why a bound: each level masks its
 * whole text again, so the cost is MAX_DEPTH passes at most. A string the bound leaves encoded
 * (JSON or lines four strings deep) is masked whole, fail closed: its names hide behind escapes
 * no form reads. Four levels are rare (a log shipper's line about another's).
 */
const MAX_DEPTH = 3;

/** Where the JSON string opening at `from` closes (after its quote), or -1 when the line or text ends first. */
function stringEnd(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') return -1;
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

/** A JSON string literal's text, or null; a cut one loses a half escape at its end (`\\`, `\\u12`). */
function decode(literal: string, cut: boolean): string | null {
  for (let k = 0; k <= (cut ? 5 : 0); k++) {
    try {
      const v: unknown = JSON.parse(cut ? `${literal.slice(0, literal.length - k)}"` : literal);
      return typeof v === 'string' ? v : null;
    } catch {
      // a shorter cut may end on a whole escape
    }
  }
  return null;
}

/**
 * Each JSON string holding JSON, decoded, masked by `mask` (the whole masker, one level deeper)
 * and encoded again when something in it was masked. A string cut at the output cap (no closing
 * quote) is read to the line's end and stays open.
 */
export function maskEncodedJson(text: string, depth: number, mask: (text: string, depth: number) => string, count?: { n: number }): string {
  if (!text.includes('\\"') && !text.includes('\\n')) return text;
  let out = '';
  let at = 0;
  const re = new RegExp(ENCODED_JSON); // its own lastIndex: `mask` comes back here one level deeper
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index;
    const close = stringEnd(text, start);
    const cut = close === -1;
    let end = close;
    if (cut) {
      const eol = text.indexOf('\n', start);
      end = eol === -1 ? text.length : eol;
    }
    // Skipped whole even when it does not decode: a candidate inside it would read to the same end.
    re.lastIndex = end;
    const decoded = decode(text.slice(start, end), cut);
    if (decoded === null) continue;
    // At the bound the string is not read: masked whole (kept open when cut).
    const masked = depth >= MAX_DEPTH ? MASK : mask(decoded, depth + 1);
    if (depth >= MAX_DEPTH && count) count.n++;
    if (masked === decoded) continue;
    const encoded = JSON.stringify(masked);
    out += text.slice(at, start) + (cut ? encoded.slice(0, -1) : encoded);
    at = end;
  }
  return at === 0 ? text : out + text.slice(at);
}
