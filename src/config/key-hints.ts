/**
 * Hints for config and policy keys: an unknown key names the allowed key it was probably meant
 * to be (`efect` -> `effect`), else the keys allowed there; a required key that is absent says
 * it is missing. Why: "unknown key" alone sent admins to the reference for a one-letter typo.
 * The allowed keys are read from the zod schema itself, so they never drift from it.
 */
import type { z } from 'zod';

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; element?: unknown; valueType?: unknown; options?: unknown[]; left?: unknown; right?: unknown; getter?: () => unknown };

const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object schemas a value at `path` may have to match (through optional, default, pipe, unions...). */
function objectsAt(schema: unknown, path: (string | number)[], depth = 0): Def[] {
  const d = defOf(schema);
  if (!d || depth > 64) return [];
  const next = (s: unknown, p: (string | number)[] = path) => objectsAt(s, p, depth + 1);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return next(d.innerType);
    case 'pipe':
      return next(d.in);
    case 'lazy':
      return d.getter ? next(d.getter()) : [];
    case 'union':
      return (d.options ?? []).flatMap((o) => next(o));
    case 'intersection':
      return [...next(d.left), ...next(d.right)];
  }
  if (path.length === 0) return d.type === 'object' ? [d] : [];
  const [head, ...rest] = path;
  if (d.type === 'object') return typeof head === 'string' && d.shape && Object.hasOwn(d.shape, head) ? next(d.shape[head], rest) : [];
  if (d.type === 'array') return typeof head === 'number' ? next(d.element, rest) : [];
  if (d.type === 'record') return next(d.valueType, rest);
  return [];
}

/** Restricted Damerau-Levenshtein distance (a swapped pair of letters counts once). */
function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const dp = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) dp[i]![j] = Math.min(dp[i]![j]!, dp[i - 2]![j - 2]! + 1);
    }
  }
  return dp[m]![n]!;
}

/**
 * The candidate `word` was probably meant to be: the same in another case, else within two edits
 * (fewer for short words), or a prefix within three; undefined when none is close. Why exported:
 * policy check also names the tool or connection a misspelt one was meant to be.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  return candidates
    .map((k) => ({ k, d: k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase()) }))
    .filter((c) => c.d <= Math.min(2, Math.floor(Math.max(word.length, c.k.length) / 3)) || (c.d <= 3 && (c.k.toLowerCase().startsWith(lower) || lower.startsWith(c.k.toLowerCase()))))
    .sort((a, b) => a.d - b.d)[0]?.k;
}

/**
 * The message for an unknown `key` in the object at `path` (relative to `schema`): the closest
 * allowed key not already written (`present`), else the allowed keys. Why exported: warden.yaml's
 * connections are validated by each family's schema, apart from the file's own.
 */
export function unknownKeyMessage(schema: z.ZodType, path: (string | number)[], key: string, present: readonly string[] = []): string {
  const allowed = [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
  if (!allowed.length) return 'unknown key';
  const best = closest(key, allowed.filter((k) => !present.includes(k)));
  return best ? `unknown key (did you mean "${best}"?)` : `unknown key (allowed here: ${allowed.join(', ')})`;
}

/** Keys of the object at `path` in parsed YAML data (none when it is not an object). */
export function keysAt(data: unknown, path: (string | number)[]): string[] {
  let v = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}

/** Is the last key of `path` absent from an object that is present (a required key left out)? */
export function isMissingKey(data: unknown, path: (string | number)[]): boolean {
  if (!path.length || typeof path[path.length - 1] !== 'string') return false;
  let v = data;
  for (const p of path.slice(0, -1)) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return !!v && typeof v === 'object' && !Array.isArray(v) && !Object.hasOwn(v, path[path.length - 1]!);
}

const UNIT_MS: [RegExp, number][] = [
  [/^(ms|msecs?|milli(second)?s?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000],
  [/^(d|days?)$/, 86_400_000],
];

/**
 * A duration written another way (`5min`, `1.5 minutes`, `2 d`) as Warden spells it (`5m`,
 * `90s`, `48h`), or null. Why: "expected a duration" left the admin to guess which unit names
 * Warden reads; the hint never changes what is accepted.
 */
export function durationSpelling(input: string): string | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\.?\s*$/i.exec(input);
  if (!m) return null;
  const unit = UNIT_MS.find(([re]) => re.test(m[2]!.toLowerCase()));
  if (!unit) return null;
  const ms = Number(m[1]) * unit[1];
  if (!Number.isSafeInteger(ms) || ms <= 0) return null;
  for (const [suffix, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (ms % size === 0) return `${ms / size}${suffix}`;
  }
  return null;
}

/** The parsed value at `path` (undefined when absent). */
function valueAt(data: unknown, path: (string | number)[]): unknown {
  let v = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

/**
 * A zod issue's message with what to write instead, when the value is a near miss: a keyword in
 * another case or with a typo (`Allow`), one name where a list goes (`groups: analysts`), a list
 * where a map goes (`programs: [uptime]`). `quote` lets the hint repeat the value: only for
 * policy and test files, which hold no secrets (warden.yaml's values may be inline secrets).
 */
export function issueMessage(issue: { code: string; message: string; expected?: unknown; values?: unknown[] }, data: unknown, path: (string | number)[], quote: boolean): string {
  const v = valueAt(data, path);
  if (issue.code === 'invalid_value' && typeof v === 'string' && issue.values?.every((x) => typeof x === 'string')) {
    const near = (issue.values as string[]).find((x) => x.toLowerCase() === v.toLowerCase()) ?? (issue.values as string[]).find((x) => distance(x.toLowerCase(), v.toLowerCase()) <= Math.min(2, Math.floor(x.length / 3)));
    return near === undefined ? issue.message : `${issue.message} (did you mean "${near}"?)`;
  }
  if (issue.code !== 'invalid_type' || v === undefined || v === null) return issue.message;
  const isMap = typeof v === 'object' && !Array.isArray(v);
  if (issue.expected === 'array' && !isMap && !Array.isArray(v)) {
    const said = quote && /^[\w.@:/*+-]{1,80}$/.test(String(v)) ? `write [${String(v)}]` : 'write it in brackets: [...]';
    return `expected a list, not a single value (${said})`;
  }
  if (issue.expected === 'array' && isMap) return 'expected a list, not a map';
  if ((issue.expected === 'record' || issue.expected === 'object') && Array.isArray(v)) return 'expected a map of name: value, not a list';
  return issue.message;
}
