/**
 * Whether a repeated group can read some run in two ways that meet again: the test behind
 * splitRepeat (pattern-safety.ts). The group is taken as a Glushkov automaton: one state per
 * one-character atom in it (a position), with edges to the atoms that can come next (inside the
 * group, or back to its first atoms after an atom that can end an iteration); two edges between
 * the same atoms made by different parts of the pattern (`(\w+)+`: the inner and the outer
 * repeat) stay two, since a backtracking matcher tries both. Two ways to read the same text are
 * two walks over the same characters; if two walks can part at a state and meet at it again,
 * each turn of that loop doubles the ways to read a run, and the matcher tries every one when
 * what follows fails: 2^n (the exponential-ambiguity criterion of Weber and Seidl). The walks are
 * followed as pairs of positions.
 */

/** Positions in one group, and steps between pairs of them, checked at most: past either the group is taken as splitting (refused). */
const MAX_POSITIONS = 160;
const MAX_STEPS = 2_000_000;

/**
 * Whether the automaton on positions `lo` (inclusive) to `hi` has two walks over the same
 * characters that part at a position and meet there again: a step out of a same-position pair
 * (s, s) into another pair, or along two different edges, that lies on a cycle of pairs, that is
 * whose two ends are in one strongly connected component (Tarjan's algorithm, without recursion).
 * `edges(a)` lists a's successors, each with the id of what made the edge; `overlap(a, b)` says
 * whether atoms a and b can match one character.
 */
export function splitsTwoWays(lo: number, hi: number, edges: (a: number) => [number, number][], overlap: (a: number, b: number) => boolean): boolean {
  const n = hi - lo;
  if (n > MAX_POSITIONS) return true;
  const succ: [number, number][][] = Array.from({ length: n }, (_, a) => edges(lo + a).filter(([b]) => b >= lo && b < hi).map(([b, why]) => [b - lo, why]));
  const ov = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => overlap(lo + a, lo + b)));
  let steps = 0;
  /** The pairs one step on from `pair`, with whether the step parts two walks that were together. */
  const next = (pair: number): [number, boolean][] => {
    const a = Math.floor(pair / n);
    const b = pair % n;
    const out: [number, boolean][] = [];
    for (const [x, e] of succ[a]!) {
      for (const [y, f] of succ[b]!) {
        if (++steps > MAX_STEPS) throw new Error('too large');
        if (ov[x]![y]) out.push([x * n + y, a === b && (x !== y || e !== f)]);
      }
    }
    return out;
  };
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const component = new Map<number, number>();
  const stack: number[] = [];
  const parting: [number, number][] = [];
  try {
    for (let r = 0; r < n; r++) {
      if (index.has(r * n + r)) continue;
      const frames: { pair: number; out: [number, boolean][]; k: number }[] = [];
      const visit = (pair: number) => {
        index.set(pair, index.size);
        low.set(pair, index.get(pair)!);
        stack.push(pair);
        frames.push({ pair, out: next(pair), k: 0 });
      };
      visit(r * n + r);
      while (frames.length) {
        const top = frames[frames.length - 1]!;
        if (top.k < top.out.length) {
          const [to, parts] = top.out[top.k++]!;
          if (parts) parting.push([top.pair, to]);
          if (!index.has(to)) visit(to);
          else if (!component.has(to)) low.set(top.pair, Math.min(low.get(top.pair)!, index.get(to)!));
          continue;
        }
        frames.pop();
        if (frames.length) {
          const up = frames[frames.length - 1]!.pair;
          low.set(up, Math.min(low.get(up)!, low.get(top.pair)!));
        }
        if (low.get(top.pair) === index.get(top.pair)) {
          let member: number;
          do {
            member = stack.pop()!;
            component.set(member, top.pair);
          } while (member !== top.pair);
        }
      }
    }
  } catch {
    return true; // too large to follow: refused
  }
  return parting.some(([from, to]) => component.get(from) === component.get(to));
}
