/**
 * A `shell:` deny rule names programs; wrapping one (`nice rm`, `timeout 9 rm`, `xargs rm`,
 * `find -exec rm`), running it from a script (`eval`, `sh -c`, `python3 -c`) or naming it through
 * a variable must not dodge the rule. A review found all of these passing `programs: { rm: {} }`.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denies = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

before(async () => {
  await initShellParser();
});

test('a denied program is denied however it is wrapped', () => {
  const block = { programs: { rm: {} } };
  for (const cmd of [
    'rm -rf /x', 'nice rm -rf /x', 'timeout 9 rm /x', 'env rm /x', 'env FOO=1 rm /x', 'sudo rm /x', 'xargs rm', 'nohup rm /x',
    'find / -name x -exec rm {} ;', 'eval rm /x', 'sh -c "rm /x"', 'bash -c "ls; rm /x"', `python3 -c "import os; os.system('rm /x')"`,
    'a=rm; $a /x', '/bin/rm /x', 'nice /usr/bin/rm /x',
  ]) {
    assert.equal(denies(block, cmd), true, cmd);
  }
  for (const cmd of ['ls /x', 'nice ls /x', 'timeout 9 cat /x', 'sh -c "ls /x"', 'find / -name rmdir-notes']) assert.equal(denies(block, cmd), false, cmd);
});

test("a wrapped program is judged with the words after it, against the rule's own flags", () => {
  const block = { programs: { rm: { deny_flags: ['-r', '-f'] } } };
  assert.equal(denies(block, 'nice rm -rf /x'), true);
  assert.equal(denies(block, 'timeout 5 rm -r /x'), true);
  assert.equal(denies(block, 'nice rm /x'), false, 'no denied flag after the wrapped rm');
  assert.equal(denies(block, 'xargs rm'), true, 'arguments from stdin cannot be judged: denied');
  assert.equal(denies(block, 'sh -c "rm /x"'), true, 'a script is not judged flag by flag: denied');
});
