/**
 * A repeated group whose iterations can split a run more than one way backtracks exponentially
 * even when its alternatives start differently: in `"(?:[^"\\\n]|\\.?)*"` the escape's optional
 * tail `.?` can take the character that would start the next iteration, so each `\a` reads as
 * `\\.` or as `\\` then `[^"\\\n]`, and a line of escapes with no closing quote is tried 2^n
 * ways (24 escapes took 180 ms). So can `(a?a)*` (an iteration starting with an optional part
 * that matches what follows it) and `(\d{1,3})+` (a variable-length end). Such a custom pattern
 * is refused at load (splitRepeat); patterns that read one way still compile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileScanner } from '../../src/masking/index.js';
import { splitRepeat } from '../../src/masking/pattern-safety.js';

const compile = (pattern: string, flags?: string) => compileScanner({ detectors: [], custom: [{ name: 'c', pattern, ...(flags ? { flags } : {}) }] });

test('a repeated group that can split a run between iterations more than one way is refused, naming it and how to rewrite it', () => {
  const cases: [string, string][] = [
    ['"(?:[^"\\\\\\n]|\\\\.?)*"', '(?:[^"\\\\\\n]|\\\\.?)*'],
    ["'(?:[^'\\\\]|\\\\[\\s\\S]?)+'", "(?:[^'\\\\]|\\\\[\\s\\S]?)+"],
    ['(a?a)*b', '(a?a)*'],
    ['x(?:.?y)+!', '(?:.?y)+'],
    ['(\\d{1,3})+x', '(\\d{1,3})+'],
    ['(?:(?:ab)?ab)*c', '(?:(?:ab)?ab)*'],
    ['(?:a(?:b|b)c)*d', '(?:a(?:b|b)c)*'],
    ['id-(?:-?[A-Za-z0-9_-])+!', '(?:-?[A-Za-z0-9_-])+'],
    ['(?:[a-z]{2,3}\\.)+(?:[a-z]{2,3})+', '(?:[a-z]{2,3})+'],
  ];
  for (const [p, construct] of cases) {
    assert.equal(splitRepeat(p), construct, p);
    assert.throws(
      () => compile(p),
      (e: Error & { code?: string }) =>
        e.code === 'WARDEN_CONFIG' &&
        e.message.includes(`pattern has a repeated group that can read a run of text more than one way (${construct})`) &&
        /backtracks exponentially/.test(e.message) &&
        e.message.includes('make each iteration read one way (e.g. (?:[^"\\\\]|\\\\.)*\\\\? instead of (?:[^"\\\\]|\\\\.?)*'),
      p,
    );
  }
});

test('detectors that read one way still compile: one-way escapes, IBANs, ids, fixed-width groups', () => {
  const cases = [
    '"(?:[^"\\\\]|\\\\.)*"',
    '"(?:[^"\\\\\\n]|\\\\.)*(?:"|\\\\?$)',
    "'(?:[^'\\\\]|\\\\[\\s\\S])*'",
    '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\\b',
    '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4})+(?: ?[A-Z0-9]{1,3})?\\b',
    'EMP-\\d{6}',
    '\\b[A-Z]{2}\\d{6,8}\\b',
    '(ab?)*b',
    '(?:ab?)*c',
    '(?:\\d{3}-?)+x',
    '(?:[0-9a-f]{40})+',
    '(?:[A-Z0-9]{4} ?)+!',
    '(?:\\d{1,3}\\.){3}\\d{1,3}',
    '(?:\\\\r)?\\\\n(?:(?:\\\\r)?\\\\n)*x',
  ];
  for (const p of cases) {
    assert.equal(splitRepeat(p), null, p);
    assert.doesNotThrow(() => compile(p), p);
  }
});

/** Fastest of three runs of `re` on `text`, in ms (the fastest is the one least slowed by anything else). */
function fastest(re: RegExp, text: string): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = process.hrtime.bigint();
    re.test(text);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

test('the refused escape pattern is exponential in V8 and its one-way rewrite is not (4 more escapes: 16 times the time)', () => {
  const line = (n: number) => '"' + '\\a'.repeat(n); // escapes and no closing quote
  const twoWay = /"(?:[^"\\\n]|\\.?)*"/;
  const ratio = fastest(twoWay, line(20)) / fastest(twoWay, line(16));
  assert.ok(ratio > 6, `4 more escapes took ${ratio.toFixed(1)} times as long (2^4 = 16 expected)`);
  const oneWay = /"(?:[^"\\\n]|\\.)*\\?"/;
  const t = process.hrtime.bigint();
  for (let k = 0; k < 100; k++) oneWay.test(line(2000));
  assert.ok(Number(process.hrtime.bigint() - t) / 1e6 < 500, 'the one-way rewrite reads 2000 escapes at once');
  assert.equal(splitRepeat(twoWay.source), '(?:[^"\\\\\\n]|\\\\.?)*');
  assert.equal(splitRepeat(oneWay.source), null);
});
