/**
 * Custom detector patterns run on every result cell, and the agent chooses what cells hold. A
 * group repeated without bound that itself holds an unbounded quantifier (`(\w+\s?)+;`) can
 * split a run of letters in exponentially many ways: 40 letters without a `;` held the event
 * loop, and every session, for hours. Node has no regex time limit, so such patterns are refused
 * at load. So is a group repeated without bound whose alternatives can start with the same
 * character (`(a|a)*b`, `(\w|\d)+x`, `(.|\s)*`): a run of that character splits between them in
 * 2^n ways (ambiguousRepeat). The first-character rule is conservative: `(a|ab)*` is refused
 * though a run splits one way only (write `(?:ab?)*`); an overlap only in characters outside
 * ASCII, a few sample letters and those the pattern names may go unseen.
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

/** What a piece of a pattern can start with: one-character atoms as written, and whether it can match nothing. */
interface Starts {
  atoms: string[];
  nullable: boolean;
}

const SYNTAX = /[\\^$.*+?()[\]{}|/]/;
// Characters every overlap is tried on, beside ASCII and those the pattern names: letters that
// fold across scripts or cases (ı ſ K), spaces and line breaks outside ASCII, digits of other
// scripts, a CJK letter and an emoji (and its lone surrogate, which `.` matches without `u`).
const SAMPLES = '\u00a0\u00b5\u00c9\u00e9\u0131\u017f\u0391\u03b1\u0410\u0430\u0660\u1680\u2028\u2029\u202f\u212a\u3000\ufeff\u4e2d\u{1F600}\ud83d';

/** Length of the escape at `i`, with `\xHH`, `\uHHHH` and `\cX` whole (escapeLength does the braced ones). */
function atomEscapeLength(p: string, i: number): number {
  const m = /^\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|c[A-Za-z])/.exec(p.slice(i, i + 6));
  return m ? m[0].length : escapeLength(p, i);
}

/**
 * The first group repeated without bound whose alternatives can start with the same character,
 * as written (`(a|a)*`), or null. `flags` are the pattern's (`i` folds case, `s` lets `.` match
 * line breaks). Why exported: the scanner refuses such a custom detector with this text.
 */
export function ambiguousRepeat(p: string, flags = ''): string | null {
  const testFlags = flags.replace(/[^isu]/g, '');
  const compiled = new Map<string, RegExp | null>();
  const matches = (atom: string, c: string): boolean => {
    if (!compiled.has(atom)) {
      try {
        compiled.set(atom, new RegExp(`^(?:${atom})$`, testFlags));
      } catch {
        compiled.set(atom, null); // not a character on its own: take it as any
      }
    }
    return compiled.get(atom)?.test(c) ?? true;
  };
  const samples = new Set<string>([...Array.from({ length: 128 }, (_, n) => String.fromCharCode(n)), ...SAMPLES, ...p]);
  for (const m of p.matchAll(/\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]+)\})/g)) {
    const code = parseInt(m[1] ?? m[2] ?? m[3]!, 16);
    if (code <= 0x10ffff) samples.add(String.fromCodePoint(code));
  }
  const overlap = (a: Starts, b: Starts): boolean => [...samples].some((c) => a.atoms.some((x) => matches(x, c)) && b.atoms.some((y) => matches(y, c)));

  let i = 0;
  let found: string | null = null;
  /** Alternatives up to the `)` closing the current group (or the end), each as Starts. */
  const alternatives = (): Starts[] => {
    const alts: Starts[] = [];
    let cur: Starts = { atoms: [], nullable: true };
    const add = (item: Starts) => {
      if (!cur.nullable) return;
      cur.atoms.push(...item.atoms);
      cur.nullable = item.nullable;
    };
    while (i < p.length && p[i] !== ')') {
      const ch = p[i]!;
      const start = i;
      let item: Starts;
      if (ch === '|') {
        alts.push(cur);
        cur = { atoms: [], nullable: true };
        i++;
        continue;
      } else if (ch === '^' || ch === '$') {
        i++;
        item = { atoms: [], nullable: true };
      } else if (ch === '\\') {
        const len = atomEscapeLength(p, i);
        const esc = p.slice(i, i + len);
        i += len;
        item = /^\\[bB]$/.test(esc) ? { atoms: [], nullable: true } : /^\\(?:[1-9]|k<)/.test(esc) ? { atoms: ['[^]'], nullable: true } : { atoms: [esc], nullable: false };
      } else if (ch === '[') {
        const len = classLength(p, i);
        item = { atoms: [p.slice(i, i + len)], nullable: false };
        i += len;
      } else if (ch === '(') {
        const look = /^\(\?<?[=!]/.exec(p.slice(i));
        i += look ? look[0].length : p[i + 1] !== '?' ? 1 : p[i + 2] === '<' ? p.indexOf('>', i) - i + 1 : 3;
        const alts = alternatives();
        i++; // ')'
        item = look ? { atoms: [], nullable: true } : { atoms: alts.flatMap((a) => a.atoms), nullable: alts.some((a) => a.nullable) };
        const q = quantifier(p.slice(i));
        if (!look && q?.unbounded && found === null && alts.some((a, n) => alts.slice(n + 1).some((b) => overlap(a, b)))) found = p.slice(start, i + q.text.length);
      } else {
        const c = String.fromCodePoint(p.codePointAt(i)!);
        i += testFlags.includes('u') ? c.length : 1;
        const lit = testFlags.includes('u') ? c : p[start]!;
        item = { atoms: [lit === '.' ? '.' : SYNTAX.test(lit) ? `\\${lit}` : lit], nullable: false };
      }
      const q = quantifier(p.slice(i));
      if (q) {
        i += q.text.length;
        if (/^[*?]|^\{0[,}]/.test(q.text)) item.nullable = true;
      }
      add(item);
    }
    alts.push(cur);
    return alts;
  };
  while (i < p.length) {
    alternatives();
    i++; // a stray `)` cannot compile; skip it all the same
  }
  return found;
}
