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

/**
 * Most combining marks (\p{M}: accents, vowel signs, niqqud, harakat, subjoined letters) one
 * character keeps as written. Why 6: real text stacks at most 4 or 5 (Vietnamese 2, Thai 2,
 * Devanagari with Vedic accents, Hebrew with niqqud and cantillation, Arabic with harakat,
 * Tibetan Sanskrit stacks 2-4), while "Zalgo" text stacks dozens to hundreds, whose ink a browser
 * or terminal paints over the lines around it, hiding them.
 */
export const MAX_MARKS = 6;
const MARK_RUN = new RegExp(`\\p{M}{${MAX_MARKS + 1},}`, 'gu');

// The first two marks (what an accent was meant to be) and ` ⟨N more combining marks⟩ `.
function markCount(run: string): string {
  const marks = Array.from(run);
  return `${marks.slice(0, 2).join('')} ⟨${marks.length - 2} more combining marks⟩ `;
}

/**
 * A run of more than MAX_MARKS combining marks as its first two and a count of the rest. Why
 * exported: the approval views (approvals/reviewable.ts) and the transcript views (UI pages,
 * `warden transcripts show|replay`) count the same runs. Run it after showHidden, so an escaped
 * joiner or variation selector between marks splits no count it could hide.
 */
export function countStackedMarks(s: string): string {
  return s.replace(MARK_RUN, markCount);
}

/**
 * Agent-supplied text as the transcript views show it: hidden characters escaped (showHidden),
 * then stacked marks counted (countStackedMarks). Why not reviewable: blank runs stay as written,
 * so indented JSON and aligned result columns keep their shape.
 */
export function visibleText(s: string): string {
  return countStackedMarks(showHidden(s));
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

/**
 * Letters written right to left (Hebrew, Arabic, Syriac, Thaana, N'Ko and the other RTL blocks).
 * Why exported: the UI card (ui/approvals-page.ts) and the plain-text views (inStoredOrder) must
 * agree on which texts hold them.
 */
export const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

const RTL_ALL = new RegExp(RTL.source, 'gu');

/** A JSON text with its right-to-left letters as \uXXXX escapes (they occur only inside strings). */
export const escapeRtlInJson = (json: string): string => json.replace(RTL_ALL, jsonEscape);

/** Whether a text holds right-to-left letters. */
export const hasRtl = (s: string): boolean => RTL.test(s);

/** The note a plain-text view adds when it held a line in stored order (inStoredOrder). */
export const RTL_NOTE =
  'right-to-left letters (Hebrew, Arabic, …) are shown in stored order, left to right: their words read reversed, and nothing around them is moved';

// LEFT-TO-RIGHT MARK, LEFT-TO-RIGHT OVERRIDE, POP DIRECTIONAL FORMATTING.
const LRM = '\u200e';
const LRO = '\u202d';
const PDF = '\u202c';

/**
 * Text for a bidi-aware plain-text reader (a terminal that applies the Unicode bidi algorithm,
 * Slack, an MCP client's elicitation dialog): hidden characters escaped (showHidden), then every
 * line holding a right-to-left letter held in stored order as LRM + LRO + line + PDF. Why: RTL
 * letters need no control character to reorder the digits and punctuation around them; two Hebrew
 * letters in comments around `5, 50000` drew a call paying out 5 as `50000 ,5`. The override makes
 * every character of the line left to right (none is moved, `>` is not mirrored); the mark first
 * makes the line's own direction left to right for a reader that guesses it from the first strong
 * letter. The agent's own bidi controls (its PDF too) are escaped before the marks are added, so
 * none can close the override early, and the marks are the only raw controls in the result: run
 * nothing that escapes hidden characters over it afterwards (it would show the marks).
 */
export function inStoredOrder(s: string): string {
  return showHidden(s)
    .split('\n')
    .map((l) => (RTL.test(l) ? `${LRM}${LRO}${l}${PDF}` : l))
    .join('\n');
}
