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

function once(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** `unit` repeated to `n` characters, then a blank and a newline: hostile text for assertLinear. */
export const repeatedTo = (unit: string) => (n: number): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + ' \n';

/**
 * `f` over `make(small)` and `make(4 * small)` (25,000 and 100,000 characters unless told): four
 * times the text may cost at most 8 times as much (+100 ms for timer noise; a
 * quadratic matcher costs 16 times) and under `maxMs` (1 s unless told).
 * The first measurement is one run of each; a failed one is taken again as the fastest of three
 * runs each, up to three measurements in all, before the test fails: a burst of load from the tests
 * beside this one (two cores, three test files at a time) slows one measurement, while a
 * quadratic matcher fails every one.
 */
export function assertLinear(label: string, make: (n: number) => string, f: (text: string) => unknown, opts: { small?: number; maxMs?: number } = {}): void {
  const smallText = make(opts.small ?? 25_000);
  const bigText = make(4 * (opts.small ?? 25_000));
  const maxMs = opts.maxMs ?? 1000;
  f(make(1000)); // compiled and warm before the first (single-run) measurement
  let seen = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const runs = attempt === 1 ? once : bestOf3;
    const small = runs(() => void f(smallText));
    const big = runs(() => void f(bigText));
    if (big < 8 * small + 100 && big < maxMs) return;
    seen += `${seen ? '; ' : ''}${smallText.length} characters ${small.toFixed(1)} ms, ${bigText.length} ${big.toFixed(1)} ms`;
  }
  assert.fail(`${label}: not linear in three measurements (${seen})`);
}
