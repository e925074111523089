/**
 * Hidden characters made visible (leaf: used by the reviewer views in approvals, the UI, the
 * CLI's terminal output, the server's log lines and the webhook notifier). Why a leaf of its own:
 * every surface a person or a terminal reads must escape exactly the same set, and these have no
 * dependency, so no layer has to import another's module to use them.
 */

/**
 * What showHidden escapes: control characters (but tab and newline), format characters (bidi,
 * zero-width, soft hyphen), line/paragraph separators, lone surrogates, and every default-ignorable
 * code point (Unicode tag characters U+E0000-E0FFF, variation selectors, U+034F, Hangul fillers,
 * musical format controls), which render as nothing in a browser or terminal. Why the Unicode
 * properties and not a list: a red team hid ` OR 1=1` in tag characters the old list missed; the
 * properties are the set subject folding (policy/who.ts foldName) already removes.
 */
const HIDDEN = /(?![\t\n])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * Control, format, bidi and other invisible characters as visible \u{...} escapes, newlines and
 * tabs kept. Why exported: the transcripts views (show, replay, tables) escape exactly the same set
 * as the reviewer views.
 */
export function showHidden(s: string): string {
  return s.replace(HIDDEN, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A hidden character as JSON escapes (two for a code point past U+FFFF: a surrogate pair). */
function jsonEscape(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * JSON.stringify, with every character showHidden escapes written as a JSON \uXXXX escape.
 * Why: JSON.stringify leaves DEL, C1 controls (U+009B is a CSI to many terminals), bidi overrides,
 * zero-width and line separators raw, so `--json` output, an export, a log line or a webhook body
 * read in a terminal or relayed to chat could still reorder or hide text. The escapes parse back
 * to the exact same value, so machines lose nothing.
 */
export function visibleJson(v: unknown, space?: number, replacer?: (this: unknown, key: string, value: unknown) => unknown): string {
  return (JSON.stringify(v, replacer, space) ?? 'null').replace(HIDDEN, jsonEscape);
}
