/**
 * Custom detector patterns run on every result cell, and the agent chooses what cells hold. A
 * group repeated without bound that itself holds an unbounded quantifier (`(\w+\s?)+;`) can
 * split a run of letters in exponentially many ways: 40 letters without a `;` held the event
 * loop, and every session, for hours. Node has no regex time limit, so such patterns are refused
 * at load (nestedRepeat, a blunt rule: `((ab)+c)*` and `(?:\.\w+)*` read one way yet are
 * refused; quantifiers inside a lookaround do not count, it is never backtracked into). So is a
 * group repeated without bound whose alternatives can start with the same character (`(a|a)*b`,
 * `(\w|\d)+x`, `(.|\s)*`): a run of that character splits between them in 2^n ways
 * (ambiguousRepeat). The first-character rule is conservative: `(a|ab)*` is refused though a run
 * splits one way only (write `(?:ab?)*`).
 *
 * Alternatives that start apart can still split a run: in `"(?:[^"\\\n]|\\.?)*"` the escape's
 * optional tail `.?` can take the character that starts the next iteration, so each `\a` reads
 * as `\\.` or as `\\` then `[^"\\\n]` (24 escapes with no closing quote: 180 ms, each one more
 * doubling it). So do `(a?a)*` (an optional start that matches what follows it), `(\d{1,3})+`
 * (a variable-length end) and `(?:a(?:b|b)c)*` (an iteration that reads two ways). splitRepeat
 * refuses them by an exact test (repeat-split.ts): the group as an automaton of its atoms, and
 * two walks over the same characters that part and meet again. Its edges: a repeat's body is
 * taken at most 32 times (`{40}` as `{32}`), lookarounds and `\b` as matching nothing (their
 * check is not seen, so `(?:\w+(?!\w))+` is refused), a back-reference as any run, and a group
 * of more than 160 atoms, or whose pairs take more than 2,000,000 steps to follow, as splitting.
 * Every rule sees an overlap of characters only in ASCII, a few sample letters and those the
 * pattern names: one elsewhere may go unseen.
 */

import { splitsTwoWays } from './repeat-split.js';

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
  const stack: { start: number; unbounded: boolean; look?: boolean }[] = [{ start: 0, unbounded: false }];
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
      // A lookaround is tried whole at each place, never backtracked into: its quantifiers stay in it.
      stack.push({ start: i, unbounded: false, look: /^\(\?<?[=!]/.test(p.slice(i)) });
      i++;
      if (p[i] === '?') i += p[i + 1] === '<' && p[i + 2] !== '=' && p[i + 2] !== '!' ? p.indexOf('>', i) - i + 1 : p[i + 1] === '<' ? 3 : 2;
    } else if (ch === ')' && stack.length > 1) {
      const body = stack.pop()!;
      i++;
      const q = quantifier(p.slice(i));
      if (q?.unbounded && body.unbounded) return p.slice(body.start, i + q.text.length);
      stack[stack.length - 1]!.unbounded ||= (body.unbounded && !body.look) || !!q?.unbounded;
      if (q) i += q.text.length;
    } else {
      i++;
      afterAtom();
    }
  }
  return null;
}

/**
 * A piece of a pattern as a Glushkov automaton: its one-character atoms are positions (numbers),
 * `first` those it can start with, `last` those it can end with, `nullable` whether it can match
 * nothing. Which position can follow which is kept beside it, for the whole pattern.
 */
interface Piece {
  first: number[];
  last: number[];
  nullable: boolean;
}

/** Copies of a repeat's body taken at most: `{40}` is read as `{32}`, `{40,}` as `{32,}`. */
const CAP = 32;

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

/** The bounds of a quantifier's text: `*` is [0, Infinity], `{2,5}?` is [2, 5]. */
function bounds(q: string): [number, number] {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(q);
  if (m) return [Number(m[1]), m[2] === undefined ? Number(m[1]) : m[3] ? Number(m[3]) : Infinity];
  return q[0] === '*' ? [0, Infinity] : q[0] === '+' ? [1, Infinity] : [0, 1];
}

let last: { p: string; flags: string; found: { ambiguous: string | null; split: string | null } } | null = null;

/** The first construct each rule refuses, as written: see ambiguousRepeat and splitRepeat (the scanner asks both, in turn). */
function unboundedRepeats(p: string, flags: string): { ambiguous: string | null; split: string | null } {
  if (last?.p !== p || last.flags !== flags) last = { p, flags, found: walk(p, flags) };
  return last.found;
}

