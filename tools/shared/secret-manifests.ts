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
 * Not seen: flow YAML spread over lines with `kind` and `data` on different ones; the content
 * detectors may still catch its values.
 */

/** The mask put in place of a secret value (secret-text.ts's SECRET_MASK; that module imports this one). */
const MASK = '***';

/**
 * Where the object or array opening at `from` closes (strings skipped), or the line's end. A
 * YAML flow `'...'` string is skipped too (`{k: 'a}b'}`); a `'` in a plain scalar (`{k: it's}`)
 * then runs to the line's end, which masks more, not less.
 */
export function closingBracket(text: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') return i;
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
const KEY_LINE = /^( *)(-[ \t]+)?(["']?)([A-Za-z_.][A-Za-z0-9_./-]*)\3[ \t]*:(?:[ \t]+(.*))?$/;
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

/** Indexes of the lines holding a Secret's data values in YAML or pretty-printed JSON. */
function secretDataLines(lines: string[]): Set<number> {
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
  for (let i = 0; i < lines.length; i++) {
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
      if (OPENS_BLOCK.test(value)) top.open = i + 1;
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

/** `"kind":"Secret"` (JSON), `{kind: Secret,` or `, kind: 'Secret'}` (YAML flow), not a block line's `kind: Secret`. */
const JSON_SECRET_KIND = /"kind"\s*:\s*"Secret"|[{,][ \t]*["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?[ \t]*[,}]/;
/** `"data": {`, `stringData: {`, `'data': {`; not `metadata: {` (a name character before it). */
const JSON_DATA = /(?<![\w.-])["']?(?:data|stringData)["']?[ \t]*:[ \t]*(?=\{)/g;

/** A compact JSON or YAML flow line holding a Secret: its data objects masked to their closing brackets. */
function maskJsonLine(line: string, count?: { n: number }): string {
  if (!JSON_SECRET_KIND.test(line)) return line;
  let out = '';
  let at = 0;
  JSON_DATA.lastIndex = 0;
  for (let m = JSON_DATA.exec(line); m; m = JSON_DATA.exec(line)) {
    const start = m.index + m[0].length;
    const end = closingBracket(line, start);
    if (line.slice(start, end) === '{}') continue;
    out += line.slice(at, start) + MASK;
    at = end;
    JSON_DATA.lastIndex = end;
    if (count) count.n++;
  }
  return at === 0 ? line : out + line.slice(at);
}

/** Mask the data and stringData values of Secret manifests kept as YAML or JSON text. */
export function maskSecretManifests(text: string, count?: { n: number }): string {
  if (!text.includes('Secret')) return text;
  const lines = text.split('\n');
  const masked = secretDataLines(lines);
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const next = masked.has(i) ? maskDataLine(line) : line.includes('Secret') ? maskJsonLine(line, count) : line;
    if (next === line) continue;
    if (masked.has(i) && count) count.n++;
    lines[i] = next;
    changed = true;
  }
  return changed ? lines.join('\n') : text;
}
