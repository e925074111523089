/**
 * Shell glob matching without backtracking blow-up. Why not a RegExp: a word of k stars,
 * `^.*.*...q$`, tries every way of splitting a name among the stars (C(k + n, n) for an
 * n-letter name), so an agent's `nice ****...q` held the event loop for minutes. This matcher
 * keeps only the last star's restart point: at most (pattern + 1) x (name + 1) steps.
 */

/** One glob element: any run of characters, any one character, or one literal character. */
type Part = { kind: 'star' } | { kind: 'one' } | { kind: 'char'; c: string };

/**
 * How a caller reads pattern characters, each generously (a pattern matches at least what bash
 * may expand it to): `bracket` reads `[...]` (`[a-z]`, `[!x]`, `[[:alpha:]]`) as any one
 * character and an unclosed `[` as a literal; `loose` takes brackets, braces and extglob
 * characters (`[]{}()@!+|,`) each as any run; `extglob` reads `[...]` as any one character and
 * `@(...)`, `!(...)`, `+(...)`, `*(...)`, `?(...)` as any run.
 */
export type GlobMode = 'bracket' | 'loose' | 'extglob';

const LOOSE = new Set('[]{}()@!+|,');

/** The pattern's parts; runs of stars are one star. */
function globParts(pattern: string, mode: GlobMode): Part[] {
  const parts: Part[] = [];
  const star = (): void => {
    if (parts[parts.length - 1]?.kind !== 'star') parts.push({ kind: 'star' });
  };
  // indexOf from ever later starts: once a search fails, every later one does (no quadratic rescans).
  const missing = new Set<string>();
  const find = (mark: string, from: number): number => {
    if (missing.has(mark)) return -1;
    const at = pattern.indexOf(mark, from);
    if (at < 0) missing.add(mark);
    return at;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (mode === 'loose' && LOOSE.has(c)) star();
    else if (mode === 'extglob' && '@!+*?'.includes(c) && pattern[i + 1] === '(' && find(')', i) >= 0) {
      star();
      i = find(')', i);
    } else if (mode === 'extglob' && c === '[' && find(']', i + 2) >= 0) {
      parts.push({ kind: 'one' });
      i = find(']', i + 2);
    } else if (c === '*') star();
    else if (c === '?') parts.push({ kind: 'one' });
    else if (mode === 'bracket' && c === '[') {
      let j = i + 1;
      if (pattern[j] === '!' || pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') {
        const inner = pattern[j] === '[' ? pattern[j + 1] : undefined;
        // `[:`, `[=`, `[.` run to their `:]`.
        const close = inner === ':' || inner === '=' || inner === '.' ? find(`${inner}]`, j + 2) : -1;
        j = close < 0 ? j + 1 : close + 2;
      }
      if (j >= pattern.length) parts.push({ kind: 'char', c });
      else {
        parts.push({ kind: 'one' });
        i = j;
      }
    } else parts.push({ kind: 'char', c });
  }
  return parts;
}

/** Steps taken by the last match (tests assert the bound). */
let steps = 0;

function matchParts(parts: readonly Part[], name: string): boolean {
  steps = 0;
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    steps++;
    const part = parts[p];
    if (part !== undefined && part.kind === 'star') {
      star = p++;
      mark = n;
    } else if (part !== undefined && (part.kind === 'one' || part.c === name[n])) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else return false;
  }
  while (parts[p]?.kind === 'star') p++;
  return p === parts.length;
}

/** A compiled glob: test names against it. Why compiled: one word is tried against every listed name. */
export function globMatcher(pattern: string, mode: GlobMode = 'bracket'): (name: string) => boolean {
  const parts = globParts(pattern, mode);
  return (name) => matchParts(parts, name);
}

/** Whether the glob `pattern` matches all of `name` (characters are UTF-16 units, as `?` in bash's C locale reads bytes). */
export function globMatches(pattern: string, name: string, mode: GlobMode = 'bracket'): boolean {
  return matchParts(globParts(pattern, mode), name);
}

/** Steps a match of `pattern` against `name` takes. Why exported: tests bound the work. */
export function globSteps(pattern: string, name: string, mode: GlobMode = 'bracket'): number {
  matchParts(globParts(pattern, mode), name);
  return steps;
}
