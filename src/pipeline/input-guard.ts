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
