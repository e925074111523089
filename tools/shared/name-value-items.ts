/**
 * Secret-named name/value pairs in YAML block mappings (an env list, a probe's httpHeaders):
 * `- name: DB_PASSWORD` and its `value:`, in either order and with other keys of the same item
 * between them (`name:`, `image:`, `value:`), read by indentation like a YAML parser would. Why
 * not a regex: "the same item" is "the same column, nothing to the left of it in between",
 * which a regular expression cannot count; a line scan can, in one pass (each line pushes at
 * most one mapping on a stack and pops what it ends). The next item's `value:` (`- value:` at
 * the item's column), a nested mapping's and `valueFrom:` are not the name's. A block scalar
 * value (`value: |` and its lines), or a value on the lines below `value:`, is masked whole and
 * its lines folded into `value: ***`. JSON and YAML flow pairs are secret-text.ts's forms.
 */
import { KEY_LINE } from './secret-manifests.js';
import { crlfLines } from './crlf-lines.js';

const MASK = '***';

interface Item {
  col: number;
  name?: string;
  /** The `value:` line seen before the name: its index, where its value starts, the line after its last. */
  value?: { line: number; at: number; end: number; text: string };
}

/**
 * `v` without a trailing comment (blanks, `#`, the rest), as `v.replace(/[ \t]+#.*$/, '')` reads it,
 * in one pass. Why not that pattern: it read a run of blanks from each of its blanks, quadratic in
 * a line of 64,000 spaces (3 s). Why exported: a test holds it to the pattern.
 */
export function dropComment(v: string): string {
  // `.*$` holds no line terminator: only a `#` after the last one starts a comment.
  const last = Math.max(v.lastIndexOf('\n'), v.lastIndexOf('\r'), v.lastIndexOf('\u2028'), v.lastIndexOf('\u2029'));
  const hash = /[ \t]#/g;
  hash.lastIndex = last + 1;
  const m = hash.exec(v);
  if (m === null) return v;
  let start = m.index;
  while (start > 0 && (v[start - 1] === ' ' || v[start - 1] === '\t')) start--;
  return v.slice(0, start);
}

/** A quoted scalar without its quotes; a trailing comment dropped. */
const scalar = (v: string) => dropComment(v).trim().replace(/^(["'])(.*)\1$/, '$2');

/**
 * Mask the values of secret-named name/value items of YAML text. `secretValue(name, value)` is
 * secret-names.ts's rule (a count like `token_count` with `value: "12"` is shown).
 */
export function maskNameValueItems(text: string, secretValue: (name: string, value: string) => boolean, count?: { n: number }): string {
  if (!text.includes('value:') || !text.includes('name:')) return text;
  // A CRLF line is read without its `\r` (`.` and `$` stop at it) and gets it back.
  const { raw, lines, cr: crOf } = crlfLines(text);
  const indent = (l: string) => l.length - l.trimStart().length;
  const stack: Item[] = [];
  /** Masked value lines: line index -> [where the value starts, the line after its last]. */
  const masked = new Map<number, [number, number]>();
  const mask = (item: Item) => {
    const v = item.value!;
    if (!item.name || masked.has(v.line) || !secretValue(item.name, v.text)) return;
    masked.set(v.line, [v.at, v.end]);
    if (count) count.n++;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t === '---' || t === '...') {
      stack.length = 0;
      continue;
    }
    const m = KEY_LINE.exec(line);
    // A line that is no key (a sequence's scalar item, other text) ends the mappings right of it,
    // and the one at its column unless it is a `- ` item of a sibling key's sequence.
    const col = m ? m[1]!.length + (m[2]?.length ?? 0) : indent(line);
    const dash = m ? m[2] !== undefined : t.startsWith('- ');
    while (stack.length && (stack[stack.length - 1]!.col > col || (stack[stack.length - 1]!.col === col && (m ? dash : !dash)))) stack.pop();
    if (!m) continue;
    let top = stack[stack.length - 1];
    if (!top || top.col !== col) stack.push((top = { col }));
    // A quoted key is JSON (pretty-printed): its pairs are secret-text.ts's JSON form, which keeps the commas.
    const key = m[3] ? '' : m[4]!;
    const raw = m[5] ?? '';
    if (key === 'name' && top.name === undefined) {
      top.name = scalar(raw);
      if (top.value) mask(top);
    } else if (key === 'value' && top.value === undefined) {
      // A block scalar, or nothing on the line: the value is the deeper lines below.
      let end = i + 1;
      let text = raw;
      if (/^(?:[|>][-+0-9]*)?(?:[ \t]+#.*)?$/.test(raw.trim())) {
        while (end < lines.length && (lines[end]!.trim() === '' || indent(lines[end]!) > col)) text += `\n${lines[end++]}`;
        while (end > i + 1 && lines[end - 1]!.trim() === '') end--;
      }
      top.value = { line: i, at: line.length - raw.length, end, text: end > i + 1 ? text : raw };
      if (top.name !== undefined) mask(top);
      i = end - 1;
    }
  }
  if (!masked.size) return text;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const hit = masked.get(i);
    if (!hit) {
      out.push(raw[i]!);
      continue;
    }
    const line = lines[i]!;
    out.push(`${line.slice(0, hit[0]).replace(/:$/, ': ')}${MASK}${crOf(i)}`);
    i = hit[1] - 1;
  }
  return out.join('\n');
}
