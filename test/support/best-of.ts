import assert from 'node:assert/strict';

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

/** `unit` repeated to `n` characters, then a blank and a newline: hostile text for assertLinear. */
export const repeatedTo = (unit: string) => (n: number): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + ' \n';

/**
 * `f` over `make(25_000)` and `make(100_000)` (fastest of three each): four times the text may cost
 * at most 8 times as much (+100 ms for timer noise; a quadratic matcher costs 16 times) and under 1 s.
 */
export function assertLinear(label: string, make: (n: number) => string, f: (text: string) => unknown): void {
  const small = bestOf3(() => void f(make(25_000)));
  const big = bestOf3(() => void f(make(100_000)));
  assert.ok(big < 8 * small + 100, `${label}: 25k ${small.toFixed(1)} ms, 100k ${big.toFixed(1)} ms`);
  assert.ok(big < 1000, `${label}: 100k ${big.toFixed(1)} ms`);
}
