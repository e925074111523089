/**
 * Text a reviewer decides on, with nothing hidden. Why here: every surface that shows a bound
 * call to a person (web UI, `warden approvals show|list`, the elicitation form) must render the
 * agent's text the same way, and a terminal, unlike a browser, also obeys escape sequences.
 */

/**
 * Control, format and bidi characters (which can reorder, hide or, in a terminal, rewrite what
 * follows: ESC sequences, carriage returns) become visible \u{...} escapes, and runs of 4 or more
 * spaces or tabs become a visible count, so `WHERE id = 1` followed by a comment, 4,000 spaces
 * and `OR true` shows the `OR true` where the reviewer looks. Newlines are kept.
 */
export function reviewable(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/[ \t]{4,}/g, (run) => ` ⟨${run.length} ${/\t/.test(run) ? 'spaces/tabs' : 'spaces'}⟩ `);
}

/** One value for a line of text: strings as they are, anything else as JSON, both made reviewable. */
export function reviewableValue(v: unknown): string {
  return reviewable(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
}
