/**
 * Shell bypasses a review reproduced end to end (real sshd, the test API server): programs a rule
 * grants whose own reading of their arguments differs from Warden's. Each must now be refused
 * by an allow rule (and legitimate uses still allowed).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const allows = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).matched;
const denies = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
const LOG = { paths: ['/var/log/app'] };

before(async () => {
  await initShellParser();
});

test('sed: a delimiter inside a bracket expression does not end the regex (GNU sed would run the e flag)', () => {
  const block = { programs: { sed: { ...LOG, rewrites: true } } };
  assert.equal(allows(block, `sed 's|.*|id #/|;s/[/]/g;/e;#/p' /var/log/app/app.log`), false);
  assert.equal(allows(block, `sed 's/a/b/e' /var/log/app/app.log`), false, 'the e flag itself');
  assert.equal(allows(block, `sed -n 's/[^/]*$//p' /var/log/app/app.log`), true, 'a bracket with the delimiter, read correctly');
  assert.equal(allows(block, `sed -n '/ERROR/p' /var/log/app/app.log`), true);
});

test('awk: no reading past the paths through ARGV, no writes through a broken-up print, no program files', () => {
  const block = { programs: { awk: { ...LOG, rewrites: true } } };
  assert.equal(allows(block, `awk 'BEGIN{ARGV[1]="/etc/shadow";ARGC=2}{print}' /var/log/app/app.log`), false);
  assert.equal(allows(block, `awk 'BEGIN{print "x",\n"y" > "/tmp/any"}' /var/log/app/app.log`), false);
  assert.equal(allows(block, 'awk -bf /var/log/app/prog.awk /var/log/app/app.log'), false);
  assert.equal(allows(block, `awk '{print $1}' /var/log/app/app.log`), true);
  assert.equal(allows(block, `awk -F: '$3 > 1000 {print $1}' /var/log/app/app.log`), true, 'a comparison is not a redirection');
});

test('find: -exec after -- still runs, so it is still refused', () => {
  assert.equal(allows({ programs: { find: {} } }, 'find -- /var/log/app -maxdepth 0 -exec id ;'), false);
});

test('apt-get -o and git --exec/--upload-pack are always refused; grep --directories=recurse is -r', () => {
  assert.equal(allows({ programs: { 'apt-get': { subcommands: ['update'] } } }, `apt-get -o 'APT::Update::Pre-Invoke::=id' update`), false);
  assert.equal(allows({ programs: { git: {} } }, 'git archive --remote=file:///srv/r --exec=id HEAD'), false);
  assert.equal(allows({ programs: { git: {} } }, 'git ls-remote --upload-pack=id origin'), false);
  const grep = { programs: { grep: { ...LOG, deny_flags: ['-r', '-R'] } } };
  for (const cmd of ['grep --directories=recurse x /var/log/app', 'grep -d recurse x /var/log/app']) assert.equal(allows(grep, cmd), false, cmd);
  assert.equal(denies({ programs: { grep: { deny_flags: ['-r'] } } }, 'grep --directories=recurse x /var/log/app'), true);
  assert.equal(allows(grep, 'grep -i x /var/log/app/app.log'), true);
});
