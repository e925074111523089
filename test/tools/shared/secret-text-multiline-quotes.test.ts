/**
 * A quoted value that runs onto the next lines (a .env value holding a PEM, a YAML double-quoted
 * scalar folded over lines) is masked to its closing quote: before, only its first line was, and
 * the lines after it showed (`def"`). A quote never closed runs to the next line that opens a new
 * assignment, at most QUOTED_LINES_MAX more lines, or the text's end (output cut at the cap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretStreams, maskSecretText } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4Gtt7ZxcAbCdEf12==\n-----END PRIVATE KEY-----';

test('a quoted value over several lines is masked to its closing quote', () => {
  const cases: [string, string][] = [
    ['DB_PASSWORD="abc\ndef"\nLOG_LEVEL=debug', 'DB_PASSWORD=***\nLOG_LEVEL=debug'],
    ["DB_PASSWORD='abc\ndef'\nLOG_LEVEL=debug", 'DB_PASSWORD=***\nLOG_LEVEL=debug'],
    ['export DB_PASSWORD="abc\ndef"\necho done', 'export DB_PASSWORD=***\necho done'],
    ['  password: "abc\n    def"\n  user: admin', '  password: ***\n  user: admin'],
    // an escaped quote does not close a double-quoted value; a backslash ends no single-quoted one
    ['API_TOKEN="ab\\"c\nd\\"ef"\nMODE=prod', 'API_TOKEN=***\nMODE=prod'],
    ["API_TOKEN='ab\\\ncd'\nMODE=prod", 'API_TOKEN=***\nMODE=prod'],
    // YAML's escaped single quote (a shell's two quoted words) does not end the value
    ["api_key: 'it''s\n  more'\nmode: prod", 'api_key: ***\nmode: prod'],
    // a PEM in a .env value, its base64 body's last line ending in `==` (no assignment)
    [`TLS_PRIVATE_KEY="${PEM}"\nPORT=8080`, 'TLS_PRIVATE_KEY=***\nPORT=8080'],
    // CRLF lines keep their CRs
    ['DB_PASSWORD="abc\r\ndef"\r\nLOG_LEVEL=debug\r\n', 'DB_PASSWORD=***\r\nLOG_LEVEL=debug\r\n'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
  const { streams, masked } = maskSecretStreams({ stdout: 'DB_PASSWORD="abc\ndef"\n' });
  assert.equal(streams.stdout, 'DB_PASSWORD=***\n');
  assert.equal(masked, 1);
});

test('a quote never closed runs to the next assignment line, the line cap or the end of the text', () => {
  const cases: [string, string][] = [
    // the next line opening an assignment ends it (`NAME=value`, `NAME: value`, `export NAME=`)
    ['DB_PASSWORD="abc\ndef\nLOG_LEVEL=debug', 'DB_PASSWORD=***\nLOG_LEVEL=debug'],
    ['password: "abc\n  def\nuser: admin', 'password: ***\nuser: admin'],
    ['DB_PASSWORD="abc\ndef\nexport MODE=prod', 'DB_PASSWORD=***\nexport MODE=prod'],
    // output cut at the cap: the rest is masked
    ['DB_PASSWORD="abc\ndef\nghi', 'DB_PASSWORD=***'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
  // at most 100 more lines
  const log = Array.from({ length: 150 }, (_, i) => `line ${i}`).join('\n');
  const out = maskSecretText(`DB_PASSWORD="abc\n${log}`);
  assert.ok(out.startsWith('DB_PASSWORD=***\nline 100\n'), out.slice(0, 60));
  assert.ok(!out.includes('line 99\n'));
});

test('values closed on their line and values of names that are not secret are read as before', () => {
  const kept = [
    'MOTD="Welcome\nto the host"\nPORT=8080',
    'GREETING="hello\nLOG_LEVEL=debug',
    'a="x" b="y\nc"',
  ];
  for (const text of kept) assert.equal(maskSecretText(text), text, JSON.stringify(text));
  const masked: [string, string][] = [
    ['DB_PASSWORD="abc" # note\nPORT="80\n81"', 'DB_PASSWORD=***\nPORT="80\n81"'],
    // a value of a name that is not secret does not hide the assignments inside it from the forms
    ['MOTD="Welcome\n  DB_PASSWORD=hunter2 with blanks\n"', 'MOTD="Welcome\n  DB_PASSWORD=***\n"'],
    ['MOTD="Welcome\nadmin password: hunter2 x\n"', 'MOTD="Welcome\nadmin password: ***\n"'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, JSON.stringify(text));
});

test('the multi-line quoted matcher costs linear time on hostile text', () => {
  const units = ['A="x\n', 'A="x\nb\n', 'PASSWORD="x\n\\\n', "A='x\n\n", 'A="\\\n', 'a.b/A: "x\nAbC==\n', ' export A="\n'];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
  assertLinear('one open quote, long lines', (n) => 'PASSWORD="' + ('x'.repeat(99) + '\n').repeat(n / 100), maskSecretText);
  assertLinear('openers of names not secret', (n) => ('A="x\n' + 'y\n'.repeat(50)).repeat(n / 105), maskSecretText);
});
