/**
 * Red team: runs of blanks other than space and tab (no-break, ideographic, narrow no-break
 * spaces, the braille blank) hid a call's tail on every reviewer surface (the web card, `warden
 * approvals show`, elicitation, Slack/webhook previews), since only spaces and tabs were counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewable } from '../../src/approvals/reviewable.js';
import { callPreview } from '../../src/approvals/preview.js';

test('reviewable: a run of any blank character is a visible count naming the characters', () => {
  assert.equal(reviewable(`SELECT 1 /*${'\u00a0'.repeat(5000)}*/;DROP TABLE users`), 'SELECT 1 /* ⟨5000 blank characters: U+00A0⟩ */;DROP TABLE users');
  assert.equal(reviewable(`a${'\u3000\u2800'.repeat(3)}b`), 'a ⟨6 blank characters: U+3000, U+2800⟩ b');
  assert.equal(reviewable(`a${' \u202f'.repeat(2)}b`), 'a ⟨4 blank characters: U+0020, U+202F⟩ b', 'spaces mixed with no-break spaces');
  assert.equal(reviewable(`a${'\u2003'.repeat(3)}b`), `a${'\u2003'.repeat(3)}b`, 'three stay as they are');
  // Spaces and tabs keep their wording.
  assert.equal(reviewable(`a${' '.repeat(4)}b`), 'a ⟨4 spaces⟩ b');
  assert.equal(reviewable(`a \t  b`), 'a ⟨4 spaces/tabs⟩ b');
});

test('callPreview: the tail behind no-break spaces is shown and the count is never split by a cut', () => {
  const sql = `UPDATE t SET x = 0 WHERE id = 1 /*${'\u00a0'.repeat(4000)}*/ OR true`;
  const p = callPreview(sql, 200);
  assert.equal(p.cut, false, p.text);
  assert.match(p.text, /⟨4000 blank characters: U\+00A0⟩ \*\/ OR true$/);
  // Wherever the cut falls (the prefix moves it across the count), a count is whole or absent.
  for (let n = 90; n < 160; n++) {
    const q = callPreview(`${'x'.repeat(n)}${'\u00a0'.repeat(10)}${'y'.repeat(400)} OR true`, 160);
    assert.equal(q.cut, true);
    for (const m of q.text.matchAll(/⟨(?!…)[^⟩\n]*(?:⟩|$)/gmu)) assert.match(m[0], /^⟨10 blank characters: U\+00A0⟩$/u, `prefix ${n}: ${q.text}`);
    assert.match(q.text, /OR true$/);
  }
});
