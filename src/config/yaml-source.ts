/**
 * YAML files validated by zod, with every problem mapped back to FILE:LINE and the offending
 * key, so that admins fix the right line the first time.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, WardenError } from '../errors.js';
import { isMissingKey, issueMessage, keysAt, unknownKeyMessage } from './key-hints.js';
import { sharedWriteProblem } from './shared-write.js';
import { decodeUtf8, documentIssues, MAX_YAML_BYTES, textIssues, type YamlIssue } from './yaml-strict.js';

/** One problem in one file. */
export interface ConfigProblem {
  file: string;
  line: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** Thrown when files do not load; `problems` lists every error found. */
export class ConfigError extends WardenError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(ErrorCode.CONFIG, problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** `FILE:LINE: path: message`: the format `warden policy check` prints. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.path ? p.path + ': ' : ''}${p.message}`;
}

/** A parsed YAML document that can answer "which line is this path on". */
export interface YamlSource {
  file: string;
  data: unknown;
  /** The file holds no document at all (empty, or only comments): `data` is then {}. */
  empty: boolean;
  lineOf(path: (string | number)[]): number;
}

const asProblems = (file: string, issues: YamlIssue[]): ConfigProblem[] => issues.map((i) => ({ file, line: i.line, path: '', message: i.message, severity: 'error' as const }));

/**
 * Read a YAML file's text: at most MAX_YAML_BYTES, valid UTF-8 (a byte that is not would
 * otherwise become U+FFFD, a name nobody wrote), and writable by no one but root and the user Warden runs as (shared-write.ts). Why exported: the policy loader hashes exactly
 * the text it parses.
 */
export function readYamlText(file: string): string {
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // One descriptor for the checks and the read; O_NONBLOCK so a FIFO named like a policy cannot hang a reload.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(asProblems(file, [{ line: 0, message: 'not a regular file' }]));
    const shared = sharedWriteProblem(file, st);
    if (shared) throw new ConfigError(asProblems(file, [{ line: 0, message: shared }]));
    if (st.size > MAX_YAML_BYTES) throw new ConfigError(asProblems(file, [{ line: 0, message: `file is larger than ${MAX_YAML_BYTES} bytes` }]));
    bytes = readFileSync(fd);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([{ file, line: 0, path: '', message: `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, severity: 'error' }]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (bytes.length > MAX_YAML_BYTES) throw new ConfigError(asProblems(file, [{ line: 0, message: `file is larger than ${MAX_YAML_BYTES} bytes` }]));
  const text = decodeUtf8(bytes);
  if (text === null) {
    const lossy = bytes.toString('utf8'); // the first U+FFFD is the first bad byte (or a U+FFFD written before it)
    const line = lossy.slice(0, lossy.indexOf('\uFFFD')).split('\n').length;
    throw new ConfigError(asProblems(file, [{ line, message: 'not valid UTF-8 (save the file as UTF-8)' }]));
  }
  return text;
}

/** Parse a YAML file; syntax errors and anything strict-yaml refuses become ConfigError with lines. */
export function readYamlSource(file: string, text?: string): YamlSource {
  const src = text ?? readYamlText(file);
  const textProblems = textIssues(src);
  if (textProblems.length) throw new ConfigError(asProblems(file, textProblems));
  const lc = new LineCounter();
  // resolveKnownTags: false leaves YAML 1.1 tags (!!binary, !!set, !!timestamp...) unresolved, so they are refused below.
  const doc = parseDocument(src, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, resolveKnownTags: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line,
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        severity: 'error' as const,
      })),
    );
  }
  const strict = documentIssues(doc, lc);
  if (strict.length) throw new ConfigError(asProblems(file, strict));
  let data: unknown;
  try {
    // Aliases were bounded and checked for cycles above, so the expansion limit is documentIssues's.
    data = doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    throw new ConfigError(asProblems(file, [{ line: 1, message: `YAML: ${(e as Error).message.split('\n')[0]}` }]));
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      const range = node && (node as { range?: [number, number, number] }).range;
      if (range) return lc.linePos(range[0]).line;
    }
    return 1;
  };
  return { file, data: data ?? {}, empty: data === null || data === undefined, lineOf: (p) => keyLine(doc, lc, p) ?? lineOf(p) };
}

function keyLine(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: (string | number)[]): number | undefined {
  if (path.length === 0) return undefined;
  const parent = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    for (const item of parent.items) {
      if (isScalar(item.key) && item.key.value === last && item.key.range) return lc.linePos(item.key.range[0]).line;
    }
  }
  return undefined;
}

/**
 * Validate a source with a zod schema; every issue becomes a problem with its line, with a hint
 * for a near miss (key-hints.ts). `quoteValues`: the hint may repeat a value (policy and test
 * files only: warden.yaml may hold an inline secret where a reference belongs).
 */
export function validateSource<T>(source: YamlSource, schema: z.ZodType<T>, opts: { quoteValues?: boolean } = {}): { value?: T; problems: ConfigProblem[] } {
  const r = schema.safeParse(source.data);
  if (r.success) return { value: r.data, problems: [] };
  const problems: ConfigProblem[] = [];
  for (const issue of r.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        problems.push({ file: source.file, line: source.lineOf([...path, k]), path: [...path, k].join('.'), message: unknownKeyMessage(schema, path, k, keysAt(source.data, path)), severity: 'error' });
      }
      continue;
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union') && isMissingKey(source.data, path);
    const message = missing ? `missing required key (${issue.message})` : issueMessage(issue, source.data, path, opts.quoteValues === true);
    problems.push({ file: source.file, line: source.lineOf(path), path: path.join('.'), message, severity: 'error' });
  }
  return { problems };
}
