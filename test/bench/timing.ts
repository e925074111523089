/**
 * Timing helpers shared by the benchmarks; why: every bench measures sequential latencies and
 * reads the same percentiles, so they must agree on what "p50" means.
 */

/** Latencies (ms) of `n` sequential awaited runs of `fn`. */
export async function timeCalls(n: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** The q-quantile (0..1) of samples, nearest rank on the sorted copy; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}
