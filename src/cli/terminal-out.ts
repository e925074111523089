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
 */
import { showHidden, visibleJson } from '../visible-text.js';

/** Write one line of output, hidden characters made visible; a final newline added when missing. */
export function writeLine(stream: NodeJS.WritableStream, s: string): void {
  const shown = showHidden(s);
  stream.write(shown.endsWith('\n') ? shown : shown + '\n');
}

/** stdout for the CLI's output (human text or a visibleJson document). */
export const stdoutLine = (s: string): void => writeLine(process.stdout, s);
/** stderr for the CLI's errors and warnings. */
export const stderrLine = (s: string): void => writeLine(process.stderr, s);

/** One `--json` document: the exact values, hidden characters as JSON \uXXXX escapes. */
export const jsonDoc = (v: unknown, space?: number): string => visibleJson(v, space);
