/**
 * Agent globs are matched against fixed names: a word a wrapper runs (`nice sys*ctl`) against
 * every program a deny rule lists, a file's last segment (`cat /tmp/*token`) against secret base
 * names, a first segment (`/d*`) against `dev`, a dotted piece (`.?`) against `..`. As a
 * backtracking RegExp (`^.*.*.*q$`), a word of k stars cost C(k + n, n) steps against an n-letter
 * name: `cat /tmp/` and 18 stars held the event loop 5.6 s, `nice ` and 200 stars 92 s, `/` and
 * 1000 stars over a minute. The matcher (glob-match.ts) is linear-times-length; the answers are
 * the same.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { globMatches, globSteps } from '../../../tools/shared/shell/glob-match.js';
import { secretFileRead } from '../../../tools/shared/shell/secret-files.js';
import { devicePlace } from '../../../tools/shared/shell/device-places.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const block = { programs: { systemctl: {}, rm: {} } };
const denies = (cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

before(async () => {
  await initShellParser();
});

// Before the fix the first call took 92 s of CPU (a synchronous hang: no test timeout can stop it).
test('a word of many stars is judged, not backtracked over', () => {
  assert.equal(denies(`nice ${'*'.repeat(200)}q`), false);
  assert.equal(denies(`nice ${'*'.repeat(200)}l`), true, 'the stars may spell systemctl');
  assert.equal(denies(`nice ${'*s'.repeat(300)}*`), false, 'no listed name has 300 letters s');
});

test('a file or device pattern of many stars is judged, not backtracked over', () => {
  const cat = (word: string) => secretFileRead(parseShell(`cat ${word}`).commands[0]!, undefined);
  assert.equal(cat(`/tmp/${'*'.repeat(200)}q`), null);
  assert.notEqual(cat(`/tmp/${'*'.repeat(200)}n`), null, 'the stars may spell .vault-token');
  assert.equal(devicePlace(`/${'*'.repeat(2000)}q/x`), null);
  assert.notEqual(devicePlace(`/${'*'.repeat(2000)}v/x`), null, 'the stars may spell dev');
});

test('matching work grows with the sizes, not with the ways to split a name', () => {
  const name = 'systemctl-something-long';
  const small = globSteps(`${'*'.repeat(100)}q`, name);
  const big = globSteps(`${'*'.repeat(1000)}q`, name);
  // Linear in the pattern (at most pattern x name): ten times the stars, at most ten times the work.
  assert.ok(big <= 10 * small + name.length, `${small} -> ${big}`);
  assert.ok(big <= (1000 + 1) * (name.length + 1), String(big));
  const alt = globSteps(`${'*s'.repeat(500)}*q`, 'ss'.repeat(40));
  assert.ok(alt <= (1002 + 1) * (80 + 1), String(alt));
});

test('neighbour: globs that may name a denied program still deny, others pass', () => {
  for (const cmd of ['nice sys*ctl', 'nice /usr/bin/s?stemctl', 'nice [s]ystemctl', 'nice r[m]', 'nice *', 'timeout 5 /bin/r?', 'nice r*m']) {
    assert.equal(denies(cmd), true, cmd);
  }
  for (const cmd of ['nice *.txt', 'nice l?', 'nice r[m]x', 'nice sys*ctlx', 'ls *']) assert.equal(denies(cmd), false, cmd);
  // The matcher itself: stars, one-character marks, bracket expressions read generously.
  assert.equal(globMatches('a*b?c', 'aXXbYc'), true);
  assert.equal(globMatches('a*b?c', 'abc'), false);
  assert.equal(globMatches('[!x]b', 'xb'), true, 'a bracket expression matches any one character');
  assert.equal(globMatches('[ab', '[ab'), true, 'an unclosed bracket is a literal');
  assert.equal(globMatches('**', ''), true);
  assert.equal(globMatches('a', 'a\n'), false);
  assert.equal(globMatches('a?', 'a\n'), true);
  // Loose (braces, brackets and extglob characters are any run) and extglob readings.
  assert.equal(globMatches('.vault-{tok}en', '.vault-token', 'loose'), true);
  assert.equal(globMatches('master.k?y', 'master.key', 'loose'), true);
  assert.equal(globMatches('master.k?', 'master.key', 'loose'), false);
  for (const piece of ['.?', '.*', '.[.]', '.@(x)', '.!(x)']) assert.equal(globMatches(piece, '..', 'extglob'), true, piece);
  for (const piece of ['.env*', '..?', '.[ab', '.x?']) assert.equal(globMatches(piece, '..', 'extglob'), false, piece);
});

test('neighbour: secret files and devices named by a pattern are still found', () => {
  const cat = (word: string) => secretFileRead(parseShell(`cat ${word}`).commands[0]!, undefined);
  assert.notEqual(cat('/tmp/*vault-token'), null);
  assert.notEqual(cat('/srv/app/master.k?y'), null);
  assert.equal(cat('/tmp/*.txt'), null);
  assert.notEqual(devicePlace('/d?v/sda'), null);
  assert.equal(devicePlace('/x*/sda'), null);
});
