/**
 * Two scans an agent's text reaches, made linear (availability red-team): the URL-password scrub of
 * every WardenError message (src/errors.ts safeMessage: a PostgreSQL error quoting an agent's
 * 64,000-character literal took 4 s of the event loop, since the old pattern started at every
 * letter of a long run) and the brace-list check of a word a wrapper runs (deny-runs.ts
 * braceList: `/\{[^}]*(,|\.\.)/` read to the word's end from every `{`), and a YAML scalar's trailing
 * comment (name-value-items.ts dropComment: `/[ \t]+#.*$/` on a line of 64,000 spaces took 3 s). Each answers as the old
 * pattern did on 100,000 seeded random texts, and on long texts it still finds what it must.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeMessage } from '../../../src/errors.js';
import { braceList } from '../../../tools/shared/shell/deny-runs.js';
import { dropComment } from '../../../tools/shared/name-value-items.js';

/** A small seeded PRNG (mulberry32): the same texts every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OLD_URL = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/]*@/gi;

test('the URL-password scrub answers as the old pattern did, on seeded random texts', () => {
  const rand = prng(29);
  const alphabet = ['a', 'B', '9', '+', '.', '-', ':', '/', '//', '://', '@', ' ', 'x:y@', 'pg://', '\n'];
  for (let i = 0; i < 100_000; i++) {
    let text = '';
    const n = Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
    const old = text.replace(OLD_URL, '$1***@');
    // safeMessage runs the other scrubs too: compare with them applied after the old one.
    assert.equal(safeMessage(text), safeMessage(old), JSON.stringify(text));
  }
});

test('long runs: the scrub still masks a password after them, and a run without a URL comes back whole', () => {
  const run = 'a1'.repeat(32_000);
  assert.equal(safeMessage(run), run);
  assert.equal(safeMessage(`${run}postgres://app:hunter2@db`), `${run}postgres://app:***@db`);
  assert.equal(safeMessage(`9postgres://u:pw@h ${'x'.repeat(64_000)}://u:pw2@h`), `9postgres://u:***@h ${'x'.repeat(64_000)}://u:***@h`);
});

test('the brace-list check answers as the old pattern did, and reads a word of many { to its end', () => {
  const old = /\{[^}]*(,|\.\.)/;
  const rand = prng(7);
  const alphabet = '{},.a';
  for (let i = 0; i < 100_000; i++) {
    let word = '';
    const n = Math.floor(rand() * 10);
    for (let j = 0; j < n; j++) word += alphabet[Math.floor(rand() * alphabet.length)];
    assert.equal(braceList(word), old.test(word), JSON.stringify(word));
  }
  assert.equal(braceList('{'.repeat(64_000)), false);
  assert.equal(braceList(`${'{'.repeat(64_000)}a,b`), true);
  assert.equal(braceList(`${'{}'.repeat(32_000)}..`), false);
});

test('a trailing comment is dropped as the old pattern did, and a line of many blanks is read once', () => {
  const rand = prng(11);
  const alphabet = [' ', '\t', '#', 'a', '\n', '\r', '\u2028', ' #'];
  for (let i = 0; i < 100_000; i++) {
    let v = '';
    const n = Math.floor(rand() * 10);
    for (let j = 0; j < n; j++) v += alphabet[Math.floor(rand() * alphabet.length)];
    assert.equal(dropComment(v), v.replace(/[ \t]+#.*$/, ''), JSON.stringify(v));
  }
  const blanks = `x${' '.repeat(64_000)}y`;
  assert.equal(dropComment(blanks), blanks);
  assert.equal(dropComment(`x${' '.repeat(64_000)}# note`), 'x');
});
