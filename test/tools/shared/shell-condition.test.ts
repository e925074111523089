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
    `grep --fi=${f} ${f}`, `grep -rn x ${f}`, `grep --recursive x ${f}`, `tail --follow ${f}`, `tail -f ${f}`, `tail --fol ${f}`,
    // --directories=recurse is -r (GNU argmatch also takes a prefix of the action)
    `grep --directories=recurse x ${f}`, `grep --directories recurse x ${f}`, `grep -d recurse x ${f}`, `grep -drecurse x ${f}`,
    `grep --dir=recurse x ${f}`, `grep --dir=rec x ${f}`, `grep -id rec x ${f}`, `grep -nidrecu x ${f}`]) {
    it(`refuses ${cmd}`, () => assert.equal(allows(block, cmd), false));
  }
  it('allows other flags and flag-looking operands after --', () => {
    assert.equal(allows(block, `grep -in x ${f}`), true);
    assert.equal(allows(block, `grep -- -f ${f}`), true);
  });
  it('allows --directories=read and skip, which do not recurse', () => {
    for (const cmd of [`grep --directories=read x ${f}`, `grep -d skip x ${f}`, `grep --dir=skip x ${f}`, `grep --regexp=-drecurse ${f}`]) {
      assert.equal(allows(block, cmd), true, cmd);
    }
  });
  it('a deny rule on -r or --recursive matches --directories=recurse', () => {
    assert.equal(denies({ programs: { grep: { deny_flags: ['--recursive'] } } }, 'grep -d recurse x /etc'), true);
    assert.equal(denies({ programs: { grep: { deny_flags: ['-r'] } } }, 'grep --directories=recurse x /etc'), true);
    assert.equal(denies({ programs: { grep: { deny_flags: ['-r'] } } }, 'grep -d skip x /etc'), false);
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
    // git's -c sets configuration before the subcommand; after grep, log, diff, switch or branch it is theirs.
    const reader = { programs: { git: { subcommands: ['grep', 'log', 'clone', 'commit'] } } };
    assert.equal(allows(reader, 'git -C /srv/app grep -c TODO'), true, "grep's -c counts");
    assert.equal(allows(reader, 'git log -c -n 2'), true, "log's -c is the combined diff");
    assert.equal(allows(reader, 'git -c core.pager=less grep -c TODO'), false, "git's own -c before the subcommand");
    assert.equal(allows(reader, 'git clone -c core.hooksPath=/tmp/h /srv/a /tmp/b'), false, "clone's -c sets the new repository's configuration");
    assert.equal(allows(reader, 'git commit -c HEAD'), false, "commit's -c opens the editor");
    assert.equal(allows(reader, 'git grep --config x'), false);
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
    ['git', 'git clone --template=/tmp/t https://example.com/r'], ['git', 'git init --template /tmp/t'], ['git', 'git log --output=/etc/x'],
    ['git', 'git diff --output /etc/x'],
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
    // find's `--` ends its leading options only: the expression still acts
    ['find', 'find -- /var/log/app -maxdepth 0 -exec id \\;'], ['find', 'find -L -- / -delete'], ['find', 'find -- / -fprint /tmp/x'],
    ['find', 'find -- / -execdir id ;'], ['find', 'find / -- -okdir id ;'],
    // apt's -o/-c set hooks such as APT::Update::Pre-Invoke
    ['apt-get', "apt-get -o 'APT::Update::Pre-Invoke::=id' update"], ['apt-get', "apt-get -oAPT::Update::Pre-Invoke::=id update"],
    ['apt-get', "apt-get -yo 'DPkg::Pre-Invoke::=id' install x"], ['apt-get', "apt-get --option 'APT::Update::Pre-Invoke::=id' update"],
    ['apt-get', "apt-get --opt=APT::Update::Pre-Invoke::=id update"], ['apt-get', 'apt-get -c /tmp/apt.conf update'],
    ['apt', "apt -o 'APT::Update::Pre-Invoke::=id' update"], ['apt-get', 'APT_CONFIG=/tmp/x apt-get update'],
    ['dpkg', 'dpkg --pre-invoke=id -i x.deb'],
    // git: programs run by archive/fetch/clone/ls-remote/push, and -c/--config
    ['git', 'git archive --remote=/srv/repo --exec=id HEAD'], ['git', 'git archive --remote /srv/repo --exe id HEAD'],
    ['git', 'git fetch --upload-pack=id origin'], ['git', "git fetch --upload-pack 'id #' origin"], ['git', 'git ls-remote -u id /srv/repo'],
    ['git', 'git clone -u id /srv/repo /tmp/x'], ['git', 'git -C /srv/repo ls-remote -u id origin'], ['git', 'git -C /srv difftool'],
    ['git', 'git push --receive-pack=id origin'], ['git', 'git clone --config core.sshCommand=id h:r'],
    ['git', 'git -c core.sshCommand=id fetch'], ['git', 'git clone -c core.fsmonitor=id /srv/repo'],
    // zip -TT, ip netns/vrf exec and -batch, rsync -e, tar's program options
    ['zip', "zip -T -TT 'id #' a.zip f"], ['zip', 'zip -TTid -T a.zip f'], ['zip', "zip --unzip-command='id #' -T a.zip f"],
    ['zip', 'ZIPOPT=-TTid zip -T a.zip f'],
    ['ip', 'ip netns exec ns1 id'], ['ip', 'ip netns e ns1 id'], ['ip', 'ip -n ns1 netns exec ns2 id'], ['ip', 'ip vrf exec red id'],
    ['ip', 'ip -batch /tmp/cmds'], ['ip', 'ip --batch /tmp/cmds'], ['ip', 'ip -b -'],
    ['rsync', 'rsync -ave id a b'], ['rsync', 'RSYNC_RSH=id rsync a h:b'],
    ['tar', 'tar --checkpoint=1 --checkpoint-action=exec=id -cf x y'], ['tar', 'tar --to-com=id -xf x'], ['tar', 'tar -cf x -I id y'],
    // ssh reads a quoted keyword, and an empty first token, as the keyword; providers load libraries; sftp/scp -D run a program
    ['ssh', `ssh -o '"ProxyCommand" id' h`], ['ssh', "ssh -o '=ProxyCommand id' h"], ['ssh', `ssh -o 'Proxy"Command" id' h`],
    ['ssh', `ssh -o '"ProxyCommand"id' h`], ['ssh', 'ssh -o PKCS11Provider=/tmp/x.so h'], ['ssh', 'ssh -o SecurityKeyProvider=/tmp/x.so h'],
    ['ssh', 'ssh -I /tmp/x.so h'], ['scp', "scp -o '\"ProxyCommand\" id' a h:b"], ['sftp', 'sftp -D /tmp/x h'], ['scp', 'scp -D /tmp/x a h:b'],
    // programs that run the program their arguments name
    ['torsocks', 'torsocks rm /x'], ['unbuffer', 'unbuffer rm /x'], ['faketime', 'faketime 1 rm /x'], ['rlwrap', 'rlwrap rm /x'],
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
      ['tar', 'tar -tzf x.tgz'], ['node', 'node app.js'], ['find', "find -- /x -name '*.log'"], ['apt-get', 'apt-get -s -y update'],
      ['apt-cache', 'apt-cache policy nginx'], ['git', 'git -C /srv/repo log -n 5'], ['git', 'git fetch origin'], ['ip', 'ip addr show dev eth0'],
      ['ip', 'ip -br link'], ['zip', 'zip -9 a.zip f'], ['dpkg', 'dpkg -l nginx'], ['ssh', 'ssh -o ConnectTimeout=5 h'],
      ['ssh', `ssh -o '"User" deploy' h`]] as const) {
      // sed's s and awk's print $1 rewrite lines: the grant says so (rewriters.ts); this judges the catalogue.
      assert.equal(allows(p === 'sed' || p === 'awk' ? { programs: { [p]: { rewrites: true } } } : listed(p), cmd), true, cmd);
    }
  });
  it('a deny rule on a find action also matches after find --', () => {
    assert.equal(denies({ programs: { find: { deny_flags: ['-delete'] } } }, 'find -- /x -delete'), true);
    assert.equal(denies({ programs: { find: { deny_flags: ['-delete'] } } }, 'find -- /x -name y'), false);
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

describe('sed scripts are read as GNU sed 4.9 reads them', () => {
  const block = { programs: { sed: { ...LOG, rewrites: true } } };
  const log = '/var/log/app/app.log';
  /** Judged as an argv, so scripts with newlines and backslashes need no shell quoting. */
  const allowsArgv = (argv: string[]): boolean => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseArgv(argv), CALL).matched;
  // A bracket expression does not end the regex: GNU ran `s/[/]/g;/` with flag e (audit reproduction).
  for (const cmd of [`sed 's|.*|id #/|;s/[/]/g;/e;#/p' ${log}`, `sed 's|.*|id #/|;s/[^/]/g;/e;#/p' ${log}`,
    `sed 's|.*|id #/|;s/[]/]/g;/e;#/p' ${log}`, `sed 's|.*|id #/|;s/[[:alpha:]/]/g;/e;#/p' ${log}`,
    `sed 's|.*|id #/|;s/[^]/]/g;/e;#/p' ${log}`, `sed -n '/[/]/e;#/p' ${log}`, `sed -n '\\,[,],e' ${log}`]) {
    it(`refuses ${cmd}`, () => {
      assert.equal(allows(block, cmd), false);
      assert.match(injectionReason(parseShell(cmd).commands[0] ?? { program: '', args: [], assignments: [] }) ?? '', /sed/);
    });
  }
  it('finds e, w, W, r and R as commands and flags wherever they stand', () => {
    for (const script of ['s/a/b/ g e', 's/a/b/gpe', 's/a/b/3e', 's/[/]/x/e', 's/a/[/e', 's/a/b/w /tmp/x', 's/a/b/ w /tmp/x', '1!e id', '/x/,/y/ e',
      '$ e', '{e}', '1{s/a/b/;e\n}', '#c\\\ne id', ':a e', 'b x;e id', 'y/a/b/;e', 'a\\\ntext\ne id', 'a text\ne id', 'i\\\n\\\n\ne', 'W /tmp/x',
      'R /etc/shadow', '0r /etc/shadow', '/[/]/r /etc/shadow', '\\|[|]|w /tmp/x', '/x/I,+3 !  R /etc/x', 'p;n;e', '/a/ { p ; e }']) {
      assert.equal(allowsArgv(['sed', '-n', script, log]), false, JSON.stringify(script));
    }
    // -e scripts are one program: unfinished `a\` text runs on into the next -e, and then the next line is a command again
    assert.equal(allowsArgv(['sed', '-e', 'a\\', '-e', 'x', '-e', 'e id', log]), false);
    assert.equal(allowsArgv(['sed', '-n', '-e', 'p', '--expression=e id', log]), false);
    assert.equal(allowsArgv(['sed', '-ne', 'p', '-e', 's/[/]/x/e', log]), false);
  });
  it('keeps ordinary scripts working, also text that only looks like a command', () => {
    for (const script of ['s/[^/]*$//', '/error/p', 's/[[:space:]]\\+/ /g', 's|/var|/srv|g', '1,10p', '$!N;P;D', '/start/,/end/{/x/d;p}',
      's/a/b/2g', 'y/abc/xyz/', ':a;N;$!ba;s/\\n/ /g', 'a\\\nappended e id', 'a text\\\ne id', 's/[]]/x/', 's/[/]/x/g', '\\,x,p', '0~3p',
      '/x/I p', 's/a/e/', 's/w/r/g', '# e id', 'i\\\n\\\ne', '/[[:digit:]]\\{4\\}/p', 's/[[:alpha:][:digit:]]/x/g', 'l 40', 'q5', '=']) {
      assert.equal(allowsArgv(['sed', '-n', script, log]), true, JSON.stringify(script));
    }
    assert.equal(allowsArgv(['sed', '-e', 'p', '-e', '$=', log]), true);
  });
  it('refuses what other seds split differently, and what GNU sed rejects', () => {
    for (const script of ['s/é/e/', 's/[[:alpha:]/]/x/', 's/[[:alpha:]\\]/x/', 's/[a[]/x/', 's/[[:a]b:]]/x/', 'y/[/]/', 's\\x\\y\\',
      's/[/', 's/a/b', '/x', 'k', 's/a/b/q', 'p x', '}', '{p', '1}', 'b x#;e id', ':a#;e id', '/x/{b end}']) {
      assert.equal(allowsArgv(['sed', '-n', script, log]), false, JSON.stringify(script));
    }
  });
});

describe('awk programs: no commands, no files but the operands', () => {
  const block = { programs: { awk: { ...LOG, rewrites: true }, gawk: { ...LOG, rewrites: true }, mawk: { ...LOG, rewrites: true } } };
  const log = '/var/log/app/app.log';
  const allowsArgv = (argv: string[]): boolean => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseArgv(argv), CALL).matched;
  it('refuses the audit reproductions', () => {
    // ARGV/ARGC rewrite the file list; a newline (or backslash-newline) after `,` continues a print statement
    assert.equal(allows(block, `awk 'BEGIN{ARGV[1]="/etc/shadow";ARGC=2}{print}' ${log}`), false);
    assert.equal(allowsArgv(['awk', 'BEGIN{print "x",\n"y" > "/any/file"}']), false);
    assert.equal(allowsArgv(['awk', 'BEGIN{print "x",\\\n"y" > "/any/file"}']), false);
    assert.equal(allowsArgv(['awk', 'BEGIN{printf "%s",\n"y" >> "/any/file"}']), false);
    // program files in option clusters and other spellings
    for (const argv of [['awk', '-bf', log], ['awk', '-bl', 'x', '{print}', log], ['mawk', '-W', 'exec', log], ['mawk', '-Wexec', log],
      ['gawk', '-E', log], ['gawk', '--exec=' + log], ['gawk', '--ex', log], ['gawk', '--include=x', '{print}', log], ['gawk', '-i', 'x', '{print}', log],
      ['gawk', '--load', 'x', '{print}', log], ['gawk', '-o', '{print}', log], ['gawk', '-p/tmp/x', '{print}', log], ['gawk', '-d', '{print}', log],
      ['gawk', '-D', '{print}', log], ['gawk', '--profile=/tmp/x', '{print}', log], ['gawk', '--fi', log], ['gawk', '--d', '{print}', log],
      ['awk', '-vx=1', '-f', log], ['awk', '--no-such-option', '{print}', log]]) {
      assert.equal(allowsArgv(argv), false, argv.join(' '));
    }
  });
  it('checks -e and --source program text like the main program, also after an operand (busybox permutes)', () => {
    assert.equal(allowsArgv(['gawk', '-e', 'BEGIN{system("id")}', log]), false);
    assert.equal(allowsArgv(['gawk', '--source=BEGIN{system("id")}', log]), false);
    assert.equal(allowsArgv(['gawk', '--source', 'BEGIN{ARGV[1]="/etc/shadow"}', log]), false);
    assert.equal(allowsArgv(['awk', '{print}', '-e', 'BEGIN{system("id")}']), false);
    assert.equal(allowsArgv(['gawk', '-e', '{print $1}', log]), true);
  });
  it('refuses commands, pipes, redirection, getline and indirection outside string and regex literals', () => {
    for (const prog of ['BEGIN{system("id")}', '{print | "sh"}', '{print |& "sh"}', 'BEGIN{"id" | getline x; print x}', '{getline x < "/etc/shadow"}',
      '{getline}', '{print > "/tmp/x"}', '{print>>"/tmp/x"}', '{printf("%s\\n", $1) > "/tmp/x"}', '{print $1, $2 > $3}', '{print (1 > 0)}',
      '{close("x")}', '{fflush("x")}', 'BEGIN{SYMTAB["ARGV"][1] = "/etc/shadow"}', 'BEGIN{f = "system"; @f("id")}', '@include "x"',
      'BEGIN{ARGC = 3}', '{delete ARGV[1]}', 'BEGIN{print length /"/; system("id"); z = "x" # "\n}', '{ n = length /2/ }', '{ x = i++ / 2 }',
      '/[/]/', '/[^/]x/ {print}', '/a]b/', '{ print "é" }', '{ print "x" \\ }', "{ print 'x' }", 'BEGIN { x = (1\n/ 2 + system("id") + 1 / 1) }',
      '{ print "a" # comment \\\n > "/tmp/x" }', '{ print "unterminated }']) {
      assert.equal(allowsArgv(['awk', prog, log]), false, JSON.stringify(prog));
    }
  });
  it('keeps read-only programs working (> as comparison, | and > inside literals)', () => {
    for (const prog of ['{print $1}', '$3 > 1000 {print $1}', '$3 >= 100', '/error/ {n++} END {print n}', '{ if ($3 > 5) print $1 }',
      '{print $1 / 2}', '{ print "a|b>c" }', '/a\\/b/', '{ x = $1 ~ /[[:digit:]]+/ }', 'NR > 10', '$1 == "a" || $1 == "b"', '{ fflush() }',
      '{ print $1\n  if ($3 > 5) print $2 }', 'BEGIN { FS = ":" } { print $1 }', '{ a[$1] += $2 } END { for (k in a) print k, a[k] }',
      '{ print length($0) }', '{ printf "%s %d\\n", $1, $2 }', 'NF > 3 && $2 ~ /x>y/', '{ sub(/a|b/, "c"); print }', '{ if (x) /re/ ~ $0 }',
      '/[]a]/', '/[^]a-z]/', '{ print substr($0, 1, 10) }', '{ x = ($1 > 5) ? "big" : "small"; print x }']) {
      assert.equal(allowsArgv(['awk', prog, log]), true, JSON.stringify(prog));
    }
    assert.equal(allows(block, `awk -F: '$3 > 1000 {print $1}' ${log}`), true);
    assert.equal(allows(block, `awk -v n=5 'NR > n' ${log}`), true);
    assert.equal(allows(block, `awk '{print $1}' ${log}`), true);
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
