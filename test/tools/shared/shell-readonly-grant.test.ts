/**
 * Red team of a realistic read-only grant (ls, cat, grep, tar, date, diff, journalctl,
 * systemctl status, ... with `paths: [/var/log, /srv/app]`): commands it let through that write,
 * read outside the paths, change the host or reach another one. Each must now be refused by the
 * allow rule, and the legitimate reads still pass.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const P = { paths: ['/var/log', '/srv/app'] };
const BLOCK = {
  pipelines: true,
  programs: {
    ls: P, cat: P, grep: P, head: P, tail: P, find: P, du: P, tar: P, awk: { ...P, rewrites: true }, sed: { ...P, rewrites: true }, sort: P, wc: P, diff: P, date: P, journalctl: P,
    ps: {}, df: {}, systemctl: { subcommands: ['status'] }, git: { subcommands: ['log'] },
  },
};
const allows = (cmd: string, block: unknown = BLOCK) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);

before(async () => {
  await initShellParser();
});

const refuse = (cmds: string[], why: RegExp) => {
  for (const cmd of cmds) {
    const r = allows(cmd);
    assert.equal(r.matched, false, `${cmd} must be refused`);
    assert.match(r.why, why, cmd);
  }
};

test('legitimate reads stay allowed', () => {
  // Packing a tree is refused only because a bare secret (config/master.key) may lie in it (shell/secret-files.ts): its options and paths pass.
  refuse(['tar -czf /srv/app/y.tgz /var/log/app', 'tar -cf /srv/app/y.tar -C /var/log app'], /may lie at any depth/);
  for (const cmd of [
    "find /var/log -name '*.gz'", 'git log -5', 'tar -tzf /srv/app/x.tgz', 'tar tf /srv/app/x.tar', 'tar --list --file=/srv/app/x.tar',
    "awk '{print $1}' /var/log/x", 'tar -xOf /srv/app/x.tar', 'tar -xzf /srv/app/x.tgz --to-stdout',
    'date', 'date +%Y-%m-%d', 'date -u -Iseconds',
    "date -d '1 hour ago' +%s", 'diff /var/log/a /var/log/b', 'diff -u --label old /var/log/a /srv/app/b', 'journalctl -u nginx -n 50 --no-pager',
    "journalctl --since '1 hour ago' -p err", 'journalctl -D /var/log/journal', 'systemctl status nginx', 'ls -la /var/log',
  ]) {
    const r = allows(cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('tar extraction writes names only the archive knows: into the current folder, or -C, or anywhere with -P', () => {
  refuse(['tar -xf /srv/app/x.tar', 'tar xf /srv/app/x.tar', 'tar -xvf /srv/app/x.tar', 'tar --extract --file=/srv/app/x.tar',
    'tar --ext -f /srv/app/x.tar', 'tar --get -f /srv/app/x.tar', 'tar -t --extract -f /srv/app/x.tar', 'tar -x -f /srv/app/x.tar m -C /srv/app',
    'tar -df /srv/app/x.tar'], /'\.' is not an absolute path/);
  refuse(['tar -xPf /srv/app/x.tar -C /srv/app', 'tar -x --absolute-names -f /srv/app/x.tar -C /srv/app'], /path '\/' is outside/);
  refuse(['tar -xf /srv/app/x.tar -C tmp', 'tar -xf /srv/app/x.tar --directory=etc'], /'(tmp|etc)' is not an absolute path/);
  // Into a folder under the paths too: the names it writes may be a file git obeys (shell-git-config-chain.test.ts).
  refuse(['tar -x -f /srv/app/x.tar -C /srv/app/out'], /extraction into a folder writes names only the archive knows/);
});

test('tar: a relative archive, member list, snapshot or operand is a file outside the paths', () => {
  refuse(['tar -tf backup.tar', 'tar tf backup.tar', 'tar -tf rhost:x.tar', 'tar -cf /srv/app/y.tar secrets.env', 'tar -rf /srv/app/y.tar notes',
    'tar -cf /srv/app/y.tar -T names', 'tar -tf /srv/app/x.tar -g snap', 'tar --list --listed-incr snap -f /srv/app/x.tar'], /not an absolute path/);
  refuse(['tar -cf /srv/app/y.tar -C /etc shadow', 'tar -cf /srv/app/y.tar -C /srv/app ../../etc/shadow', 'tar -tf /srv/app/x.tar --index-file=/tmp/x',
    'tar -tf /srv/app/x.tar --volno-file /tmp/x'], /outside/);
});

test('date, diff, journalctl: file options and operands, also abbreviated and relative, are files of the grant', () => {
  refuse(['date -f /etc/shadow', 'date --fi=/etc/shadow', 'date --fi /etc/shadow', 'date -r /etc/shadow', 'date --reference=/root/x',
    'diff /var/log/a /etc/shadow', 'diff --from-file=/etc/shadow /var/log/a', 'diff -X /etc/shadow /var/log/a /var/log/b',
    'journalctl --file=/etc/x', 'journalctl --directory /tmp', 'journalctl --root=/', 'journalctl --cursor-file=/tmp/c'], /outside|not under/);
  refuse(['date -f id_rsa', 'date -fsecrets', 'diff --line-format=%L /var/log/a config.yaml', 'diff /var/log/a secrets.env',
    'journalctl --file=system.journal'], /not an absolute path/);
});

test('options that change the host or reach another one are never granted', () => {
  refuse(['date -s 2020-01-01', 'date --set=2020-01-01', 'date --se 2020-01-01', 'date -us 2020-01-01', 'date 010101012020', 'date -u 0101',
    'date -- 0101'], /sets the system clock/);
  refuse(['journalctl --vacuum-time=1s', 'journalctl --vac=1', 'journalctl --rotate', 'journalctl --flush', 'journalctl --sync',
    'journalctl --relinquish-var', 'journalctl --setup-keys', 'journalctl --update-cat'], /deletes or writes journal files/);
  refuse(['journalctl -H root@db-2', 'journalctl --host=db-2', 'systemctl -H root@db-2 status nginx', 'systemctl status --ho=db-2 nginx'],
    /runs ssh to another host/);
});
