/**
 * Text a reviewer decides on, with nothing hidden. Why here: every surface that shows a bound
 * call to a person (web UI, `warden approvals show|list`, the elicitation form, the Slack and
 * webhook previews) must render the agent's text the same way, and a terminal, unlike a browser,
 * also obeys escape sequences. Look-alike letters (a Cyrillic `ѕ` in `uѕers`) are flagged here
 * too, by a script check on each word (policy/lookalike.ts), so every view warns about the same words.
 */
import { lookalikeWhy, WORD } from '../policy/lookalike.js';
import { countStackedMarks, showHidden } from '../visible-text.js';

/** Most combining marks one character keeps as written (visible-text.ts, shared with the transcript views). */
export { MAX_MARKS } from '../visible-text.js';

/**
 * Control, format and bidi characters (which can reorder, hide or, in a terminal, rewrite what
 * follows: ESC sequences, carriage returns) become visible \u{...} escapes, runs of 4 or more
 * blank characters (spaces, tabs, no-break and other Unicode spaces) become a visible count, so `WHERE id = 1` followed by a comment, 4,000 spaces
 * and `OR true` shows the `OR true` where the reviewer looks, and a character carrying more than
 * MAX_MARKS combining marks keeps its first two and a count of the rest (countStackedMarks).
 * Newlines are kept.
 */
export function reviewable(s: string): string {
  return countStackedMarks(showHidden(s).replace(BLANK_RUN, blankCount));
}

/**
 * Characters that draw as blank: tab and every space separator (no-break, ideographic, en/em,
 * narrow, ...) and the braille blank U+2800. Why beyond space and tab: a run of 30,000 no-break
 * spaces (which a browser never wraps at) hid `;DROP TABLE users` far to the right of the card.
 */
const BLANK_RUN = /[\t\p{Zs}\u2800]{4,}/gu;

// ` ⟨N spaces⟩ ` for spaces alone (spaces/tabs with tabs), else ` ⟨N blank characters: U+00A0⟩ `
// naming each kind, so a reviewer sees both that text was blanked and with what.
function blankCount(run: string): string {
  const chars = Array.from(run);
  if (/^[ \t]+$/.test(run)) return ` ⟨${chars.length} ${run.includes('\t') ? 'spaces/tabs' : 'spaces'}⟩ `;
  const kinds = [...new Set(chars)].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  return ` ⟨${chars.length} blank characters: ${kinds.join(', ')}⟩ `;
}

/** One value for a line of text: strings as they are, anything else as JSON, both made reviewable. */
export function reviewableValue(v: unknown): string {
  return reviewable(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
}

const MAX_WORDS = 10;

/**
 * One warning line for all the texts of a view, or null: the words that mix Latin with Cyrillic,
 * Greek or full-width letters (or use full-width or mathematical letters at all), each with the
 * code points that are not plain ASCII: `⚠ look-alike letters (mixed scripts), check these words:
 * "uѕers" (U+0455 Cyrillic)`.
 * Why: `DELETE FROM uѕers` reads as `users` and names another table; a script check per word
 * catches it without a confusables table. Pass the raw texts (before `reviewable`).
 */
export function lookalikeWarning(...texts: string[]): string | null {
  const found = new Map<string, string>();
  for (const t of texts) {
    for (const m of t.matchAll(WORD)) {
      const w = m[0];
      if (found.has(w)) continue;
      const why = lookalikeWhy(w) ?? formWhy(w);
      if (why) found.set(w, why);
    }
  }
  if (!found.size) return null;
  const shown = (w: string) => (Array.from(w).length > 60 ? Array.from(w).slice(0, 60).join('') + '…' : w);
  const list = [...found].slice(0, MAX_WORDS).map(([w, why]) => `"${reviewable(shown(w))}" (${why})`);
  const more = found.size > MAX_WORDS ? `; and ${found.size - MAX_WORDS} more` : '';
  return `⚠ look-alike letters (mixed scripts, compatibility or decomposed letters), check these words: ${list.join('; ')}${more}`;
}

const cp = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why a one-script word still reads as another text, or null: it is not in NFC (`Jose` + U+0301
 * draws as `José`, the Kelvin sign as `K`), or holds a compatibility letter that NFKC turns into
 * plain ASCII (the `ﬁ` ligature, the long `ſ`, superscript or Roman-numeral letters). Why: the
 * backend compares code points (PostgreSQL matches `'José'` byte for byte, a quoted name is
 * exact), so the word names other rows or another table than the one the reviewer reads.
 * Ordinals (`ª`, `º`: other letters) and digits (full-width `２` is no letter) are left alone.
 */
function formWhy(word: string): string | null {
  const nfc = word.normalize('NFC');
  if (nfc !== word) {
    const odd = [...new Set(Array.from(word).filter((ch) => ch.codePointAt(0)! > 0x7f && !nfc.includes(ch)))].slice(0, 6);
    // The composed form is agent text too: cut and shown as every other word (marks counted, hidden escaped).
    const drawn = Array.from(nfc).length > 60 ? Array.from(nfc).slice(0, 60).join('') + '…' : nfc;
    return `${odd.map(cp).join(', ')} not in NFC (a decomposed or duplicate form): it draws as "${reviewable(drawn)}", which is another text`;
  }
  const compat = [...new Set(Array.from(word))].filter((ch) => /[\p{Ll}\p{Lu}\p{Lt}\p{Lm}\p{Nl}]/u.test(ch) && ch.codePointAt(0)! > 0x7f && /^[A-Za-z]+$/.test(ch.normalize('NFKC')));
  return compat.length ? compat.slice(0, 6).map((ch) => `${cp(ch)} compatibility letter, reads as "${ch.normalize('NFKC')}"`).join(', ') : null;
}
