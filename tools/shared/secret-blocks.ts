/**
 * The members of a secret-named block in YAML or pretty-printed JSON: `credentials:` with
 * `user: admin` / `value: hunter2` below it, `"auths": {` with a registry's `"auth"` and
 * `"email"`, `secrets:` with a list of `- value: x`, `password: |` and its lines. Why: the forms
 * of secret-text.ts read a value beside its own name, and a bracket ending its line is no value
 * to them (the members below are read one by one), so members with harmless names showed; compact
 * JSON and closed flow collections are masked whole by secret-text.ts's maskObjectValues.
 *
 * A block is a key line whose value is empty (YAML: the deeper lines, and `- ` items at the
 * key's column), a block scalar (`|`, `>`: its deeper lines), or an open bracket (`{`, `[`, a
 * flow collection left open: the lines until it closes, by bracket depth, and not left of the
 * key's line). Its key is read by secret-names.ts's secretName, the scalar rule; under it every
 * scalar member at any depth is masked, a block scalar folded into `key: ***`, except the
 * members Kubernetes says are not secrets (kube-fields.ts): a known structure under the key
 * reads by its schema (a volume's `secret` source, `imagePullSecrets`, a ServiceAccount's
 * `secrets` references, a projected `serviceAccountToken`; nested in a secret block also a
 * `*Ref` reference's `name`/`key`, `items`, `tolerations`), and a reference name with a name's
 * shape (`secretName: db-creds`), a count (`token_count: 12`), a file mode, `optional`. Members
 * shown here are still read by the forms (`key: hunter2` stays masked outside a KeyRef or items).
 * One pass over the lines: each line pushes at most one block on a stack and pops those it
 * ends, and its bracket depth is counted once, so the cost is linear.
 */
import { blockMemberShown, blockMembers } from './kube-fields.js';
import { countValue, referenceName, secretName, secretValue } from './secret-names.js';
import { crlfLines } from './crlf-lines.js';

const MASK = '***';

/** What a block's members are: none masked (not pushed), all but the exempt ones, or all but a schema's. */
type Mode = 'secret' | ReadonlySet<string>;

interface Block {
  /** The key's column (after an item's dash) and its line's indentation. */
  col: number;
  indent: number;
  /** The bracket depth inside it (JSON or flow), or -1 (YAML: bounded by indentation). */
  depth: number;
  mode: Mode;
}

