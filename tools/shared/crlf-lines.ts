/**
 * Text split into lines for the line-based maskers (secret-blocks.ts, name-value-items.ts,
 * secret-manifests.ts): each line read without a trailing `\r`, since command output may have
 * Windows line endings and `.`, `$` and the key patterns stop at it (a CRLF Secret was not masked
 * at all), and each line's own `\r` to put back on output.
 */
export interface CrlfLines {
  /** The lines as written, `\r` included. */
  raw: string[];
  /** The lines without a trailing `\r`. */
  lines: string[];
  /** Line i's `\r` ('' for an LF line). */
  cr(i: number): '' | '\r';
}

export function crlfLines(text: string): CrlfLines {
  const raw = text.split('\n');
  const lines = raw.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return { raw, lines, cr: (i) => (raw[i]!.length > lines[i]!.length ? '\r' : '') };
}
