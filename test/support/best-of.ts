/**
 * The fastest of three runs of `f`, in ms: the run least disturbed by GC and other load. Why:
 * the linear-time tests compare costs at two input sizes, and one slow run must not fail them.
 */
export function bestOf3(f: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
