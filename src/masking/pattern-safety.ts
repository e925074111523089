/**
 * Custom detector patterns run on every result cell, and the agent chooses what cells hold. A
 * group repeated without bound that itself holds an unbounded quantifier (`(\w+\s?)+;`) can
 * split a run of letters in exponentially many ways: 40 letters without a `;` held the event
 * loop, and every session, for hours. Node has no regex time limit, so such patterns are refused
 * at load. (Ambiguous alternation under a repeat, `(a|a)*`, is not detected.)
 */

/** A quantifier at the start of `s`: its text and whether it has no upper bound. */
function quantifier(s: string): { text: string; unbounded: boolean } | null {
  const m = /^(?:\*|\+|\?|\{\d+(?:,\d*)?\})\??/.exec(s);
  if (!m) return null;
  return { text: m[0], unbounded: /^[*+]|^\{\d+,\}/.test(m[0]) };
}

/** Length of the escape at `i` (a backslash): `\p{..}`, `\u{..}` and `\k<..>` whole. */
function escapeLength(p: string, i: number): number {
  const next = p[i + 1];
  if ((next === 'p' || next === 'P' || next === 'u') && p[i + 2] === '{') return p.indexOf('}', i) - i + 1 || 2;
  if (next === 'k' && p[i + 2] === '<') return p.indexOf('>', i) - i + 1 || 2;
  return 2;
}

/** Length of the character class at `i` (a `[`), up to and including its `]`. */
function classLength(p: string, i: number): number {
  let j = i + 1;
  while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
  return j - i + 1;
}

/**
 * The first unbounded repeat of a group holding an unbounded quantifier, as written (`(\w+\s?)+`),
 * or null. Why exported: the scanner refuses such a custom detector with this text.
 */
export function nestedRepeat(p: string): string | null {
  const stack: { start: number; unbounded: boolean }[] = [{ start: 0, unbounded: false }];
  let i = 0;
  const afterAtom = () => {
    const q = quantifier(p.slice(i));
    if (!q) return;
    if (q.unbounded) stack[stack.length - 1]!.unbounded = true;
    i += q.text.length;
  };
  while (i < p.length) {
    const ch = p[i];
    if (ch === '\\') {
      i += escapeLength(p, i);
      afterAtom();
    } else if (ch === '[') {
      i += classLength(p, i);
      afterAtom();
    } else if (ch === '(') {
      stack.push({ start: i, unbounded: false });
      i++;
      if (p[i] === '?') i += p[i + 1] === '<' && p[i + 2] !== '=' && p[i + 2] !== '!' ? p.indexOf('>', i) - i + 1 : p[i + 1] === '<' ? 3 : 2;
    } else if (ch === ')' && stack.length > 1) {
      const body = stack.pop()!;
      i++;
      const q = quantifier(p.slice(i));
      if (q?.unbounded && body.unbounded) return p.slice(body.start, i + q.text.length);
      stack[stack.length - 1]!.unbounded ||= body.unbounded || !!q?.unbounded;
      if (q) i += q.text.length;
    } else {
      i++;
      afterAtom();
    }
  }
  return null;
}
