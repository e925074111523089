/**
 * Holes a review left open: command-running variables set earlier in the line (export, declare,
 * a bare assignment, a loop, `${X:=...}`, read), sftp batches, ssh's remote command, and git
 * configuration keys that run code.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, injectionReason, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const allows = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).matched;
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
const RM = { programs: { rm: {} } };

before(async () => {
  await initShellParser();
});

describe('command-running variables set anywhere in the line', () => {
  it('a deny rule judges them like a prefix assignment', () => {
    for (const cmd of [
      "export GIT_SSH_COMMAND='rm /x'; git fetch", "declare -x GIT_SSH_COMMAND='rm /x'; git fetch", "readonly GIT_SSH_COMMAND='rm /x'; git fetch",
      "typeset -x GIT_SSH_COMMAND='rm /x'; git fetch", "f() { local -x GIT_SSH_COMMAND='rm /x'; git fetch; }; f",
      "GIT_SSH_COMMAND='rm /x'; export GIT_SSH_COMMAND; git fetch", "GIT_SSH_COMMAND='rm /x' A=1; git fetch", "export PAGER='rm /x'; git log",
      'export "GIT_SSH_COMMAND=rm /x"; git fetch', "export A=1 EDITOR='rm /x'; git commit", "declare -- GIT_SSH_COMMAND+='rm /x'; git fetch",
      "if true; then GIT_SSH_COMMAND='rm /x'; fi; git fetch", "for GIT_SSH_COMMAND in 'rm /x'; do export GIT_SSH_COMMAND; git fetch; done",
      // values Warden cannot read: computed names, name references, read, printf -v, ${X:=...}
      ': "${GIT_SSH_COMMAND:=rm /x}"; export GIT_SSH_COMMAND; git fetch', 'cat <<E\n${PAGER=rm /x}\nE\ngit log',
      "read GIT_SSH_COMMAND <<< 'rm /x'; export GIT_SSH_COMMAND; git fetch", "printf -v EDITOR 'rm /x'; git commit",
      "mapfile -t PAGER < /tmp/x; git log", "declare -n r=GIT_SSH_COMMAND; r='rm /x'; export GIT_SSH_COMMAND; git fetch",
      'export "$n=rm /x"; git fetch',
      // variables that load code Warden cannot read
      'export LD_PRELOAD=/tmp/x.so; ls', 'BASH_ENV=/tmp/x bash -c ls', 'export BASH_ENV=/tmp/x; bash -c ls', 'env LD_PRELOAD=/tmp/x.so ls',
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of [
      "export GIT_SSH_COMMAND='ssh -i /k'; git fetch", "GIT_SSH_COMMAND='ssh -i /k'; export GIT_SSH_COMMAND; git fetch", 'export A=1; ls /x',
      'declare -x LANG=C; git log', 'for f in a b; do ls $f; done', 'read -r line; echo $line', ': ${X:=1}; ls', 'export PATH=$PATH:/opt/bin; ls',
    ]) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
  it('an allow rule refuses a line that sets one at all', () => {
    const git = { pipelines: true, programs: { git: {}, echo: {} } };
    for (const cmd of ["export GIT_SSH_COMMAND='ssh'; git fetch", 'GIT_SSH_COMMAND=ssh git fetch', 'declare -x PAGER=cat | git log',
      'GIT_SSH_COMMAND=ssh; git fetch', 'export LD_PRELOAD=/tmp/x.so | git log']) {
      assert.equal(allows(git, cmd), false, cmd);
    }
    assert.equal(allows(git, 'git fetch origin'), true);
    assert.equal(allows(git, 'echo x | git log'), true);
  });
  it('a line of assignments alone still does not parse', () => {
    assert.throws(() => parseShell('x=1'));
    assert.throws(() => parseShell('A=1 B=2'));
  });
});

describe('sftp batches run local commands', () => {
  const block = { pipelines: true, programs: { sftp: {}, printf: {}, echo: {}, cat: {} } };
  it('an allow rule refuses sftp -b and sftp with a fed standard input', () => {
    for (const cmd of ["printf '!id\\n' | sftp h", 'sftp -b /tmp/f h', 'sftp -b - h', 'sftp -qb - h', 'sftp -b- h', "sftp h <<< '!id'",
      'sftp h < /tmp/f', 'echo x | cat | sftp h']) {
      assert.equal(allows(block, cmd), false, cmd);
    }
    for (const cmd of ['sftp h', 'sftp -P 2222 h', 'sftp -B 32768 h', 'sftp h:/var/log/app.log /tmp/app.log']) assert.equal(allows(block, cmd), true, cmd);
  });
  it('the catalogue says why', () => {
    const cmd = parseShell("printf '!id\\n' | sftp h").commands[1] ?? { program: '', args: [], assignments: [] };
    assert.match(injectionReason(cmd, true) ?? '', /sftp/);
    assert.equal(injectionReason(cmd, false), null);
  });
  it('a deny rule matches a batch, which may run a denied program', () => {
    for (const cmd of ["printf '!rm /x\\n' | sftp h", 'sftp -b /tmp/f h', 'sftp h <<< "!rm /x"']) assert.equal(denies(RM, cmd), true, cmd);
    for (const cmd of ['sftp h', 'sftp -P 2222 h']) assert.equal(denies(RM, cmd), false, cmd);
  });
});

describe("ssh's remote command", () => {
  it('a deny rule judges it as a script', () => {
    for (const cmd of [
      'ssh h rm -rf /', "ssh h 'rm -rf /'", 'ssh -p 22 -i /k h rm /x', 'ssh h -l u rm /x', 'ssh -- h rm /x', 'ssh -o ConnectTimeout=5 h "ls; rm /x"',
      `ssh h sh -c "'rm /x'"`, 'ssh -tt h rm /x', 'nice ssh h rm /x', 'ssh -B eth0 h rm /x', 'ssh -P tag h rm /x', 'ssh -46 -vC h /bin/rm /x',
      "ssh h 'r''m' /x", 'ssh h "\\$a /x"', "echo 'rm /x' | ssh h", "echo 'rm /x' | ssh h sh", 'ssh -Z h uptime',
      // programs ssh and its kin run locally, or a remote command given through -o
      "ssh -o ProxyCommand='rm /x' h", "ssh -o RemoteCommand='rm /x' h", 'scp -S rm a h:b', 'sftp -S rm h',
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['ssh h uptime', 'ssh h ls /rm', 'ssh -i rm h ls', 'ssh rm uptime', 'ssh h', 'ssh -l rm h ls', 'ssh -- h -l rm', 'echo x | ssh h cat']) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
  it('an allow rule judges it as a nested line: constructs, the catalogue, standard input', () => {
    const ssh = { programs: { ssh: {}, echo: {} } };
    for (const cmd of [
      "ssh h 'sh -c id'", 'ssh h bash', "ssh h 'ls; id'", "ssh h 'ls $(id)'", "ssh h find / -exec id '{}' ';'", `ssh h ssh h2 "'python3 -c 1'"`,
      "ssh h 'ls | grep x'", "ssh h 'GIT_SSH_COMMAND=id git fetch'", `ssh h "'unterminated"`, "ssh h 'ls > /tmp/x'", "ssh h -l u 'sh -c id'",
      "ssh h git -c core.pager=id log",
    ]) {
      assert.equal(allows(ssh, cmd), false, cmd);
    }
    // A remote program must be listed in the same rule, within its grant, as if it ran here.
    for (const cmd of ['ssh -o ConnectTimeout=5 h uptime', 'ssh h uptime', "ssh h 'ls -la /var/log'", 'ssh h ssh h2 uptime', 'ssh h rm -rf /x', 'ssh h touch /x']) {
      assert.equal(allows(ssh, cmd), false, cmd);
    }
    assert.equal(allows(ssh, 'ssh h'), true, 'no remote command: ssh alone');
    assert.equal(allows(ssh, 'ssh -o ConnectTimeout=5 h'), true);
    const withRemote = { programs: { ssh: {}, uptime: {}, ls: { paths: ['/var/log'] } } };
    for (const cmd of ['ssh -o ConnectTimeout=5 h uptime', 'ssh h uptime', "ssh h 'ls -la /var/log'", 'ssh h ssh h2 uptime']) {
      assert.equal(allows(withRemote, cmd), true, cmd);
    }
    assert.equal(allows(withRemote, 'ssh h ls /etc'), false, 'the remote ls stays within its paths');
    assert.equal(allows(withRemote, 'ssh h rm -rf /x'), false, 'rm is not listed');
    // a remote command, a local command or another config file given through -o
    for (const cmd of ["ssh -o RemoteCommand='sh -c id' h", "ssh -o 'remotecommand id' h", 'ssh -o Include=/tmp/c h', 'ssh -o XAuthLocation=/tmp/x -X h']) {
      assert.equal(allows(ssh, cmd), false, cmd);
    }
    const piped = { pipelines: true, programs: { ssh: {}, echo: {}, ps: {}, grep: {}, cat: {}, sftp: {} } };
    assert.equal(allows(piped, "ssh h 'ps aux | grep x'"), true, 'remote pipes follow the rule');
    assert.equal(allows(piped, 'echo id | ssh h'), false, 'a remote shell would read the fed script');
    assert.equal(allows(piped, 'echo x | ssh h cat'), true);
    assert.equal(allows(piped, "echo '!id' | ssh h sftp h2"), false, 'what feeds ssh feeds its remote command');
  });
});

describe('git configuration keys that run code', () => {
  const git = { programs: { git: {} } };
  it('an allow rule refuses setting them, in any spelling', () => {
    for (const cmd of [
      "git config core.pager '!id'", "git config alias.x '!id'", 'git config --global core.fsmonitor id', 'git config --local core.sshCommand id',
      'git config --file /tmp/c core.hooksPath /tmp/h', 'git config -f /tmp/c core.editor id', 'git config set core.editor id',
      'git config core.EDITOR id', 'git config diff.external id', "git config credential.helper '!id'", 'git config credential.https://x.helper id',
      'git config filter.x.clean id', 'git config filter.x.smudge id', 'git config sequence.editor id', 'git config gpg.program id',
      'git config gpg.ssh.program id', 'git config uploadpack.packObjectsHook id', 'git config include.path /tmp/c',
      'git config includeIf.gitdir:/x/.path /tmp/c', "git config --add ALIAS.x '!id'", 'git -C /srv/r config core.pager id', 'git config pager.log id',
      'git config --rename-section foo core', 'git config rename-section foo alias', 'git config --edit', 'git config -e', 'git config -f /tmp/c edit', 'git config --ed',
      'git config diff.x.textconv id', 'git config merge.x.driver id', 'git config core.askPass id', 'git config --replace-all core.pager id',
      'git config hook.x.command id', 'git config remote.origin.uploadpack id', 'git config protocol.ext.allow always', 'git -c alias.x=!id x',
      'git -c core.pager=id log', 'git config --type=path core.hooksPath /tmp/h',
    ]) {
      assert.equal(allows(git, cmd), false, cmd);
    }
    for (const cmd of ['git config user.name x', 'git config --get user.email', 'git config --list', 'git config core.autocrlf false', 'git fetch',
      'git log -n 5', 'git config --global pull.rebase true']) {
      assert.equal(allows(git, cmd), true, cmd);
    }
    const sub = { programs: { git: { subcommands: ['config', 'log'] } } };
    assert.equal(allows(sub, 'git config core.pager id'), false);
    assert.equal(allows(sub, 'git config user.name x'), true);
  });
  it('a deny rule matches setting them, which may run a denied program', () => {
    for (const cmd of ["git config core.pager 'rm /x'; git log", "git -c core.sshCommand='rm /x' fetch", "git -c alias.x='!rm /x' x",
      "git config --global alias.x '!rm /x'", "git clone --config=core.fsmonitor='rm /x' /srv/r /tmp/r"]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['git config user.name x', 'git log -n 5', 'git -c user.name=x commit -m y']) assert.equal(denies(RM, cmd), false, cmd);
  });
});

describe('hash', () => {
  it('a deny rule sees the program hash -p binds to another name', () => {
    assert.equal(denies(RM, 'hash -p /bin/rm ls; ls -rf /x'), true);
    assert.equal(denies(RM, 'hash -r; ls /x'), false);
  });
});
