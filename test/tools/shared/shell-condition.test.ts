/** The `shell:` condition: flags in every spelling, path grants, catalogue, deny rules, schema. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, injectionReason, parseArgv, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { findSubcommand, type SubcommandResult } from '../../../tools/shared/shell/subcommand-options.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
function allows(block: unknown, cmd: string): boolean {
  const r = shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
  assert.ok(r.why.length > 0);
  return r.matched;
}
function denies(block: unknown, cmd: string): boolean {
  return shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
}
const LOG = { paths: ['/var/log/app'] };

before(async () => {
  await initShellParser();
});

describe('deny_flags spellings', () => {
  const block = { programs: { grep: { ...LOG, deny_flags: ['-f', '--file', '-r'] }, tail: { ...LOG, deny_flags: ['--follow'] } } };
  const f = '/var/log/app/a.log';
  for (const cmd of [`grep -f ${f} x ${f}`, `grep -f${f} x ${f}`, `grep -if ${f} ${f}`, `grep --file=${f} ${f}`, `grep --file ${f} ${f}`,
    `grep --fi=${f} ${f}`, `grep -rn x ${f}`, `grep --recursive x ${f}`, `tail --follow ${f}`, `tail -f ${f}`, `tail --fol ${f}`]) {
    it(`refuses ${cmd}`, () => assert.equal(allows(block, cmd), false));
  }
  it('allows other flags and flag-looking operands after --', () => {
    assert.equal(allows(block, `grep -in x ${f}`), true);
    assert.equal(allows(block, `grep -- -f ${f}`), true);
  });
});

describe('allow_flags', () => {
  const block = { programs: { ls: { ...LOG, allow_flags: ['-l', '-a', '--all'] } } };
  it('accepts listed flags in clusters and long form', () => {
    assert.equal(allows(block, 'ls -la /var/log/app'), true);
    assert.equal(allows(block, 'ls --all /var/log/app'), true);
  });
  it('refuses anything else', () => {
    assert.equal(allows(block, 'ls -laR /var/log/app'), false);
    assert.equal(allows(block, 'ls --recursive /var/log/app'), false);
  });
});

describe('path grants', () => {
  const block = { pipelines: true, programs: { cat: LOG, ls: LOG, grep: LOG, find: LOG, tail: LOG, head: LOG, wc: LOG, foo: LOG } };
  const ok = ['cat /var/log/app/x.log', 'cat /var/log/app', 'cat /var/log/app/./a/../b.log', 'ls /var/log/app/', 'grep /api/v1 /var/log/app/a',
    'grep -e /x/ /var/log/app/a', 'find /var/log/app -path /etc/x', 'tail -n 5 /var/log/app/a', 'cat /var/log/app/a | wc -l', 'foo --out=/var/log/app/x',
    'cat -'];
  const bad = ['cat /var/log/application/x', 'cat /var/log/app/../application/x', 'cat /var/log/app/../../../etc/shadow', 'cat x.log',
    'cat ./x', 'cat ../var/log/app/x', 'ls', 'grep -r x', 'find -name x', 'find . -name x', 'find /var/log/app -newer /etc/shadow',
    'foo /etc/x', 'foo --out=/etc/x', 'foo -o/etc/x', 'grep x /var/log/app/a /etc/shadow', 'head -n 5 /etc/passwd', "cat '/var/log/app/../x'",
    'cat //var/log/app/../../etc/x'];
  for (const cmd of ok) it(`grants ${cmd}`, () => assert.equal(allows(block, cmd), true));
  for (const cmd of bad) it(`refuses ${cmd}`, () => assert.equal(allows(block, cmd), false));
  it('root prefix grants every absolute path but not relative ones', () => {
    const root = { programs: { cat: { paths: ['/'] } } };
    assert.equal(allows(root, 'cat /etc/hostname'), true);
    assert.equal(allows(root, 'cat hostname'), false);
  });
});

describe('programs, subcommands, constructs', () => {
  const block = { programs: { ls: {}, systemctl: { subcommands: ['status'] } } };
  it('requires bare listed names', () => {
    assert.equal(allows(block, 'ls'), true);
    assert.equal(allows(block, '/bin/ls'), false);
    assert.equal(allows(block, 'rm'), false);
    assert.equal(allows(block, 'toString'), false);
    assert.equal(allows(block, 'constructor'), false);
  });
  it('checks the first operand as subcommand', () => {
    assert.equal(allows(block, 'systemctl --no-pager status nginx'), true);
    assert.equal(allows(block, 'systemctl restart nginx'), false);
    assert.equal(allows(block, 'systemctl'), false);
  });
  it('allows pipes only when enabled', () => {
    assert.equal(allows(block, 'ls | ls'), false);
    assert.equal(allows({ ...block, pipelines: true }, 'ls | ls'), true);
    assert.equal(allows({ ...block, pipelines: true }, 'ls |& ls'), false);
    assert.equal(allows({ ...block, pipelines: true }, 'ls 2>&1 | ls'), false);
  });
  it('does not judge other families', () => {
    const r = shellCondition.compile(block, { id: 'a', effect: 'allow' })({ family: 'sql', summary: '' }, CALL);
    assert.equal(r.matched, false);
  });
});

describe('subcommands behind options that take a value', () => {
  const status = { programs: { systemctl: { subcommands: ['status'] } } };
  const why = (block: unknown, cmd: string): string => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).why;
  it('skips the value of -p/--property and judges the real subcommand', () => {
    assert.equal(allows(status, 'systemctl -p status stop nginx'), false);
    assert.match(why(status, 'systemctl -p status stop nginx'), /systemctl stop is not an allowed subcommand/);
    assert.equal(allows(status, 'systemctl --property status restart nginx'), false);
    assert.equal(allows(status, 'systemctl --property=status stop nginx'), false);
    assert.equal(allows(status, 'systemctl -Pstatus stop nginx'), false);
    assert.equal(allows(status, 'systemctl -ap status stop nginx'), false);
    assert.equal(allows(status, 'systemctl --prop status stop nginx'), false, 'getopt_long abbreviation of --property');
    assert.equal(allows(status, 'systemctl -H status stop nginx'), false);
    assert.equal(allows(status, 'systemctl --kill-whom status kill nginx'), false);
  });
  it('allows known options and values in front of an allowed subcommand', () => {
    for (const cmd of ['systemctl --no-pager status nginx', 'systemctl -p Id status nginx', 'systemctl --property=Id status nginx',
      'systemctl -pId status nginx', 'systemctl -ap Id status nginx', 'systemctl --no-p -n 5 status nginx', 'systemctl -l --lines 20 status',
      'systemctl --user -o json status x', 'systemctl status -p stop nginx']) {
      assert.equal(allows(status, cmd), true, cmd);
    }
  });
  it('refuses when an option before the subcommand is unknown, ambiguous or ends the options', () => {
    for (const cmd of ['systemctl --frobnicate status stop', 'systemctl -Z status', 'systemctl -aZ status', 'systemctl --s status stop',
      'systemctl -- status nginx']) {
      assert.equal(allows(status, cmd), false, cmd);
    }
    assert.match(why(status, 'systemctl --frobnicate status stop'), /cannot tell the subcommand of systemctl: option --frobnicate/);
  });
  it('refuses an option before the subcommand of a program without a table', () => {
    const helm = { programs: { helm: { subcommands: ['list'] } } };
    assert.equal(allows(helm, 'helm list'), true);
    assert.equal(allows(helm, 'helm --kube-context list uninstall x'), false);
    assert.match(why(helm, 'helm --debug list'), /does not model helm's options/);
    assert.equal(allows({ programs: { helm: {} } }, 'helm --kube-context list uninstall x'), true, 'no subcommand restriction: unchanged');
  });
  it('knows kubectl and git global options', () => {
    const kubectl = { programs: { kubectl: { subcommands: ['get'] } } };
    assert.equal(allows(kubectl, 'kubectl -n get delete pod x'), false);
    assert.equal(allows(kubectl, 'kubectl --namespace get delete pod x'), false);
    assert.equal(allows(kubectl, 'kubectl -n kube-system get pods'), true);
    assert.equal(allows(kubectl, 'kubectl --context=prod -nkube-system get pods'), true);
    assert.equal(allows(kubectl, 'kubectl -A get pods'), false, 'unknown at the root: cobra would take get as its value');
    const git = { programs: { git: { subcommands: ['status', 'log'] } } };
    assert.equal(allows(git, 'git -C status push origin'), false);
    assert.equal(allows(git, 'git --git-dir log push'), false);
    assert.equal(allows(git, 'git -C /srv/app --no-pager log -n 5'), true);
    assert.equal(allows(git, 'git --git-dir=/srv/app/.git status'), true);
    assert.equal(allows(git, 'git -Cstatus push'), false, 'git reads -C only as a word of its own');
  });
  it('deny rules see the real subcommand and match when it cannot be told', () => {
    const stop = { programs: { systemctl: { subcommands: ['stop'] } } };
    assert.equal(denies(stop, 'systemctl -p status stop nginx'), true);
    assert.equal(denies(stop, 'systemctl --property=status stop nginx'), true);
    assert.equal(denies(stop, 'systemctl -p stop status nginx'), false);
    assert.equal(denies(stop, 'systemctl --frobnicate x stop nginx'), true);
    assert.equal(denies(stop, 'systemctl -- stop nginx'), true);
    assert.equal(denies(stop, 'systemctl --no-pager'), false);
    assert.equal(denies({ programs: { kubectl: { subcommands: ['delete'] } } }, 'kubectl -n get delete pod x'), true);
    assert.equal(denies({ programs: { git: { subcommands: ['push'] } } }, 'git -c log push origin'), true);
    assert.equal(denies({ programs: { git: { subcommands: ['push'] } } }, 'git -c x=y log push'), false);
  });
  it('reads apt and docker option spellings', () => {
    const sub = (cmd: string): SubcommandResult => {
      const c = parseShell(cmd).commands[0];
      return findSubcommand(c?.program ?? '', c?.args ?? []);
    };
    assert.deepEqual(sub('apt-get -o Dpkg::Use-Pty=0 -qq -y install x'), { kind: 'word', word: 'install' });
    assert.deepEqual(sub('apt-get -t remove install x'), { kind: 'word', word: 'install' });
    assert.deepEqual(sub('apt-get -oFoo=1 install x'), { kind: 'word', word: 'install' });
    assert.deepEqual(sub('apt-get -o= X=1 remove x'), { kind: 'word', word: 'remove' }, 'apt reads -o= as -o');
    assert.deepEqual(sub('apt-get --option= X=1 remove x'), { kind: 'word', word: 'remove' });
    for (const cmd of ['apt-get -y true remove x', 'apt-get -q 2 remove x', 'apt-get -o Foo= install remove x', 'apt-get -oFoo= install remove x',
      'apt -a install x']) {
      assert.equal(sub(cmd).kind, 'undetermined', cmd);
    }
    assert.deepEqual(sub('docker -H ps rm x'), { kind: 'word', word: 'rm' });
    assert.deepEqual(sub('docker -D --context=prod ps'), { kind: 'word', word: 'ps' });
    assert.equal(sub('docker -Dl ps rm x').kind, 'undetermined');
  });
});

describe('injection catalogue (always denied, even when listed)', () => {
  const listed = (p: string): unknown => ({ programs: { [p]: {} } });
  const cases: [string, string][] = [
    ['find', 'find / -exec id ;'], ['find', 'find / -execdir id ;'], ['find', 'find / -ok id ;'], ['find', 'find / -okdir id ;'],
    ['find', 'find / -delete'], ['find', 'find / -fprint /tmp/x'], ['find', 'find / -fprint0 x'], ['find', 'find / -fls x'],
    ['find', 'find / -fprintf x y'], ['find', "find / -exec rm '{}' ';'"],
    ['tar', 'tar --checkpoint-action=exec=id -cf x y'], ['tar', 'tar -I id -xf x'], ['tar', 'tar xIf id x'],
    ['tar', 'tar --use-compress-program=id -xf x'], ['tar', 'tar --to-command=id -xf x'],
    ['git', 'git -c core.pager=id log'], ['git', 'git --exec-path=/tmp log'], ['git', 'git fetch --upload-pack=id'],
    ['git', 'git --config-env=core.pager=X log'], ['git', 'git difftool'],
    ['sort', 'sort --compress-program=id x'], ['ssh', 'ssh -o ProxyCommand=id h'], ['ssh', 'ssh -oLocalCommand=id h'],
    ['ssh', "ssh -o 'proxycommand id' h"], ['rsync', 'rsync -e id a b'], ['rsync', 'rsync --rsh=id a b'],
    ['less', 'less x'], ['more', 'more x'], ['vim', 'vim x'], ['vi', 'vi x'], ['man', 'man ls'],
    ['xargs', 'xargs'], ['env', 'env X=1 id'], ['env', 'env -i'], ['timeout', 'timeout 1 ls'], ['nice', 'nice ls'],
    ['nohup', 'nohup ls'], ['flock', 'flock x ls'], ['sudo', 'sudo ls'], ['su', 'su'], ['doas', 'doas ls'], ['chroot', 'chroot /'],
    ['strace', 'strace ls'], ['watch', 'watch ls'], ['script', 'script -c id'],
    ['sh', 'sh'], ['bash', 'bash x'], ['dash', 'dash'], ['zsh', 'zsh'], ['ksh', 'ksh'], ['ash', 'ash'],
    ['python3', 'python3 x.py'], ['python3.11', 'python3.11'], ['perl', 'perl -e 1'], ['ruby', 'ruby x'], ['php', 'php x'], ['lua', 'lua'],
    ['node', 'node -e 1'], ['node', 'node --eval=1'], ['node', 'node'],
    ['awk', `awk 'BEGIN{system("id")}'`], ['awk', `awk '{print | "sh"}'`], ['awk', `awk 'BEGIN{"id" | getline}'`],
    ['awk', `awk '{print > "/tmp/x"}'`], ['awk', 'awk -f prog.awk'], ['gawk', `gawk 'BEGIN{system("id")}'`],
    ['sed', 'sed -i s/a/b/ f'], ['sed', 'sed --in-place s/a/b/ f'], ['sed', "sed 's/a/b/e' f"], ['sed', "sed 's/a/b/w /tmp/x' f"],
    ['sed', "sed '1e id' f"], ['sed', "sed 'w /tmp/x' f"], ['sed', "sed '/x/r /etc/shadow' f"], ['sed', "sed -n -e p -e 'R /etc/x' f"],
    ['sed', 'sed -f script f'], ['sed', "sed -ne '1W /tmp/x' f"],
  ];
  for (const [program, cmd] of cases) {
    it(`refuses ${cmd}`, () => {
      assert.equal(allows(listed(program), cmd), false);
      assert.notEqual(injectionReason(parseShell(cmd).commands[0] ?? { program: '', args: [], assignments: [] }), null);
    });
  }
  it('leaves harmless uses alone', () => {
    for (const [p, cmd] of [['env', 'env'], ['find', "find /x -name '*.log'"], ['sed', "sed -n 's/error/E/gp' f"],
      ['sed', "sed '/x/d;s|a|b|g' f"], ['awk', "awk -F: '{print $1}' f"], ['awk', "awk '$3 > 100' f"], ['git', 'git log -n 5'],
      ['tar', 'tar -tzf x.tgz'], ['node', 'node app.js']] as const) {
      assert.equal(allows(listed(p), cmd), true, cmd);
    }
  });
  it('names code-loading assignments', () => {
    for (const a of ['LD_PRELOAD=x', 'BASH_ENV=x', 'BASH_FUNC_ls%%=x', 'GIT_SSH=x', 'PAGER=x', 'NODE_OPTIONS=x', 'PATH=/tmp']) {
      assert.notEqual(injectionReason({ program: 'ls', args: [], assignments: [a] }), null, a);
    }
  });
  it('applies to argv too', () => {
    const rule = shellCondition.compile({ programs: { find: {} } }, { id: 'a', effect: 'allow' });
    assert.equal(rule(parseArgv(['find', '/', '-exec', 'id', ';']), CALL).matched, false);
  });
});

describe('deny rules', () => {
  it('match a listed program anywhere, also by basename and inside substitutions', () => {
    const block = { programs: { rm: {} } };
    assert.equal(denies(block, 'rm -rf /'), true);
    assert.equal(denies(block, '/bin/rm x'), true);
    assert.equal(denies(block, 'ls $(rm x)'), true);
    assert.equal(denies(block, 'ls'), false);
  });
  it('with deny_flags, match only when a flag is used', () => {
    const block = { programs: { rm: { deny_flags: ['-r', '--recursive'] } } };
    assert.equal(denies(block, 'rm -rf /'), true);
    assert.equal(denies(block, 'rm --recursive /'), true);
    assert.equal(denies(block, 'rm /tmp/x'), false);
  });
  it('with paths or subcommands, match only within them', () => {
    assert.equal(denies({ programs: { cat: { paths: ['/etc'] } } }, 'cat /etc/../etc/shadow'), true);
    assert.equal(denies({ programs: { cat: { paths: ['/etc'] } } }, 'cat /var/x'), false);
    assert.equal(denies({ programs: { systemctl: { subcommands: ['stop'] } } }, 'systemctl stop x'), true);
    assert.equal(denies({ programs: { systemctl: { subcommands: ['stop'] } } }, 'systemctl status x'), false);
  });
});

describe('schema and describe', () => {
  it('is strict', () => {
    for (const bad of [{ programs: { '/bin/ls': {} } }, { programs: {}, extra: 1 }, { programs: { ls: { pathz: [] } } },
      { programs: { ls: { paths: ['relative'] } } }, { pipelines: 'yes', programs: {} }]) {
      assert.equal(shellCondition.schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
  it('describes a grant in one line', () => {
    const text = shellCondition.describe?.({ pipelines: true, programs: { tail: LOG, systemctl: { subcommands: ['status'] } } }) ?? '';
    assert.match(text, /tail \(under \/var\/log\/app\)/);
    assert.match(text, /pipelines allowed/);
  });
});
