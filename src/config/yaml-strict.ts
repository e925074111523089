/**
 * What a Warden YAML file (warden.yaml, policies, policy tests) may contain, so that it reads the
 * same to the admin, to a reviewer of the file and to Warden. The `yaml` library is lenient where
 * a policy must not be: it decodes invalid UTF-8 to U+FFFD, reads `%YAML 1.1` files with 1.1
 * rules (`no` is false, `1:30` is 90, `<<` merges), turns `01:` into the key "1", makes a
 * `__proto__` key the prototype of a record (zod then drops the entry: a `who.claims` that names
 * nobody), keeps a value whose tag it does not know as a plain string, expands aliases into
 * cycles or bombs, and accepts invisible characters a review cannot see. Each of these is refused
 * here, with the line, so a file that cannot be read exactly as written never loads.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** Largest file read (bytes). Why: a policy is a page of rules; a 1 GiB file is a mistake or an attack. */
export const MAX_YAML_BYTES = 1024 * 1024;
/** Most nodes a document may hold with every alias expanded (an alias bomb stops here). */
export const MAX_YAML_NODES = 200_000;
/** Deepest nesting, aliases expanded (policies nest about eight levels). */
export const MAX_YAML_DEPTH = 64;

/** One problem, before it is given a file: the 1-based line and what is wrong. */
export interface YamlIssue {
  line: number;
  message: string;
}

/** Decode bytes as UTF-8, or null when they are not valid UTF-8 (never a silent U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

// C0/C1 controls other than tab, LF, CR and NEL (not printable in YAML 1.2), format characters
// (zero-width, bidi embeddings and overrides, soft hyphen, a BOM past the start) and the
// Unicode line and paragraph separators: each hides or reorders what a reviewer sees.
const HIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\u2028\u2029\p{Cf}]/u;

/** Text-level problems: too large, or a hidden character (the first one, at its line). */
export function textIssues(text: string): YamlIssue[] {
  const out: YamlIssue[] = [];
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) out.push({ line: 0, message: `file is larger than ${MAX_YAML_BYTES} bytes` });
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const m = HIDDEN.exec(body);
  if (m) {
    const cp = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    const line = body.slice(0, m.index).split('\n').length;
    out.push({ line, message: `invisible or control character U+${cp}: a reviewer cannot see it (write it as the escape "\\u${cp}" inside a double-quoted string)` });
  }
  return out;
}

/**
 * Document-level problems: a YAML version other than 1.2, parser warnings (an unknown tag or
 * directive: the value would load as a plain string), keys that are not plain strings, merge
 * keys, `__proto__`, anchors defined twice, aliases that are unresolved or contain themselves,
 * and documents too large or too deep once aliases are expanded.
 */
export function documentIssues(doc: Document, lc: LineCounter): YamlIssue[] {
  const out: YamlIssue[] = [];
  const lineAt = (n: { range?: [number, number, number] | null } | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const { yaml } = doc.directives ?? { yaml: { explicit: false, version: '1.2' } };
  if (yaml.explicit && yaml.version !== '1.2') out.push({ line: 1, message: `%YAML ${yaml.version} is not supported: Warden reads YAML 1.2 only (1.1 reads no/off as false and 1:30 as 90)` });
  for (const w of doc.warnings) out.push({ line: w.linePos?.[0]?.line ?? lc.linePos(w.pos[0]).line, message: `YAML: ${w.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')} (the value would load as plain text)` });
  const anchors = new Map<string, number>();
  const memo = new Map<Node, { size: number; height: number }>();
  const active = new Set<Node>();
  let stop = false;
  const fail = (line: number, message: string): { size: number; height: number } => {
    out.push({ line, message });
    stop = true;
    return { size: 0, height: 0 };
  };
  const measure = (node: unknown, depth: number): { size: number; height: number } => {
    if (stop || node === null || node === undefined) return { size: 0, height: 0 };
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) return fail(lineAt(node), `alias *${node.source} names no anchor defined before it`);
      if (active.has(target)) return fail(lineAt(node), `alias *${node.source} is inside its own anchor (a cycle)`);
      return measure(target, depth);
    }
    const n = node as Node;
    const known = memo.get(n);
    if (known) {
      if (depth + known.height > MAX_YAML_DEPTH) return fail(lineAt(n), `nesting deeper than ${MAX_YAML_DEPTH} levels (aliases expanded)`);
      return known;
    }
    if (depth > MAX_YAML_DEPTH) return fail(lineAt(n), `nesting deeper than ${MAX_YAML_DEPTH} levels (aliases expanded)`);
    if (n.anchor) {
      const first = anchors.get(n.anchor);
      if (first !== undefined) return fail(lineAt(n), `anchor &${n.anchor} is defined twice (first at line ${first}): an alias would silently mean the later one`);
      anchors.set(n.anchor, lineAt(n));
    }
    active.add(n);
    let size = 1;
    let height = 0;
    const add = (child: unknown): void => {
      const r = measure(child, depth + 1);
      size += r.size;
      height = Math.max(height, r.height + 1);
    };
    if (isMap(n)) {
      for (const pair of n.items) {
        const key = pair.key;
        if (!isScalar(key) || typeof key.value !== 'string') {
          const line = isScalar(key) || isAlias(key) || isMap(key) || isSeq(key) ? lineAt(key) : lineAt(n);
          if (!isScalar(key)) return fail(line, `a key must be a plain string, not ${isAlias(key) ? `the alias *${key.source}` : key ? 'a collection' : 'empty'}`);
          const written = key.source ?? String(key.value);
          return fail(line, key.value === null ? `key ${written || '(empty)'} is null, not a name: quote it if a name is meant` : `key ${written} is a ${typeof key.value}, not a string (it would load as "${String(key.value)}"): quote it, "${written}"`);
        }
        if (key.value === '__proto__') return fail(lineAt(key), 'key __proto__ is refused (JavaScript would read it as the object\'s prototype, not as an entry)');
        if (key.value === '<<' && key.type === 'PLAIN') return fail(lineAt(key), 'merge keys (<<) are not supported: YAML 1.2 reads << as a plain key; write the entries out');
        add(key);
        add(pair.value);
      }
    } else if (isSeq(n)) {
      for (const item of n.items) add(item);
    }
    active.delete(n);
    const r = { size, height };
    memo.set(n, r);
    if (size > MAX_YAML_NODES) return fail(lineAt(n), `more than ${MAX_YAML_NODES} values once aliases are expanded (an alias bomb?)`);
    return r;
  };
  measure(doc.contents, 0);
  return out;
}
