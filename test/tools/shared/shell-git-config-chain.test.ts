/**
 * Red team: a grant that writes under its `paths:` (sort -o, uniq IN OUT, tar) plants a git
 * configuration (`.git/config` with `diff.x.textconv`, `core.fsmonitor`, `.gitattributes`), and a
 * later granted `git log -p` / `git status` runs the command it names, which no rule judged.
 * Layer 1: no write a grant with `paths:` allows lands in a file git obeys, and tar's writes whose
 * names the line does not give (extraction into a folder, --transform) are refused. Layer 2: every
 * git Warden rebuilds starts with overrides that switch off what repository configuration runs.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalCommandLine, initShellParser, parseArgv, parseShell, shellCondition, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { GIT_GUARD } from '../../../tools/shared/shell/git-guard.js';
import { gitObeys } from '../../../tools/shared/shell/git-files.js';
import { argvToRun } from '../../../tools/kubernetes/kubectl-exec.js';
import type { KubeExecFacts } from '../../../tools/kubernetes/facts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const P = { paths: ['/srv/app'] };
const BLOCK = {
  pipelines: true,
  programs: { sort: P, uniq: P, tar: P, tee: P, cp: P, cat: P, date: {}, journalctl: P, ssh: {}, git: { subcommands: ['log', 'show', 'diff', 'status'] } },
};
const allows = (cmd: string, block: unknown = BLOCK) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
const denies = (cmd: string, block: unknown) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

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
const allow = (cmds: string[]) => {
  for (const cmd of cmds) {
    const r = allows(cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
};

test('the files git obeys', () => {
  for (const p of ['/srv/app/.git/config', '/srv/app/.git', '/srv/app/x/.git/hooks/post-checkout', '/srv/app/.gitattributes', '/srv/app/sub/.gitmodules',
    '/srv/app/.gitconfig', '/srv/app/.config/git/config', '/srv/app/.config/git/attributes', '/srv/app/.GIT/info/attributes', '.git/config', './.gitattributes']) {
    assert.equal(gitObeys(p), true, p);
  }
  for (const p of ['/srv/app/git/config', '/srv/app/.gitignore', '/srv/app/x.git', '/srv/app/.github/x', '/srv/app/config']) assert.equal(gitObeys(p), false, p);
});

test('layer 1: a write that lands in a file git obeys is refused, whatever program writes it', () => {
  refuse([
    'date | sort -o /srv/app/.git/config', 'sort -o/srv/app/.git/config /srv/app/x', 'sort --out=/srv/app/.gitattributes /srv/app/x',
    'sort --output /srv/app/sub/.git/config /srv/app/x', 'sort -o /srv/app/a/../.git/hooks/pre-commit /srv/app/x',
    'uniq /srv/app/a /srv/app/.git/config', 'uniq -c /srv/app/a /srv/app/.GIT/info/attributes', 'uniq /srv/app/a /srv/app/.gitmodules',
    'date | tee /srv/app/.git/config', 'cp /srv/app/a /srv/app/.config/git/config', 'cp /srv/app/a /srv/app/.gitconfig',
    'tar -cf /srv/app/.git/config /srv/app/x', 'tar -rf /srv/app/.gitattributes /srv/app/x', 'tar cf /srv/app/.git/config /srv/app/x',
    'tar --delete -f /srv/app/.git/config m', 'tar -cf /srv/app/y.tar -g /srv/app/.git/config /srv/app/x',
    'journalctl --cursor-file=/srv/app/.git/config', 'journalctl --cursor-f /srv/app/.git/config',
  ], /a file git obeys: a command it names would run later/);
});

test('layer 1: tar writes whose names the line does not give are refused under paths:', () => {
  refuse(['tar -x -f /srv/app/x.tar -C /srv/app', 'tar -xf /srv/app/x.tar -C /srv/app/out', 'tar --extract --file=/srv/app/x.tar --directory=/srv/app',
    'tar xfC /srv/app/x.tar /srv/app'], /extraction into a folder writes names only the archive knows/);
  refuse(['tar -cf /srv/app/y.tar --transform=s,x,.git/config, /srv/app/x', 'tar -cf /srv/app/y.tar --xform s,x,.git/config, /srv/app/x',
    'tar -cf /srv/app/y.tar --tra=s,x,y, /srv/app/x', 'tar -cf /srv/app/y.tar --xfo=s,x,y, /srv/app/x',
    'tar -xOf /srv/app/y.tar --transform=s,x,y,', 'tar -x -f /srv/app/y.tar -C /srv/app --xform=s,x,.git/config,'], /renames the members it writes/);
});

test('layer 1: reads of git files and other writes stay allowed', () => {
  // Packing or searching a tree is refused only because a bare secret may lie in it (shell/secret-files.ts): its options and paths pass.
  refuse(['tar -cf /srv/app/y.tar /srv/app/x'], /may lie at any depth/);
  allow(['sort -o /srv/app/out.txt /srv/app/x', 'uniq /srv/app/a /srv/app/b', 'cat /srv/app/.git/config', 'date | tee /srv/app/log.txt',
    'tar -tf /srv/app/x.tar', 'tar -xOf /srv/app/x.tar', 'tar -tf /srv/app/x.tar --transform=s,x,y,', 'tar -df /srv/app/x.tar -C /srv/app',
    'git -C /srv/app log -5', 'git -C /srv/app show HEAD --stat', "git -C /srv/app diff 'HEAD~1'", 'git -C /srv/app status']);
});

test("layer 2: the agent's own overrides of these keys are refused", () => {
  refuse(['git -c core.fsmonitor=false status', 'git -c core.pager=cat log', 'git -c diff.x.textconv=id log -p', 'git --config-env=core.fsmonitor=X status',
    'git log --textconv -p', 'git log --ext-diff -p', 'git diff --ext-diff'], /Always denied/);
});

const guard = GIT_GUARD.join(' ').replace(/'/g, '');
/** A pinned line without the repository check that leads it (`{ if ...; fi; LINE; }`). */
const unchecked = (l: string): string => l.replace(/^\{ if .*?; fi; (.*); \}$/, '$1');
test('layer 2: ssh_run rebuilds git with the overrides first and --no-textconv --no-ext-diff after a diff subcommand', () => {
  // The repository check that leads a pinned line (git-repo-check.ts) set aside.
  const line = (cmd: string) => unchecked(canonicalCommandLine(parseShell(cmd))).replace(/'/g, '');
  assert.equal(line('git -C /srv/app log -p'), `GIT_CEILING_DIRECTORIES=/srv GIT_DIR=/srv/app/.git/ GIT_WORK_TREE=/srv/app GIT_COMMON_DIR=/srv/app/.git/ git ${guard} -C /srv/app log --no-textconv --no-ext-diff --ignore-submodules=all -p`);
  assert.equal(line('git -C /srv/app status'), `GIT_CEILING_DIRECTORIES=/srv GIT_DIR=/srv/app/.git/ GIT_WORK_TREE=/srv/app GIT_COMMON_DIR=/srv/app/.git/ git ${guard} -C /srv/app status --ignore-submodules=all`);
  assert.equal(line('git show HEAD --stat | head -5'), `git ${guard} show --no-textconv --no-ext-diff --ignore-submodules=all HEAD --stat | head -5`);
  assert.equal(line('git blame f'), `git ${guard} blame --no-textconv --no-ext-diff f`);
  for (const key of ['core.fsmonitor=false', 'core.hooksPath=/dev/null', 'core.sshCommand=ssh', 'protocol.ext.allow=never', 'credential.helper=',
    'log.showSignature=false', 'gpg.program=gpg', 'core.attributesFile=/dev/null', 'safe.bareRepository=explicit']) {
    assert.ok(GIT_GUARD.includes(key), key);
  }
  assert.ok(GIT_GUARD.includes('--no-pager'));
  // Idempotent: a guarded line is rebuilt as it is.
  const once = canonicalCommandLine(parseShell('git log -p'));
  assert.equal(canonicalCommandLine(parseShell(once)), once);
});

test('layer 2: kubectl_exec runs git with the overrides, as an argv and in sh -c', () => {
  const facts = (argv: string[]) => {
    const sh = unwrapShellC(argv) ?? parseArgv(argv);
    return { argv, commands: sh.commands, pipelines: sh.pipelines, constructs: sh.constructs, source: sh.source } as unknown as KubeExecFacts;
  };
  assert.deepEqual(argvToRun(facts(['git', 'log', '-p'])), ['git', ...GIT_GUARD, 'log', '--no-textconv', '--no-ext-diff', '--ignore-submodules=all', '-p']);
  assert.equal(argvToRun(facts(['sh', '-c', 'git status']))[2]?.replace(/'/g, ''), `git ${guard} status --ignore-submodules=all`);
});

test('layer 2: a git Warden does not rebuild (ssh remote command) needs the guard itself, which is then accepted', () => {
  refuse(['ssh h git log -5', 'ssh h git -C /srv/app status'], /in a command Warden does not rebuild, start it as: git --no-pager -c core.fsmonitor=false/);
  const remote = unchecked(canonicalCommandLine(parseShell('git -C /srv/app log -p -5'))).replace(/^(?:GIT_\w+=\S+ )+'git'/, 'git');
  allow([`ssh h ${JSON.stringify(remote)}`]);
  // The guard is Warden's, not the agent's configuration: a deny on shells does not see a program in it.
  assert.equal(denies(`ssh h ${JSON.stringify(remote)}`, { programs: { sh: {}, id: {} } }).matched, false);
  assert.equal(denies('ssh h git -c core.pager=id log', { programs: { sh: {} } }).matched, true);
});
