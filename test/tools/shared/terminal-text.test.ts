/**
 * Command output reaches the agent and the transcript as plain text: terminal escape sequences
 * and control characters are removed before the named-secret masker and the content detectors
 * read it, so a colour code (`grep --color=always`) or an overstrike cannot split a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretStreams } from '../../../tools/shared/secret-text.js';
import { plainText } from '../../../tools/shared/terminal-text.js';
import { assertLinear } from '../../support/best-of.js';

const E = '\x1b';

test('colour, cursor, title (OSC) and charset sequences, C0/C1 controls and overstrikes are removed; tab, newline and CR stay', () => {
  assert.equal(plainText(`${E}[01;31m${E}[Kred${E}[m${E}[K plain`), 'red plain');
  assert.equal(plainText(`a${E}]0;title\x07b${E}]8;;http://x${E}\\c`), 'abc');
  assert.equal(plainText(`a${E}(Bb${E}cc\x9b2Jd\x00e\x7ff`), 'abcdef');
  assert.equal(plainText('A\bAK\bKI\bIA\bA'), 'AKIA');
  assert.equal(plainText('col1\tcol2\r\nline\n'), 'col1\tcol2\r\nline\n');
  const clean = 'total 0\nboot ok ünïcödé\n';
  assert.equal(plainText(clean), clean);
});

test('a secret name split by colour codes is still masked, and the agent sees no escape character', () => {
  const stdout = `DB_PASSWORD${E}[01;31m${E}[K=${E}[m${E}[KQQQQ\n${E}[01;31mAPI_TOKEN${E}[m=QQQQ\nDB_PASS\0WORD=QQQQ\n`;
  const r = maskSecretStreams({ stdout, stderr: `--pass${E}[1mword${E}[m QQQQ\n` });
  assert.equal(r.streams.stdout, 'DB_PASSWORD=***\nAPI_TOKEN=***\nDB_PASSWORD=***\n');
  assert.equal(r.streams.stderr, '--password ***\n');
  assert.equal(r.masked, 4);
});

test('hostile output costs linear time: a megabyte of unterminated control strings and backspaces', () => {
  // Near-linear growth, not a speed: x4 the size may cost about x4 (quadratic would be x16),
  // with slack for timer noise (support/best-of.ts).
  for (const unit of [`${E}]`, `${E}[`, 'a\b\b', `${E}P${'x'.repeat(50)}`]) {
    assertLinear(JSON.stringify(unit), (n) => unit.repeat(Math.ceil(n / unit.length)), plainText, { small: 250_000, maxMs: 10_000 });
  }
});
