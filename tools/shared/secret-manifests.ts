/**
 * Kubernetes Secret manifests kept as text: a here-doc piped to `kubectl apply`, `kubectl get
 * secret -o yaml|json` run through kubectl_exec or ssh_run, the last-applied annotation (the
 * Secret's JSON on one line) shown in another object's YAML, a Secret YAML inside a ConfigMap's
 * value. Their data keys say nothing (`k: aGVsbG8=`), so masking by name (secret-text.ts) does not
 * see them. Masked here: every `data`/`stringData` value of a mapping that has `kind: Secret`
 * beside it, whatever order the keys come in (kubectl sorts `data` before `kind`).
 * - YAML and pretty-printed JSON are read by indentation, one pass: a mapping is the key lines at
 *   one column until a line to the left of it (an item's `- `, `---`, other text) ends it.
 * - Compact JSON and one-line YAML flow: on a line with `"kind":"Secret"` or `{kind: Secret,`
 *   (`, kind: 'Secret'}`...), every `data`/`stringData` object of the line is masked to its
 *   closing bracket; generous, a List on one line (`items: [{kind: Secret, ...}, {kind:
 *   ConfigMap, ...}]`) loses its ConfigMaps' data too. JSON inside a JSON string, and multi-line
 *   text in one (`"apiVersion: v1\nkind: Secret\n..."`), is decoded first (nested-secrets.ts).
 * - YAML flow spread over several lines (`data: {password: c2VjcmV0,\n  user: YWRt}`, a whole
 *   `{kind: Secret,\n  data: {...}}`): a flow collection left open on a line that has text after
 *   its bracket runs on over the lines indented deeper than that line (or starting with its
 *   closing bracket) until it closes (flowSpans), and is read as one line: a block Secret's flow
 *   `data` is masked whole to `data: ***` (its lines folded into one), a flow Secret's as above.
 *   Why the indentation bound: a bracket left open in other text (a log line `starting {a,`)
 *   must not swallow the lines after it, a block Secret among them. Pretty-printed JSON (`{` or
 *   `"data": {` ending its line) is read by indentation as before.
 */
import { crlfLines } from './crlf-lines.js';

/** The mask put in place of a secret value (secret-text.ts's SECRET_MASK; that module imports this one). */
const MASK = '***';

/**
 * Where the object or array opening at `from` closes (strings skipped), or the line's end. A
 * YAML flow `'...'` string is skipped too (`{k: 'a}b'}`); a `'` in a plain scalar (`{k: it's}`)
 * then runs to the line's end, which masks more, not less.
 */
export function closingBracket(text: string, from: number, multiline = false): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      if (!multiline) return i;
      quote = '';
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/** A mapping key line: indentation, an optional list item dash, a (quoted) key, its value. */
export const KEY_LINE = /^( *)(-[ \t]+)?(["']?)([A-Za-z_.][A-Za-z0-9_./-]*)\3[ \t]*:(?:[ \t]+(.*))?$/;
const SECRET_KIND = /^["']?Secret["']?,?$/;
/** A data value that opens a block on the next lines (YAML nothing, a block scalar, JSON `{`). */
const OPENS_BLOCK = /^(?:[|>][-+0-9]*|\{|\[)?$/;
const BRACKET_LINE = /^[\]}],?$/;

interface Mapping {
  col: number;
  secret: boolean;
  /** Lines [from, to) of its data/stringData values. */
  ranges: number[];
  /** The first line of a data block still open, or -1. */
  open: number;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/** A line's bracket depth from `depth` (quotes skipped), and where its outermost bracket left open opened (-1). */
function bracketDepth(line: string, depth: number): [number, number] {
  let quote = '';
  let open = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) open = i;
    } else if ((c === '}' || c === ']') && depth > 0 && --depth === 0) open = -1;
  }
  return [depth, open];
}

/**
 * For each line, the last line of the multi-line flow collection it opens (itself when none).
 * One pass: a span's lines are scanned once and skipped.
 */
function flowSpans(lines: string[]): number[] {
  const last = lines.map((_, i) => i);
  for (let i = 0; i < lines.length; i = last[i]! + 1) {
    let [depth, open] = bracketDepth(lines[i]!, 0);
    if (depth === 0 || lines[i]!.slice(open + 1).trim() === '') continue;
    const base = indentOf(lines[i]!);
    let j = i + 1;
    for (; j < lines.length && depth > 0; j++) {
      const t = lines[j]!.trim();
      if (t !== '' && indentOf(lines[j]!) <= base && !/^[}\]]/.test(t)) break;
      [depth, open] = bracketDepth(lines[j]!, depth);
    }
    last[i] = j - 1;
  }
  return last;
}

