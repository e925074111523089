/** Assertions on the scanner with every detector on; why shared: detector and evasion tests read alike. */
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, compileScanner } from '../../src/masking/index.js';

/** A scanner with every built-in detector. */
export const all = compileScanner({ detectors: [...DETECTOR_NAMES] });

/** `text` comes back as `expected`, with `n` hits of `kind`. */
export function masks(text: string, expected: string, kind: string, n = 1): void {
  const res = all.scan(text);
  assert.equal(res.text, expected, `text of ${JSON.stringify(text)}`);
  assert.equal(res.hits[kind], n, `hits of ${JSON.stringify(text)}: ${JSON.stringify(res.hits)}`);
}

/** `text` comes back unchanged, with no hit. */
export function untouched(text: string): void {
  const res = all.scan(text);
  assert.equal(res.text, text, `should not change ${JSON.stringify(text)}`);
  assert.deepEqual(res.hits, {});
}
