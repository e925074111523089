/**
 * git under a grant's `paths:` reads only repositories under them. git looks for its repository
 * from the -C folder upwards: `git -C /srv/app/sub show HEAD:secret`, where /srv (outside the
 * prefix /srv/app) is a repository, reads /srv's objects and obeys its config. Warden's line sets
 * GIT_CEILING_DIRECTORIES to the -C folder's parent, so the repository is the -C folder's own;
 * a git it does not rebuild (ssh's remote command, a hop's) cannot have it, and is refused under
 * paths:. `git config` under paths: sets no key naming a file, folder or repository git reads
 * later (core.worktree, core.excludesFile, remote URLs, ...) and writes no --global/--system file.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalCommandLine, initShellParser, parseArgv, parseShell, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { gitCeiling } from '../../../tools/shared/shell/git-guard.js';
import { argvToRun } from '../../../tools/kubernetes/kubectl-exec.js';
import type { KubeExecFacts } from '../../../tools/kubernetes/facts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const { refuse, allow } = shellVerdicts({
  programs: { git: { paths: ['/srv/app'], subcommands: ['status', 'log', 'show', 'config'] }, ssh: {}, kubectl: { subcommands: ['exec'] } },
});

/** A pinned line without the repository check that leads it (`{ if ...; fi; LINE; }`). */
const unchecked = (l: string): string => l.replace(/^\{ if .*?; fi; (.*); \}$/, '$1');

before(async () => {
  await initShellParser();
});

test('the rebuilt line sets GIT_CEILING_DIRECTORIES to the parent of the folder -C leads to', () => {
  // The repository check that leads a pinned line (git-repo-check.ts, its own test) set aside.
  const line = (cmd: string) => unchecked(canonicalCommandLine(parseShell(cmd)));
  const guard = canonicalCommandLine(parseShell('git status')).replace(/^'git' /, '').replace(/ status '--ignore-submodules=all'$/, '');
  assert.equal(line('git -C /srv/app/repo status'), `GIT_CEILING_DIRECTORIES=/srv/app GIT_DIR=/srv/app/repo/.git/ GIT_WORK_TREE=/srv/app/repo GIT_COMMON_DIR=/srv/app/repo/.git/ 'git' ${guard} -C /srv/app/repo status '--ignore-submodules=all'`);
  assert.match(line('git -C /srv/app -C repo/./sub/.. log'), /^GIT_CEILING_DIRECTORIES=\/srv\/app GIT_DIR=\/srv\/app\/repo\/.git\/ \S+ \S+ 'git' /);
  assert.match(line('git -C /srv/app/x -C "" -C /srv/app/repo/ show HEAD'), /^GIT_CEILING_DIRECTORIES=\/srv\/app GIT_DIR=\/srv\/app\/repo\/.git\/ \S+ \S+ 'git' /);
  assert.match(line("git -C '/srv/my app/repo' status"), /^GIT_CEILING_DIRECTORIES='\/srv\/my app' GIT_DIR=/);
  assert.match(line('git -C /repo status'), /^GIT_CEILING_DIRECTORIES=\/ GIT_DIR=\/repo\/.git\/ /);
  // No absolute -C (a grant without paths:), or -C / (nothing above it): the line is as before.
  for (const cmd of ['git status', 'git -C repo status', 'git -C / status']) assert.match(line(cmd), /^'git' /, cmd);
  // A folder with ':' gets no ceiling (refused under paths:); its repository is still pinned (git-pin.ts).
  assert.match(line('git -C /srv/a:b status'), /^GIT_DIR=\/srv\/a:b\/.git\/ /);
  assert.equal(gitCeiling(['-C', '/srv/app', '-c', 'x=y', '-C', '../other', 'status']), '/srv');
  // Other programs are untouched.
  assert.equal(line('cat /srv/app/repo/x'), "'cat' /srv/app/repo/x");
});

test('kubectl_exec runs git through env with the same ceiling (argv), and in sh -c as an assignment', () => {
  const facts = (argv: string[]) => {
    const sh = unwrapShellC(argv) ?? parseArgv(argv);
    return { argv, commands: sh.commands, pipelines: sh.pipelines, constructs: sh.constructs, source: sh.source } as unknown as KubeExecFacts;
  };
  assert.deepEqual(argvToRun(facts(['git', '-C', '/srv/app/repo', 'status'])).slice(0, 3), ['env', 'GIT_CEILING_DIRECTORIES=/srv/app', 'GIT_DIR=/srv/app/repo/.git/']);
  assert.deepEqual(argvToRun(facts(['git', 'status'])).slice(0, 1), ['git']);
  assert.match(unchecked(argvToRun(facts(['sh', '-c', 'git -C /srv/app/repo status']))[2] ?? ''), /^GIT_CEILING_DIRECTORIES=\/srv\/app GIT_DIR=\/srv\/app\/repo\/.git\/ \S+ \S+ 'git' /);
});

test('under paths: git that Warden does not rebuild, or a -C folder with a colon, is refused', () => {
  const guarded = unchecked(canonicalCommandLine(parseShell('git -C /srv/app/repo status'))).replace(/^(?:GIT_\w+=\S+ )+'git'/, 'git');
  refuse([`ssh h ${JSON.stringify(guarded)}`, `kubectl exec pod -- ${guarded}`], /only on the line Warden rebuilds/);
  refuse(["git -C '/srv/app/a:b' status", 'git -C /srv/app -C a:b status'], /names a folder with ':'/);
  allow(['git -C /srv/app/repo status', 'git -C /srv/app/repo show HEAD:README']);
  // Without paths: a remote git with the guard is judged as before.
  allow([`ssh h ${JSON.stringify(guarded)}`], { programs: { git: { subcommands: ['status'] }, ssh: {} } });
});

test('under paths: git config sets no key naming a file, folder or repository, and writes no --global or --system file', () => {
  refuse([
    'git -C /srv/app/repo config core.worktree wt',
    'git -C /srv/app/repo config CORE.WORKTREE wt',
    'git -C /srv/app/repo config --add core.excludesFile ignores',
    'git -C /srv/app/repo config commit.template t',
    'git -C /srv/app/repo config remote.o.url other',
    'git -C /srv/app/repo config url.other.insteadOf origin',
    'git -C /srv/app/repo config http.cookieFile c',
    'git -C /srv/app/repo config http.example.sslKey k',
    'git -C /srv/app/repo config mailmap.file m',
    'git -C /srv/app/repo config fsck.skipList s',
    'git -C /srv/app/repo config set core.worktree wt',
  ], /names a file, folder or repository/);
  refuse([
    'git -C /srv/app/repo config --global user.name x',
    'git -C /srv/app/repo config --glob user.name x',
    'git -C /srv/app/repo config --system user.name x',
    'git -C /srv/app/repo config set --global user.name x',
  ], /outside the prefixes/);
  allow(['git -C /srv/app/repo config user.name x', 'git -C /srv/app/repo config --get user.email', 'git -C /srv/app/repo config core.sparseCheckout true', 'git -C /srv/app/repo config --local --list']);
  // Code keys stay refused everywhere (the injection catalogue), paths: or not.
  refuse(['git -C /srv/app/repo config include.path /srv/app/x', 'git -C /srv/app/repo config core.sshCommand x'], /run code/);
  // Without paths: git reads anything already; these keys are as before.
  allow(['git config core.worktree /', 'git config --global user.name x'], { programs: { git: { subcommands: ['config'] } } });
});
