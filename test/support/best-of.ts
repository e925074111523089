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
 * A failed measurement is taken again, up to three times in all, before the test fails: a burst of
 * load from the tests beside this one (two cores, three test files at a time) slows one measurement,
 * while a quadratic matcher fails every one.
 */
export function assertLinear(label: string, make: (n: number) => string, f: (text: string) => unknown): void {
  const smallText = make(25_000);
  const bigText = make(100_000);
  let seen = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const small = bestOf3(() => void f(smallText));
    const big = bestOf3(() => void f(bigText));
    if (big < 8 * small + 100 && big < 1000) return;
    seen += `${seen ? '; ' : ''}25k ${small.toFixed(1)} ms, 100k ${big.toFixed(1)} ms`;
  }
  assert.fail(`${label}: not linear in three measurements (${seen})`);
}
