/**
 * Red-team finding: a `--` that is an option's value does not end the options. getopt gives the
 * next word to an option that takes a value whatever it is, so `tar -xf A --exclude -- --to-command=CMD`
 * excludes `--` and then runs CMD for every member (checked against GNU tar, git, OpenSSH and
 * rsync). Before flags.ts optionsEnd, every check that read "the words before `--`" (the injection
 * catalogue, deny_flags, allow_flags, ssh -o) stopped at that `--` and never saw what followed.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

before(async () => {
  await initShellParser();
});

describe('-- as an option value', () => {
  it('the injection catalogue sees the options after a -- that an option takes as its value', () => {
    const { refuse } = shellVerdicts({ programs: { tar: {}, git: {}, ssh: {}, rsync: {}, sort: {} } });
    refuse(['tar -xf /srv/x.tar --exclude -- --to-command=id', 'tar -xf /srv/x.tar --exclude -- --to-command id', 'tar -xf -- --to-command=id',
      'tar -x --exclude -- -f /srv/x.tar --use-compress-program=id'], /Always denied: tar/);
    refuse(["git --namespace -- -c alias.zz='!id' zz", 'git --namespace -- -c core.pager=id log', 'git --namespace -- --exec-path=/tmp log'], /Always denied: git/);
    refuse(['ssh -i -- -oProxyCommand=id h', 'ssh -E -- -o ProxyCommand=id h'], /Always denied: ssh -o ProxyCommand/);
    refuse(["rsync --exclude -- -e 'sh -c id' /srv/a h:/tmp/x"], /Always denied: rsync -e/);
    refuse(['sort -k1 -t -- --compress-program=id /srv/a'], /Always denied: sort --compress-program/);
  });

  it('deny_flags and allow_flags see them too', () => {
    assert.equal(denies({ programs: { tar: { deny_flags: ['--to-command'] } } }, 'tar -xf /srv/x.tar --exclude -- --to-command=id'), true);
    assert.equal(denies({ programs: { git: { deny_flags: ['--no-pager'] } } }, 'git --namespace -- --no-pager log'), true);
    const { refuse } = shellVerdicts({ programs: { grep: { paths: ['/var/log/app'], allow_flags: ['-e', '-i'] } } });
    refuse(['grep -e -- -r /var/log/app', 'grep -e -- -rfoo /var/log/app', 'grep -e x -e -- -R /var/log/app'], /flag -[rR] is not in allow_flags/);
  });

  it('a -- that ends the options still does: what follows it is an operand', () => {
    const { allow } = shellVerdicts({ programs: { grep: { paths: ['/var/log/app'], allow_flags: ['-e', '-i', '-n'] }, tail: { paths: ['/var/log/app'], allow_flags: ['-n'] }, tar: {}, git: {} } });
    allow(['grep -i -- -foo /var/log/app/a', 'grep -n -- --verbose /var/log/app/a', 'grep -- -f /var/log/app/a',
      'tail -n 5 -- /var/log/app/a', 'tar -tf /srv/x.tar -- a/b', 'git log -- -c']);
  });
});
