/**
 * A secret value printed with a backslash before some of its characters: `printf %q "$TOKEN"`
 * (`hunter2\?\>~secret`), `sed 's/[^a-z0-9]/\\&/g'`, a shell's or a program's own quoting. The
 * whole and JSON- and shell-quoted spellings secret-env.ts masks have a backslash before a fixed
 * set of characters; `%q` puts one before another set (`,`, `?`, `>`, a space, `!`), differing
 * between shells and versions. So the text is also read with each backslash dropped and the
 * character after it kept as it is (`\\` is one backslash), and each value found there is
 * masked in the text, its escapes with it. Only a text that holds a backslash is read again.
 */

/** Mask each value (one line, found whole) in the text read with its backslash escapes undone; counts into `count`. */
export function maskEscaped(text: string, values: readonly string[], mask: string, count: { n: number }): string {
  if (!text.includes('\\') || values.length === 0) return text;
  // The text without its escapes, and where each of its characters' spelling begins in the text.
  const pieces: string[] = [];
  const from = new Int32Array(text.length + 1);
  let j = 0;
  let piece = 0;
  for (let i = 0; i < text.length; i++, j++) {
    from[j] = i;
    if (text.charCodeAt(i) === 92 && i + 1 < text.length && text.charCodeAt(i + 1) !== 10) {
      // The backslash left out: the text up to it, then from the escaped character on.
      pieces.push(text.slice(piece, i));
      piece = ++i;
    }
  }
  from[j] = text.length;
  pieces.push(text.slice(piece));
  const plain = pieces.join('');
  if (plain.length === text.length) return text;
  // Spans [start, end) of the text, from each value's places in the plain text.
  const spans: [number, number][] = [];
  for (const v of values) {
    for (let k = plain.indexOf(v); k >= 0; k = plain.indexOf(v, k + v.length)) spans.push([from[k]!, from[k + v.length]!]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at) continue;
    parts.push(text.slice(at, s), mask);
    at = e;
    count.n++;
  }
  parts.push(text.slice(at));
  return parts.join('');
}
