/**
 * A custom detector runs on every result cell, and cells are text the agent can choose. A pattern
 * with a quantifier inside a repeated group (`(\w+\s?)+;`) backtracks exponentially: 40 letters
 * with no `;` held the event loop for hours, and every session with it. Such a pattern is refused
 * when the policy loads; patterns whose repetition is linear still compile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileScanner } from '../../src/masking/index.js';

const compile = (pattern: string) => compileScanner({ detectors: [], custom: [{ name: 'c', pattern }] });

test('a repeated group holding an unbounded quantifier is refused, naming the detector', () => {
  for (const p of ['(\\w+\\s?)+;', '(a*)*b', '(?:x+y?){2,}z', '((ab)+c)*d', '(?<w>[a-z]+,?)+$']) {
    assert.throws(() => compile(p), (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && /custom detector "c": .*repeated group .*backtrack/.test(e.message), p);
  }
});

test('linear patterns still compile, escaped parentheses and classes included', () => {
  for (const p of ['TCK-[0-9]{6}', '(\\d{1,3}\\.){3}\\d{1,3}', '(?:[A-Z]{2}-)?\\d+', '\\(a+\\)+', '[(+]+x', '(?:ab)+', '(a+)?b', '[a-z]+(?:-[a-z]+)?']) {
    assert.doesNotThrow(() => compile(p), p);
  }
});

test('a refused pattern fails fast instead of hanging on a long cell', () => {
  const t = Date.now();
  assert.throws(() => compile('(\\w+\\s?)+;').scan('a'.repeat(40)));
  assert.ok(Date.now() - t < 1000);
});