function walk(p: string, flags: string): { ambiguous: string | null; split: string | null } {
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
  const overlap = (a: string[], b: string[]): boolean => [...samples].some((c) => a.some((x) => matches(x, c)) && b.some((y) => matches(y, c)));
  const atoms: string[] = [];
  const follow: [number, number][][] = []; // per position: [successor, which link made the edge]
  const pairs = new Map<number, boolean>();
  const overlapAt = (x: number, y: number): boolean => {
    const key = Math.min(x, y) * 1e6 + Math.max(x, y);
    if (!pairs.has(key)) pairs.set(key, overlap([atoms[x]!], [atoms[y]!]));
    return pairs.get(key)!;
  };
  const EMPTY: Piece = { first: [], last: [], nullable: true };
  const position = (atom: string): Piece => {
    atoms.push(atom);
    follow.push([]);
    return { first: [atoms.length - 1], last: [atoms.length - 1], nullable: false };
  };
  let links = 0;
  const link = (from: number[], to: number[]) => {
    links++;
    from.forEach((f) => to.forEach((t) => follow[f]!.push([t, links])));
  };
  const seq = (a: Piece, b: Piece): Piece => {
    link(a.last, b.first);
    return { first: a.nullable ? [...a.first, ...b.first] : a.first, last: b.nullable ? [...a.last, ...b.last] : b.last, nullable: a.nullable && b.nullable };
  };

  let i = 0;
  let copying = false; // walking a bounded repeat's body again: its checks already ran
  let ambiguous: string | null = null;
  let split: string | null = null;
  /** The atom at `i` (no quantifier), and a group's alternatives. */
  const atomAt = (): { piece: Piece; alts?: Piece[] } => {
    const ch = p[i]!;
    const start = i;
    if (ch === '^' || ch === '$') {
      i++;
      return { piece: EMPTY };
    } else if (ch === '\\') {
      const len = atomEscapeLength(p, i);
      const esc = p.slice(i, i + len);
      i += len;
      if (/^\\[bB]$/.test(esc)) return { piece: EMPTY };
      if (!/^\\(?:[1-9]|k<)/.test(esc)) return { piece: position(esc) };
      const any = position('[^]'); // a back-reference: any run
      link(any.last, any.first);
      return { piece: { ...any, nullable: true } };
    } else if (ch === '[') {
      const len = classLength(p, i);
      i += len;
      return { piece: position(p.slice(start, i)) };
    } else if (ch === '(') {
      const look = /^\(\?<?[=!]/.exec(p.slice(i));
      i += look ? look[0].length : p[i + 1] !== '?' ? 1 : p[i + 2] === '<' ? p.indexOf('>', i) - i + 1 : 3;
      const alts = alternatives();
      i++; // ')'
      if (look) return { piece: EMPTY }; // its positions stand apart: checked, not followed
      return { piece: { first: alts.flatMap((a) => a.first), last: alts.flatMap((a) => a.last), nullable: alts.some((a) => a.nullable) }, alts };
    }
    const c = String.fromCodePoint(p.codePointAt(i)!);
    i += testFlags.includes('u') ? c.length : 1;
    const lit = testFlags.includes('u') ? c : p[start]!;
    return { piece: position(lit === '.' ? '.' : SYNTAX.test(lit) ? `\\${lit}` : lit) };
  };
  /** An atom with its quantifier: `x{m,n}` as n copies of x, each after the m-th optional. */
  const item = (): Piece => {
    const start = i;
    const lo = atoms.length;
    const { piece, alts } = atomAt();
    const hi = atoms.length;
    const q = quantifier(p.slice(i));
    if (!q) return piece;
    i += q.text.length;
    const [min, max] = bounds(q.text);
    const loops = max === Infinity;
    const parts = [piece];
    const end = i;
    const was = copying;
    copying = true;
    let [lastLo, lastHi] = [lo, hi]; // the positions of the copy that repeats
    for (let k = 1; k < Math.min(loops ? min : max, CAP); k++) {
      i = start;
      lastLo = atoms.length;
      parts.push(atomAt().piece);
      lastHi = atoms.length;
    }
    copying = was;
    i = end;
    if (max === 0) return EMPTY;
    for (let k = 1; k < parts.length; k++) link(parts[k - 1]!.last, parts[k]!.first);
    const lastPart = parts[parts.length - 1]!;
    if (loops) link(lastPart.last, lastPart.first);
    if (alts && q.unbounded && !copying) {
      const at = p.slice(start, i);
      if (ambiguous === null && alts.some((a, n) => alts.slice(n + 1).some((b) => overlap(a.first.map((x) => atoms[x]!), b.first.map((x) => atoms[x]!))))) ambiguous = at;
      if (split === null && splitsTwoWays(lastLo, lastHi, (x) => follow[x]!, overlapAt)) split = at;
    }
    const ends = parts.filter((_, k) => k + 1 >= Math.min(min, CAP) || k + 1 === parts.length);
    return { first: piece.first, last: ends.flatMap((x) => x.last), nullable: min === 0 || piece.nullable };
  };
  /** Alternatives up to the `)` closing the current group (or the end), each as a Piece. */
  const alternatives = (): Piece[] => {
    const alts: Piece[] = [];
    let cur = EMPTY;
    while (i < p.length && p[i] !== ')') {
      if (p[i] === '|') {
        alts.push(cur);
        cur = EMPTY;
        i++;
      } else {
        cur = seq(cur, item());
      }
    }
    alts.push(cur);
    return alts;
  };
  while (i < p.length) {
    alternatives();
    i++; // a stray `)` cannot compile; skip it all the same
  }
  return { ambiguous, split };
}

/**
 * The first group repeated without bound whose alternatives can start with the same character,
 * as written (`(a|a)*`), or null. `flags` are the pattern's (`i` folds case, `s` lets `.` match
 * line breaks). Why exported: the scanner refuses such a custom detector with this text.
 */
export function ambiguousRepeat(p: string, flags = ''): string | null {
  return unboundedRepeats(p, flags).ambiguous;
}

/**
 * The first group repeated without bound where a run can split between iterations more than one
 * way, as written, or null: an iteration can end in an optional or variable-length part whose
 * characters can also start an iteration (`(?:[^"\\]|\\.?)*`, `(\d{1,3})+`), or can start
 * with two parts that match the same character (`(a?a)*`). `flags` as for ambiguousRepeat. Why
 * exported: the scanner refuses such a custom detector with this text.
 */
export function splitRepeat(p: string, flags = ''): string | null {
  return unboundedRepeats(p, flags).split;
}
