/**
 * Red team: stacked combining marks ("Zalgo": one character followed by hundreds of U+0300-036F
 * or other \p{M} marks) painted ink over the lines around a call on every reviewer surface. A
 * character keeps at most MAX_MARKS marks as written; past that, its first two marks and a
 * visible count. Real scripts that stack marks stay exactly as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MARKS, reviewable } from '../../src/approvals/reviewable.js';
import { callPreview } from '../../src/approvals/preview.js';

// Marks cycling through U+0300-034E (above and below; U+034F, which draws nothing, is escaped).
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const zalgo = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x300 + (i % 0x4f))).join('');

test('reviewable: a character with hundreds of combining marks shows two and a count', () => {
  assert.equal(reviewable(`SELECT 'Z${zalgo(500)}' AS x`), `SELECT 'Z\u0300\u0301 ⟨498 more combining marks⟩ ' AS x`);
  // Marks of other blocks count too (Cyrillic millions signs U+0488-0489, enclosing, Arabic).
  assert.equal(reviewable(`a${'\u0489\u20dd\u064b'.repeat(10)}b`), `a\u0489\u20dd ⟨28 more combining marks⟩ b`);
  // Each base character's run is counted on its own.
  assert.equal(reviewable(`x${zalgo(20)}y${zalgo(9)}z`), `x\u0300\u0301 ⟨18 more combining marks⟩ y\u0300\u0301 ⟨7 more combining marks⟩ z`);
  // The threshold: MAX_MARKS stay, one more is counted.
  assert.equal(reviewable(`e${zalgo(MAX_MARKS)}`), `e${zalgo(MAX_MARKS)}`);
  assert.equal(reviewable(`e${zalgo(MAX_MARKS + 1)}`), `e\u0300\u0301 ⟨${MAX_MARKS - 1} more combining marks⟩ `);
});

test('reviewable: a joiner or variation selector between marks does not split a run into hidden pieces', () => {
  // U+034F (combining grapheme joiner) is a mark that draws nothing: escaped, it bases the rest.
  assert.equal(reviewable(`a${zalgo(3)}\u034f${zalgo(30)}`), `a${zalgo(3)}\\u{34f}\u0300\u0301 ⟨28 more combining marks⟩ `);
  assert.equal(reviewable(`a${zalgo(5)}\u200d${zalgo(5)}b`), `a${zalgo(5)}\\u{200d}${zalgo(5)}b`, 'each piece within the limit, the joiner visible');
});

test('reviewable: scripts that stack marks legitimately stay exactly as written', () => {
  const texts = [
    'Tiếng Việt có dấu: người, được, trường, nghiêng'.normalize('NFD'), // Vietnamese, decomposed: 2 marks on one letter
    'น้ำที่นี่ดี', // Thai: vowel sign and tone mark
    'हिन्दी क़िले में', // Devanagari with nukta, vowel signs, anusvara
    'अ॒ग्निमी॑ळे पु॒रोहि॑तं', // Vedic Sanskrit with udatta and anudatta accents (Rigveda 1.1.1)
    'בְּרֵאשִׁ֖ית בָּרָ֣א אֱלֹהִ֑ים', // Hebrew with niqqud and cantillation (Genesis 1:1)
    'بِسْمِ ٱللَّهِ ٱلرَّحْمَٰنِ ٱلرَّحِيمِ', // Arabic with harakat, shadda and dagger alif
    'བསྒྲུབས་ ཧཱུྃ་ ཧྨྱཱཾ', // Tibetan stacks: subjoined letters and vowel signs (up to 4 marks)
    'ကျွန်ုပ် မြန်မာ', // Myanmar medials and vowel signs
    'Z̤̈ café naïve', // Latin with a diaeresis above and below
  ];
  for (const t of texts) {
    assert.equal(reviewable(t), t, t);
    const most = Math.max(...[...t.matchAll(/\p{M}+/gu)].map((m) => Array.from(m[0]).length));
    assert.ok(most >= 2 && most <= MAX_MARKS, `${t}: stacks ${most} marks`);
  }
});

test('callPreview: a character, its marks and their count are never split by a cut', () => {
  const sql = `UPDATE t SET x = 0 WHERE name = 'Z${zalgo(500)}' OR true`;
  const p = callPreview(sql, 200);
  assert.equal(p.cut, false, p.text);
  assert.match(p.text, /'Z\u0300\u0301 ⟨498 more combining marks⟩ ' OR true$/u);
  // Wherever the cut falls (in the head, or the tail), the character comes with its two marks
  // and their count, or none of them is shown.
  const whole = /^Z\u0300\u0301 ⟨38 more combining marks⟩ $/u;
  for (const [pre, post] of [...range(90, 160).map((n) => [n, 400]), ...range(0, 60).map((n) => [400, n])] as [number, number][]) {
    const q = callPreview(`${'x'.repeat(pre)}Z${zalgo(40)}${'y'.repeat(post)} OR true`, 160);
    assert.equal(q.cut, true);
    const at = `${pre}/${post}: ${q.text}`;
    const shown = [...q.text.matchAll(/Z?\p{M}*(?: ?⟨(?!…)[^⟩\n]*(?:⟩ ?|$))?/gmu)].map((m) => m[0]).filter((m) => m.length > 0);
    for (const piece of shown) assert.match(piece, whole, at);
    assert.match(q.text, /OR true$/);
  }
});
