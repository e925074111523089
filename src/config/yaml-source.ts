/**
 * YAML files validated by zod, with every problem mapped back to FILE:LINE and the offending
 * key, so that admins fix the right line the first time.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, WardenError } from '../errors.js';

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
  lineOf(path: (string | number)[]): number;
}

/** Parse a YAML file; syntax errors become ConfigError with lines. */
export function readYamlSource(file: string, text?: string): YamlSource {
  let src: string;
  try {
    src = text ?? readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, line: 0, path: '', message: `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, severity: 'error' }]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
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
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      const range = node && (node as { range?: [number, number, number] }).range;
      if (range) return lc.linePos(range[0]).line;
    }
    return 1;
  };
  return { file, data: doc.toJS({ maxAliasCount: 50 }) ?? {}, lineOf: (p) => keyLine(doc, lc, p) ?? lineOf(p) };
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

/** Validate a source with a zod schema; every issue becomes a problem with its line. */
export function validateSource<T>(source: YamlSource, schema: z.ZodType<T>): { value?: T; problems: ConfigProblem[] } {
  const r = schema.safeParse(source.data);
  if (r.success) return { value: r.data, problems: [] };
  const problems: ConfigProblem[] = [];
  for (const issue of r.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        problems.push({ file: source.file, line: source.lineOf([...path, k]), path: [...path, k].join('.'), message: 'unknown key', severity: 'error' });
      }
      continue;
    }
    problems.push({ file: source.file, line: source.lineOf(path), path: path.join('.'), message: issue.message, severity: 'error' });
  }
  return { problems };
}
