/**
 * git's repository pinned to its -C folder. The ceiling keeps git from a repository above -C, but
 * -C's own repository may point elsewhere: a `.git` file (`gitdir: /home/other/.git`), a
 * `commondir`, or `core.worktree = /etc` in its config. Every git line Warden rebuilds with an
 * absolute -C sets GIT_DIR=-C/.git/ (the trailing slash: git does not follow it as a .git file),
 * GIT_WORK_TREE=-C and GIT_COMMON_DIR=-C/.git/ (the environment wins over core.worktree and
 * commondir); not for clone (it would die) or init (refused under paths:: it follows a .git file).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalCommandLine, initShellParser, parseArgv, parseShell, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { gitPin } from '../../../tools/shared/shell/git-pin.js';
import { argvToRun } from '../../../tools/kubernetes/kubectl-exec.js';
import type { KubeExecFacts } from '../../../tools/kubernetes/facts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const { refuse, allow } = shellVerdicts({ programs: { git: { paths: ['/srv/app'], subcommands: ['status', 'log', 'diff', 'init', 'clone'] } } });
const PIN = 'GIT_DIR=/srv/app/repo/.git/ GIT_WORK_TREE=/srv/app/repo GIT_COMMON_DIR=/srv/app/repo/.git/';

before(async () => {
  await initShellParser();
});

test('the rebuilt line pins the repository to -C/.git/ and the work tree to -C', () => {
  // The repository check that leads a pinned line (git-repo-check.ts) set aside.
  const line = (cmd: string) => canonicalCommandLine(parseShell(cmd)).replace(/^\{ if .*?; fi; (.*); \}$/, '$1');
  assert.match(line('git -C /srv/app/repo status'), new RegExp(`^GIT_CEILING_DIRECTORIES=/srv/app ${PIN} 'git' `));
  assert.match(line('git -C /srv/app -C repo/./x/.. log -p'), new RegExp(`^GIT_CEILING_DIRECTORIES=/srv/app ${PIN} 'git' `));
  assert.match(line("git -C '/srv/my app' status"), /^GIT_CEILING_DIRECTORIES=\/srv GIT_DIR='\/srv\/my app\/.git\/' GIT_WORK_TREE='\/srv\/my app' /);
  // The agent's --work-tree wins over GIT_WORK_TREE (git sets it from the option); the repository stays pinned.
  assert.match(line('git -C /srv/app/repo --work-tree=/srv/app/repo status'), new RegExp(`^GIT_CEILING_DIRECTORIES=/srv/app ${PIN} 'git' `));
  // Not pinned: no absolute -C, -C /, clone and init (which do not run on -C's repository), the agent's own --git-dir.
  for (const cmd of ['git status', 'git -C repo status', 'git -C / status', 'git -C /srv/app clone /srv/app/a b', 'git -C /srv/app/repo init', 'git -C /srv/app --git-dir=/srv/app/x.git log']) {
    assert.doesNotMatch(line(cmd), /GIT_DIR=/, cmd);
  }
  assert.deepEqual(gitPin(['-C', '/srv/app/repo', '-c', 'x=y', 'log']).map(([k]) => k), ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR']);
});

test('kubectl_exec pins git the same way, through env in an argv and as assignments in sh -c', () => {
  const facts = (argv: string[]) => {
    const sh = unwrapShellC(argv) ?? parseArgv(argv);
    return { argv, commands: sh.commands, pipelines: sh.pipelines, constructs: sh.constructs, source: sh.source } as unknown as KubeExecFacts;
  };
  assert.deepEqual(argvToRun(facts(['git', '-C', '/srv/app/repo', 'diff'])).slice(0, 6), [
    'env', 'GIT_CEILING_DIRECTORIES=/srv/app', 'GIT_DIR=/srv/app/repo/.git/', 'GIT_WORK_TREE=/srv/app/repo', 'GIT_COMMON_DIR=/srv/app/repo/.git/', 'git',
  ]);
  assert.match(argvToRun(facts(['sh', '-c', 'git -C /srv/app/repo status']))[2] ?? '', new RegExp(`^\\{ if .*; fi; GIT_CEILING_DIRECTORIES=/srv/app ${PIN} 'git' `));
});

test('under paths: git init (which follows a .git file wherever it points) is refused; other subcommands run', () => {
  refuse(['git -C /srv/app/repo init', 'git -C /srv/app init repo', 'git -C /srv/app/repo init --bare'], /git init reinitialises the repository a \.git file/);
  refuse(['git -C /srv/app/repo --work-tree=/etc status', 'git -C /srv/app/repo --work-tree /etc status'], /\/etc/);
  allow(['git -C /srv/app/repo status', 'git -C /srv/app/repo diff', 'git -C /srv/app clone /srv/app/a /srv/app/b']);
  // Without paths:, init runs as before.
  allow(['git -C /srv/app/repo init'], { programs: { git: { subcommands: ['init'] } } });
});
