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

test('a denied program is denied through nested runners, obfuscated scripts and non-literal words', () => {
  const block = { programs: { rm: {} } };
  for (const cmd of [
    // a wrapper running a shell, or find -exec running a wrapper
    'nice sh -c "rm /x"', 'sudo bash -c "rm -rf /x"', 'busybox sh -c "rm /x"', 'nice -n 5 bash -c "rm /x"', 'xargs -a f sh -c "rm /x"',
    'find / -exec nice rm {} ;', 'timeout 5 nice env rm /x', 'find / -exec sh -c "rm /x" ;', 'find / -exec rm + -rf {} +',
    // scripts whose program names are quoted, escaped or computed: parsed, not split into words
    `sh -c "r''m /x"`, 'sh -c "r\\\\m /x"', 'sh -c "\\$a /x"', 'eval "\\$a /x"', 'watch "r\\"\\"m /x"', `flock /tmp/l -c "r''m /x"`,
    `script -c "r''m /x" /dev/null`, `su -c "r''m /x"`, `trap "r''m /x" EXIT`, 'sg grp "rm /x"', `awk 'BEGIN{system("r" "m /x")}'`,
    'GIT_SSH_COMMAND="rm -rf /x" git fetch', `GIT_SSH_COMMAND="r''m" git fetch`, 'env GIT_SSH_COMMAND="rm /x" git fetch',
    `sudo GIT_SSH_COMMAND="r''m" git fetch`, `echo 'BEGIN{system("r" "m /x")}' | xargs -0 awk`,
    // psql's pager and editor variables hold a command line too
    'env PSQL_PAGER="rm /x" psql -c "select 1"', 'PSQL_EDITOR="rm /x" psql', 'env PSQL_WATCH_PAGER="rm -rf /x" psql',
    "env -S 'rm /x'", 'env --split-string="rm /x"', 'zsh -c "=rm /x"',
    // a shell reading its script from stdin
    'echo "rm /x" | sh', 'echo "rm /x" | bash -s', 'echo "rm /x" | bash -o pipefail', 'echo rm /x | bash /dev/stdin', 'echo rm /x | bash -',
    // wrappers the deny side did not know
    'pkexec rm /x', 'unshare rm /x', 'setarch x86_64 rm /x', 'firejail rm /x',
    // a wrapped program given by a variable, a substitution or a glob that can name it
    'a=rm; nice $a /x', 'nice $(echo rm) /x', 'find / -exec $a {} ;', 'xargs $a', 'nice /bin/r? /x', 'nice /bin/[r]m /x', 'nice {/bin/rm,/x}',
    'nice ~-',
    // a shell given a script file, a build tool, a program run by a path: code no rule judged (unjudged-code.ts, interpreters.ts)
    'bash /srv/deploy.sh', 'sudo -E env PATH=$PATH make', 'zsh /srv/x.zsh', 'chroot /srv/root /srv/x',
  ]) {
    assert.equal(denies(block, cmd), true, cmd);
  }
  for (const cmd of [
    'nice grep x /var/log/*.log', 'find /x -name "*.log" -newer /y', 'find . -exec grep x {} ;', `awk '{print $1}' /x`, 'bash -c "ls /x"',
    'sudo systemctl status nginx', 'GIT_SSH_COMMAND="ssh -i /k" git fetch', 'timeout 5 ls /x/*.log',
    `find . -name x -exec sh -c 'ls "$1"' _ {} ;`, 'sudo -E env PATH=$PATH ls', 'xargs -I{} sh -c "gzip {}"',
  ]) {
    assert.equal(denies(block, cmd), false, cmd);
  }
});

test('a deny rule with no programs does not compile: it would match nothing, also for runners', () => {
  for (const cmd of ['echo "rm /x" | sh', 'a=rm; $a /x', 'nice $a']) assert.throws(() => denies({ programs: {} }, cmd), /would deny nothing/, cmd);
});

test('a shell reading standard input matches only when the line can feed it one', () => {
  const block = { programs: { rm: {} } };
  for (const cmd of [
    'echo "rm /x" | sudo -s', 'echo "rm /x" | sudo -u root -i', 'echo "rm /x" | chroot /', 'echo "rm /x" | unshare -m', 'echo "rm /x" | zsh',
    `echo "rm /x" | sudo sh -c 'sh'`, 'bash <(echo "rm /x")', 'bash <<< "rm /x"', 'echo "rm /x" | su', 'echo "rm /x" | source /dev/stdin',
    'echo "rm /x" | nsenter -t 1 -a',
  ]) {
    assert.equal(denies(block, cmd), true, cmd);
  }
  for (const cmd of ['bash', 'sudo -i', 'sudo which bash', 'sudo apt-get install -y zsh', 'chroot /srv/root /bin/ls', 'echo x | sudo tee /y',
    'sudo -u postgres psql -c "select 1"', 'sed -i s/a/b/ /etc/x.conf', 'sudo apt-get install -y gawk sed']) {
    assert.equal(denies(block, cmd), false, cmd);
  }
});

test('listed names that are Object properties are plain names', () => {
  const block = { programs: { constructor: {}, toString: { deny_flags: ['-x'] } } };
  assert.equal(denies(block, 'constructor -a'), true);
  assert.equal(denies(block, 'ls /x'), false);
  assert.equal(denies(block, 'echo x | sudo constructor'), true);
  assert.equal(denies(block, 'nice toString -x'), true);
});

test('runner chains and script floods match instead of costing time', () => {
  const block = { programs: { rm: { deny_flags: ['-r'] } } };
  for (const cmd of ['nice '.repeat(1500) + 'ls', 'watch '.repeat(1200) + 'ls', 'eval '.repeat(1500) + 'ls', `trap ${"'a b' ".repeat(1200)}`]) {
    const t = performance.now();
    assert.equal(denies(block, cmd), true, cmd.slice(0, 20));
    assert.ok(performance.now() - t < 2000, `${cmd.slice(0, 20)} took too long`);
  }
});