/** A key line: indentation, an item's dash, a JSON or YAML quoted key or a plain one, then `:` and the rest. */
const KEY = /^( *)(-[ \t]+)?(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z_.][A-Za-z0-9_./-]*))[ \t]*:(.*)$/;
const BLOCK_SCALAR = /^[|>][-+0-9]*(?:[ \t]+#.*)?$/;
/** A value that hides nothing: none, a comment, an empty collection, a mask. */
const EMPTY = /^(?:#.*|\{[ \t]*\}|\[[ \t]*\]|\*\*\*)?,?$/;
/** A line of brackets, commas and dashes only (pretty JSON's `{`, `},`; an item's lone `-`). */
const STRUCTURE = /^[-\[\]{},\s]*$/;

/** A line's bracket depth change, strings skipped (a quote left open runs to the line's end). */
function depthChange(line: string): number {
  let d = 0;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') d++;
    else if (c === '}' || c === ']') d--;
  }
  return d;
}

/** The mode of the block under `key`, in a block of `parent` mode (null: not in one); null when not secret. */
function childMode(parent: Mode | null, key: string): Mode | null {
  if (parent === null) return secretName(key) ? (blockMembers(key, false, false) ?? 'secret') : null;
  if (parent !== 'secret') return parent.has(key) ? parent : 'secret';
  return blockMembers(key, true, referenceName(key)) ?? 'secret';
}

/** Is the scalar member `key: value` of a block of `mode` masked here? */
function masks(mode: Mode | null, key: string, value: string): boolean {
  if (EMPTY.test(value)) return false;
  // Outside a block only a block scalar is this module's: the forms read other values.
  if (mode === null) return BLOCK_SCALAR.test(value) && secretValue(key, value);
  if (mode !== 'secret') return !mode.has(key);
  return !(countValue(key, value) || blockMemberShown(key, value, referenceName(key)));
}

/** Mask the scalar members of secret-named blocks in YAML or pretty-printed JSON text. */
export function maskSecretBlocks(text: string, count?: { n: number }): string {
  if (!text.includes('\n')) return text;
  // A CRLF line is read without its `\r` (`.` stops at it) and gets it back.
  const { raw, lines, cr: crOf } = crlfLines(text);
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const stack: Block[] = [];
  /** Masked lines: index -> [the new line, the line after its last (a folded block scalar)]. */
  const masked = new Map<number, [string, number]>();
  const mask = (i: number, at: number, keepComma: boolean, end = i + 1) => {
    const line = lines[i]!;
    const cr = crOf(i);
    masked.set(i, [`${line.slice(0, at)}${line.slice(0, at).endsWith(':') ? ' ' : ''}${MASK}${keepComma && line.trimEnd().endsWith(',') ? ',' : ''}${cr}`, end]);
    if (count) count.n++;
  };
  /** The line after a block scalar whose indicator is on line `i`, its content deeper than `col`. */
  const scalarEnd = (i: number, col: number) => {
    let end = i + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || indentOf(lines[end]!) > col)) end++;
    while (end > i + 1 && lines[end - 1]!.trim() === '') end--;
    return end;
  };
  let depth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t === '---' || t === '...') {
      stack.length = 0;
      continue;
    }
    const ind = indentOf(line);
    const dash = t === '-' || t.startsWith('- ');
    const before = depth;
    depth += depthChange(line);
    for (let top = stack[stack.length - 1]; top; top = stack[stack.length - 1]) {
      const inside = top.depth >= 0 ? before >= top.depth && ind >= top.indent : ind > top.col || (ind === top.col && dash);
      if (inside) break;
      stack.pop();
    }
    const top = stack[stack.length - 1];
    const mode = top?.mode ?? null;
    const json = top !== undefined && top.depth >= 0;
    let m = KEY.exec(line);
    // A plain key needs a blank after its `:` (`f:secret:`, `image: a:1` are no keys).
    if (m && m[5] !== undefined && m[6] !== '' && !/^[ \t]/.test(m[6]!)) m = null;
    if (!m) {
      if (mode === null || STRUCTURE.test(t)) continue;
      // A list item's or other text's scalar (`- hunter2`, pretty JSON's `"abc",`, a continued plain scalar).
      const at = dash ? line.indexOf('-') + 2 : ind;
      const item = t.replace(/^-[ \t]+/, '');
      if (BLOCK_SCALAR.test(item)) {
        const end = scalarEnd(i, ind);
        mask(i, at, false, end);
        i = end - 1;
      } else if (!EMPTY.test(item)) mask(i, at, json);
      continue;
    }
    const key = m[3] ?? m[4] ?? m[5]!;
    const rest = m[6]!;
    const value = rest.trim();
    const col = m[1]!.length + (m[2]?.length ?? 0);
    const at = line.length - rest.trimStart().length;
    const child = childMode(mode, key);
    if (value === '' || value.startsWith('#')) {
      if (child !== null) stack.push({ col, indent: ind, depth: -1, mode: child });
    } else if (/^[{\[]/.test(value) && depth > before) {
      if (child === null) continue;
      stack.push({ col, indent: ind, depth: before + 1, mode: child });
      // A flow collection left open with members on its line: they are the block's too.
      if (child === 'secret' && !/^[{\[][ \t]*$/.test(value)) mask(i, at, false);
    } else if (masks(mode, key, value)) {
      if (BLOCK_SCALAR.test(value)) {
        // Its lines are text, skipped whole: their brackets are not counted.
        const end = scalarEnd(i, col);
        mask(i, at, false, end);
        i = end - 1;
      } else mask(i, at, json);
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
    out.push(hit[0]);
    i = hit[1] - 1;
  }
  return out.join('\n');
}
