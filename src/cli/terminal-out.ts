/**
 * Where the CLI's text meets the reviewer's terminal. Every `warden` command writes stdout and
 * stderr through `writeLine`, which shows any remaining hidden character (ESC, C1 controls such
 * as U+009B, carriage returns, backspaces, bidi overrides, zero-width characters) as a visible
 * \u{...} escape, newlines and tabs kept. Why at the write and not only per field: the fields are
 * escaped where they are formatted (transcripts-format.ts, approvals-command.ts, which also keep
 * each field on one line), but error messages quote text Warden did not choose (a requester's
 * name in a refusal, a store's error, a token's subject), and one missed field must not hand the
 * terminal to an agent. `--json` documents are written with `visibleJson`, which leaves nothing
 * for this pass to change, so they stay valid JSON with the exact values.
 *
 * Right-to-left letters: a terminal that applies the Unicode bidi algorithm to each line (VTE >=
 * 0.58, Konsole, mintty) reorders the digits and punctuation around them with no control
 * character, so `pay_out(/*א*\/ 5, 50000 /*ב*\/)` read as paying out 50000. Every human line
 * holding one is written in stored order (visible-text.ts inStoredOrder: the marks are added after
 * the escaping, so the agent's own controls stay escaped and cannot close Warden's override), and
 * the first such output of a run is followed by a note saying their words read reversed. `--json`
 * documents and export lines (jsonDoc) hold those letters as \uXXXX escapes, so they get no marks.
 */
import { RTL_NOTE, escapeRtlInJson, hasRtl, inStoredOrder, visibleJson } from '../visible-text.js';

// Streams that already carried the right-to-left note in this run (once is enough, `replay --follow` too).
const noted = new WeakSet<NodeJS.WritableStream>();

/**
 * Write one line of output, hidden characters made visible and right-to-left lines held in stored
 * order; a final newline added when missing.
 */
export function writeLine(stream: NodeJS.WritableStream, s: string): void {
  let shown = inStoredOrder(s);
  if (hasRtl(s) && !noted.has(stream)) {
    noted.add(stream);
    shown = `${shown.replace(/\n$/, '')}\nnote: ${RTL_NOTE}\n`;
  }
  stream.write(shown.endsWith('\n') ? shown : shown + '\n');
}

/** stdout for the CLI's output (human text or a visibleJson document). */
export const stdoutLine = (s: string): void => writeLine(process.stdout, s);
/** stderr for the CLI's errors and warnings. */
export const stderrLine = (s: string): void => writeLine(process.stderr, s);

/**
 * One `--json` document: the exact values, hidden characters and right-to-left letters as JSON
 * \uXXXX escapes. Why the letters too: a document then holds none, so writeLine adds no marks
 * or note to it (they would make it invalid JSON), and the values parse back the same.
 */
export const jsonDoc = (v: unknown, space?: number): string => escapeRtlInJson(visibleJson(v, space));
