/**
 * Programs run by a name the line does not spell: the dynamic loader, a multi-call binary, a file
 * name find or xargs puts in a wrapper's words, words xargs appends from standard input, strace's
 * `-o |cmd`, a builtin's callback (`mapfile -C`, `compgen -C`), a crontab fed on standard input,
 * the shell escapes of database shells, dc and m4, and wrappers the tables did not know. A red-team
 * pass found every one of these passing `programs: { rm: {} }` (each was checked on a real host), and
 * long, abbreviated or implied spellings of denied flags and file options passing grants.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { OPAQUE_WRAPPERS } from '../../../tools/shared/shell/unjudged-code.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denies = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
const allows = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).matched;
const RM = { programs: { rm: {} } };

before(async () => {
  await initShellParser();
});

test('the dynamic loader and multi-call binaries run the program their words name', () => {
  for (const cmd of [
    '/lib64/ld-linux-x86-64.so.2 /bin/rm /x', '/lib/ld-linux-aarch64.so.1 --library-path /lib /bin/rm /x', 'ld.so /bin/rm /x',
    '/lib/ld-musl-x86_64.so.1 /bin/rm /x', 'coreutils --coreutils-prog=rm /x', 'nice coreutils --coreutils-prog-shebang=rm /x',
    // hash -p PATH NAME: NAME runs PATH, here a glob that can name rm
    'hash -p /bin/r? ls; ls /x',
  ]) {
    assert.equal(denies(RM, cmd), true, cmd);
  }
  for (const cmd of ['/lib64/ld-linux-x86-64.so.2 /bin/ls /x', 'coreutils --coreutils-prog=ls /x']) assert.equal(denies(RM, cmd), false, cmd);
  assert.equal(allows({ programs: { 'ld-linux-x86-64.so.2': {}, ls: {} } }, 'ld-linux-x86-64.so.2 ls'), false);
});

test('a file name find puts in the command it runs may name a denied program', () => {
  for (const cmd of [
    "find /usr/bin -name rm -exec '{}' /x ';'", "find /usr/bin -name rm -execdir '{}' /x ';'", "find /usr/bin -name rm -exec nice '{}' /x ';'",
    "find /usr -path '*bin/rm' -exec /usr/bin/'{}' /x ';'", "find /tmp -name '*' -exec sh -c 'cat {}' ';'",
  ]) {
    assert.equal(denies(RM, cmd), true, cmd);
  }
  for (const cmd of ["find /x -name '*.log' -exec gzip '{}' ';'", `find . -name x -exec sh -c 'ls "$1"' _ '{}' ';'`]) {
    assert.equal(denies(RM, cmd), false, cmd);
  }
});

test('xargs fed on standard input may give a wrapper its program', () => {
  for (const cmd of [
    'echo r | xargs -I% nice %m /x', 'echo rm /x | xargs xargs', 'echo /bin/rm /x | xargs nice', 'echo rm /x | xargs env',
    'echo rm /x | xargs -r sudo', 'echo r | xargs --replace=@ timeout 5 @m /x', 'echo r | xargs -i nice {}m /x',
    'echo "x; rm /x" | xargs -I{} sh -c "gzip {}"', 'xargs -a /tmp/list nice',
  ]) {
    assert.equal(denies(RM, cmd), true, cmd);
  }
  for (const cmd of ['find /x | xargs grep y', 'ls /x | xargs -I{} cp {} /y', 'xargs -I{} sh -c "gzip {}"', 'xargs nice']) {
    assert.equal(denies(RM, cmd), false, cmd);
  }
});

test("strace -o '|cmd', builtins' callbacks and a crontab on standard input run commands", () => {
  for (const cmd of [
    "strace -f -o '|/bin/rm /x' true", "strace -o'!rm /x' true", "strace --output='|rm /x' true", "nice strace -o '|rm /x' ls",
    "mapfile -C 'rm /x' -c 1 < /etc/passwd", "readarray -tC'rm /x' -c 1 < /etc/passwd", "compgen -C 'rm /x' x", "complete -C 'rm /x' x",
    'echo "* * * * * rm /x" | crontab -', 'echo "* * * * * rm /x" | crontab', 'echo "* * * * * rm /x" | crontab -u root -',
  ]) {
    assert.equal(denies(RM, cmd), true, cmd);
  }
  for (const cmd of ['strace -o /tmp/trace ls', 'mapfile -t lines < /x', 'compgen -c ls', 'crontab -l', 'echo x | crontab -l']) {
    assert.equal(denies(RM, cmd), false, cmd);
  }
  assert.equal(allows({ programs: { compgen: {} } }, "compgen -C 'rm /x' x"), false);
});

test('shell escapes of database shells, dc and m4 are read for denied names', () => {
  for (const cmd of [
    "psql -c '\\! rm /x'", "sqlite3 :memory: '.shell rm /x'", "sqlite3 :memory: '.system rm /x'", "mysql -e 'system rm /x'", "dc -e '!rm /x'",
    "m4 <<< 'syscmd(rm /x)'", 'echo "\\! rm /x" | psql', "echo '.shell rm /x' | sqlite3 /tmp/db",
  ]) {
    assert.equal(denies(RM, cmd), true, cmd);
  }
  for (const cmd of ["psql -c 'select 1'", 'sudo -u postgres psql -c "select 1"', "sqlite3 /srv/app.db 'select count(*) from t'"]) {
    assert.equal(denies(RM, cmd), false, cmd);
  }
});

test('wrappers the tables did not know run the program after them, or any program when their options are not modelled', () => {
  for (const w of [
    'prlimit --nofile=10', 'systemd-inhibit', 'systemd-cat', 'systemd-nspawn -D /', 'eatmydata', 'run0', 'sshpass -p x', 'bwrap --bind / /',
    'dbus-run-session', 'xvfb-run', 'chronic', 'ifne', 'perf stat', 'envdir /etc/env', 'setuidgid app', 'cpulimit -l 10', 'sem', 'catatonit --',
  ]) {
    assert.equal(denies(RM, `${w} rm /x`), true, w);
    // Modelled wrappers find their program; the rest run any program to a deny rule (OPAQUE_WRAPPERS): fail closed.
    assert.equal(denies(RM, `${w} ls /x`), OPAQUE_WRAPPERS.has(w.split(' ', 1)[0] as string), w);
    assert.equal(allows({ programs: { [w.split(' ', 1)[0] as string]: {}, ls: {} } }, `${w} ls /x`), false, w);
  }
});

test('a denied flag is denied in its long spelling, and -R for rm and cp, -F for tail', () => {
  const rm = { programs: { rm: { deny_flags: ['-r', '-f'] }, cp: { deny_flags: ['-r'] }, tail: { deny_flags: ['-f'] } } };
  for (const cmd of ['rm --recursive /x', 'rm --force /x', 'rm -R /x', 'rm --rec /x', 'cp --recursive /x /y', 'cp -R /x /y', 'tail -F /x', 'tail -qF /x']) {
    assert.equal(allows(rm, cmd), false, cmd);
    assert.equal(denies(rm, cmd), true, cmd);
  }
  for (const cmd of ['rm /x', 'rm -i /x', 'cp -p /x /y', 'tail -n 5 /x']) assert.equal(allows(rm, cmd), true, cmd);
  assert.equal(allows({ programs: { tail: { allow_flags: ['-f'] } } }, 'tail -F /x'), false, 'allow_flags [-f] does not allow -F');
});

test('an abbreviated long option naming a file is a file, however short', () => {
  const block = { programs: { sort: { paths: ['/var/log/app'] }, grep: { paths: ['/var/log/app'] } } };
  for (const cmd of ['sort --out=notes /var/log/app/a', 'sort --o=notes /var/log/app/a', 'grep --fil=secret /var/log/app/a', 'grep --exclude-f=secret x /var/log/app/a']) {
    assert.equal(allows(block, cmd), false, cmd);
  }
  assert.equal(allows(block, 'sort --output=/var/log/app/b /var/log/app/a'), true);
});
