/**
 * Bounds on a call's raw arguments before anything reads them recursively. Why: arguments are
 * the agent's, and the validator, JSON and the transcript's canonical JSON all recurse: a value
 * nested 100,000 deep overflows the stack of each, and the refusal itself could not be recorded.
 */

/** Deepest nesting accepted; no tool's input comes near it. */
export const MAX_INPUT_DEPTH = 64;

/** Whether `v` nests deeper than `max` objects/arrays (iterative, so a hostile depth cannot overflow it; a cycle counts as too deep). */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x as object)) stack.push([c, d + 1]);
  }
  return false;
}

/** What the transcript stores in place of arguments refused before they could be read. */
export function unrecordedArgs(reason: string): Record<string, unknown> {
  return { $unrecorded: reason };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where the arguments hold a string (a value or a key) no backend receives as sent: a NUL ends a
 * C string (PostgreSQL reads a statement only up to it; exec truncates argv there), and a lone
 * surrogate has no UTF-8 form (it turns into U+FFFD on the wire, so what runs would differ from
 * what was analysed and approved). Null when there is none; iterative, run after the depth check.
 */
export function unencodableString(v: unknown): string | null {
  const stack: [unknown, string][] = [[v, '']];
  const why = (s: string, path: string): string | null => {
    const at = path ? ` at ${path.slice(0, 80)}` : '';
    if (s.includes('\u0000')) return `a NUL character${at}`;
    return LONE_SURROGATE.test(s) ? `a lone surrogate (text that has no UTF-8 form)${at}` : null;
  };
  while (stack.length) {
    const [x, at] = stack.pop()!;
    if (typeof x === 'string') {
      const bad = why(x, at);
      if (bad) return bad;
      continue;
    }
    if (x === null || typeof x !== 'object') continue;
    for (const [k, c] of Object.entries(x as object)) {
      const path = at ? `${at}.${k}` : k;
      const badKey = why(k, at || '(arguments)');
      if (badKey) return `${badKey} in a key`;
      stack.push([c, path]);
    }
  }
  return null;
}