/** Indexes of the lines holding a Secret's data values in YAML or pretty-printed JSON. */
function secretDataLines(lines: string[], spans: number[]): Set<number> {
  const masked = new Set<number>();
  const stack: Mapping[] = [];
  const close = (m: Mapping, at: number) => {
    if (m.open !== -1) m.ranges.push(m.open, at);
    m.open = -1;
  };
  const pop = (at: number, keep: (m: Mapping) => boolean) => {
    while (stack.length && !keep(stack[stack.length - 1]!)) {
      const m = stack.pop()!;
      close(m, at);
      if (m.secret) for (let k = 0; k < m.ranges.length; k += 2) for (let i = m.ranges[k]!; i < m.ranges[k + 1]!; i++) masked.add(i);
    }
  };
  for (let i = 0; i < lines.length; i = spans[i]! + 1) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t === '---' || t === '...') {
      pop(i, () => false);
      continue;
    }
    const m = KEY_LINE.exec(line);
    const ind = line.length - line.trimStart().length;
    if (!m) {
      // JSON's `},` closes the value of a key at its own column; other text ends what it is left of.
      const bracket = BRACKET_LINE.test(t);
      pop(i, (f) => (bracket ? f.col <= ind : f.col < ind));
      const top = stack[stack.length - 1];
      if (top && top.col === ind) close(top, i);
      continue;
    }
    const col = m[1]!.length + (m[2]?.length ?? 0);
    pop(i, (f) => (m[2] ? f.col < col : f.col <= col));
    let top = stack[stack.length - 1];
    if (!top || top.col !== col) stack.push((top = { col, secret: false, ranges: [], open: -1 }));
    close(top, i);
    const key = m[4]!;
    const value = (m[5] ?? '').replace(/[ \t]+#.*$/, '').trim();
    if (key === 'kind' && SECRET_KIND.test(value)) top.secret = true;
    if (key === 'data' || key === 'stringData') {
      if (spans[i]! > i) top.ranges.push(i, spans[i]! + 1);
      else if (OPENS_BLOCK.test(value)) top.open = i + 1;
      else top.ranges.push(i, i + 1);
    }
  }
  pop(lines.length, () => false);
  return masked;
}

/** One line of a Secret's data: a key keeps its name, any other value or text is masked. */
function maskDataLine(line: string): string {
  const m = KEY_LINE.exec(line);
  if (m) {
    const value = (m[5] ?? '').trim();
    if (value === '' || OPENS_BLOCK.test(value) || value === MASK) return line;
    const at = line.length - (m[5] ?? '').length;
    return `${line.slice(0, at)}${MASK}${value.endsWith(',') ? ',' : ''}`;
  }
  const t = line.trim();
  // A blank line (the text's last, a JSON string's trailing `\n`) has nothing to mask.
  if (t === '' || BRACKET_LINE.test(t) || t === '{' || t === '[' || t === MASK) return line;
  return `${line.slice(0, line.length - line.trimStart().length)}${MASK}`;
}

/**
 * `"kind":"Secret"` (JSON), `{kind: Secret,` or `, kind: 'Secret'}` (YAML flow, the `,` or `}` on
 * the next line in a multi-line one), not a block line's `kind: Secret`.
 */
const JSON_SECRET_KIND = /"kind"\s*:\s*"Secret"|[{,]\s*["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?\s*[,}]/;
/** `"data": {`, `stringData: {`, `'data': {`; not `metadata: {` (a name character before it). */
const JSON_DATA = /(?<![\w.-])["']?(?:data|stringData)["']?[ \t]*:[ \t]*(?=\{)/g;

/** A compact JSON or YAML flow line holding a Secret: its data objects masked to their closing brackets. */
function maskJsonLine(line: string, count?: { n: number }, multiline = false): string {
  if (!JSON_SECRET_KIND.test(line)) return line;
  let out = '';
  let at = 0;
  JSON_DATA.lastIndex = 0;
  for (let m = JSON_DATA.exec(line); m; m = JSON_DATA.exec(line)) {
    const start = m.index + m[0].length;
    const end = closingBracket(line, start, multiline);
    if (line.slice(start, end) === '{}') continue;
    out += line.slice(at, start) + MASK;
    at = end;
    JSON_DATA.lastIndex = end;
    if (count) count.n++;
  }
  return at === 0 ? line : out + line.slice(at);
}

/** A multi-line flow span of a Secret's data: its value masked to its closing bracket (the lines folded), or whole. */
function maskDataSpan(span: string): string {
  const first = span.slice(0, span.indexOf('\n'));
  const m = KEY_LINE.exec(first);
  const at = m ? first.length - (m[5] ?? '').length : indentOf(first);
  const end = /^[{[]/.test(span.slice(at, at + 1)) ? closingBracket(span, at, true) : span.length;
  return `${span.slice(0, at)}${MASK}${span.slice(end)}`;
}

/** Mask the data and stringData values of Secret manifests kept as YAML or JSON text. */
export function maskSecretManifests(text: string, count?: { n: number }): string {
  if (!text.includes('Secret')) return text;
  // A CRLF line is read without its `\r` (`.` and `$` stop at it) and gets it back.
  const { raw, lines, cr: crOf } = crlfLines(text);
  const spans = flowSpans(lines);
  const masked = secretDataLines(lines, spans);
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i = spans[i]! + 1) {
    const multi = spans[i]! > i;
    const line = multi ? lines.slice(i, spans[i]! + 1).join('\n') : lines[i]!;
    let next = line;
    if (masked.has(i)) next = multi ? maskDataSpan(line) : maskDataLine(line);
    else if (line.includes('Secret')) next = maskJsonLine(line, count, multi);
    if (next === line) {
      out.push(multi ? raw.slice(i, spans[i]! + 1).join('\n') : raw[i]!);
      continue;
    }
    if (masked.has(i) && count) count.n++;
    changed = true;
    // The span's own line ending on the lines left after masking (a folded span keeps fewer).
    const cr = crOf(i);
    const lastCr = crOf(spans[i]!);
    out.push(`${cr ? next.replace(/\n/g, '\r\n') : next}${lastCr}`);
  }
  return changed ? out.join('\n') : text;
}
