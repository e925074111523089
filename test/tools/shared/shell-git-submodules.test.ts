/**
 * A governed git stays in its -C folder's repository: submodule recursion (a child git in each
 * submodule follows its .git file and core.worktree without the pin) is switched off on every
 * rebuilt git (`-c submodule.recurse=false -c diff.ignoreSubmodules=all ...`, and
 * `--ignore-submodules=all` after the subcommands that take it, which beats a `.gitmodules`
 * `ignore = none`), and under paths: the agent's options that turn it back on are refused. A
 * pinned line first checks, in the same shell, that `-C/.git` and `-C/.git/objects` are no
 * symbolic links and that no `objects/info/alternates` names object stores elsewhere (exit 97).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalCommandLine, initShellParser, parseArgv, parseShell, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { GIT_GUARD, withGitGuard } from '../../../tools/shared/shell/git-guard.js';
import { argvToRun } from '../../../tools/kubernetes/kubectl-exec.js';
import type { KubeExecFacts } from '../../../tools/kubernetes/facts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const SUBS = ['status', 'log', 'show', 'diff', 'grep', 'ls-files', 'checkout', 'fetch', 'clone', 'submodule'];
const { refuse, allow } = shellVerdicts({ programs: { git: { paths: ['/srv/app'], subcommands: SUBS } } });
const line = (cmd: string) => canonicalCommandLine(parseShell(cmd));

before(async () => {
  await initShellParser();
});

test('every rebuilt git switches submodule recursion off, and --ignore-submodules=all follows status and the diff subcommands', () => {
  for (const kv of ['submodule.recurse=false', 'diff.ignoreSubmodules=all', 'status.submoduleSummary=false', 'diff.submodule=short', 'fetch.recurseSubmodules=false']) {
    assert.ok(GIT_GUARD.includes(kv), kv);
  }
  const after = (args: string[]) => withGitGuard(args).slice(GIT_GUARD.length);
  assert.deepEqual(after(['status', '-s']), ['status', '--ignore-submodules=all', '-s']);
  assert.deepEqual(after(['-C', '/x', 'diff', 'HEAD']), ['-C', '/x', 'diff', '--no-textconv', '--no-ext-diff', '--ignore-submodules=all', 'HEAD']);
  for (const sub of ['log', 'show', 'whatchanged', 'format-patch', 'diff-files', 'diff-index', 'diff-tree']) assert.ok(after([sub]).includes('--ignore-submodules=all'), sub);
  // blame takes no such option; grep and ls-files recurse only when asked (refused under paths:).
  assert.deepEqual(after(['blame', 'f']), ['blame', '--no-textconv', '--no-ext-diff', 'f']);
  assert.deepEqual(after(['grep', 'x']), ['grep', 'x']);
  // Idempotent.
  assert.deepEqual(withGitGuard(withGitGuard(['status'])), withGitGuard(['status']));
});

test('under paths:, the options that turn submodule recursion back on are refused; the rest runs', () => {
  refuse(
    [
      'git -C /srv/app/r grep --recurse-submodules x', 'git -C /srv/app/r ls-files --recurse-sub', 'git -C /srv/app/r checkout --recurse-submodules main',
      'git -C /srv/app/r fetch --recurse-submodules=yes', 'git -C /srv/app clone --recursive /srv/app/a /srv/app/b',
    ],
    /recurse|submodule/,
  );
  refuse(['git -C /srv/app/r diff --submodule=diff', 'git -C /srv/app/r log -p --submodule', 'git -C /srv/app/r show --submod=log'], /--submod.* reads each submodule's repository/);
  refuse(['git -C /srv/app/r status --ignore-submodules=none', 'git -C /srv/app/r diff --ignore-submodules=dirty', 'git -C /srv/app/r diff --ignore-sub=untracked'], /ignore-submodules/);
  refuse(['git -C /srv/app/r submodule update'], /submodule/);
  allow([
    'git -C /srv/app/r status --ignore-submodules', 'git -C /srv/app/r diff --ignore-submodules=all', 'git -C /srv/app/r fetch --no-recurse-submodules',
    'git -C /srv/app/r grep --recursive x', 'git -C /srv/app/r log -p', 'git -C /srv/app/r diff -- --submodule',
  ]);
  // Without paths:, git reaches any repository anyway: recursion is not refused (the guard words still switch the default off).
  allow(['git grep --recurse-submodules x', 'git diff --submodule=diff'], { programs: { git: {} } });
});

const CHECK = (c: string) =>
  `{ if [ -L ${c}/.git ] || [ -L ${c}/.git/objects ] || [ -s ${c}/.git/objects/info/alternates ]; then echo 'warden: refused: ${c}/.git is a symbolic link or its objects come from elsewhere (a link or objects/info/alternates): git would read a repository outside its folder' >&2; exit 97; fi; `;

test('a pinned git line first checks, in the same shell, that its repository is no link and borrows no objects', () => {
  const env = 'GIT_CEILING_DIRECTORIES=/srv/app GIT_DIR=/srv/app/repo/.git/ GIT_WORK_TREE=/srv/app/repo GIT_COMMON_DIR=/srv/app/repo/.git/';
  const guarded = line('git status').replace(/^'git' /, '').replace(/ status '--ignore-submodules=all'$/, '');
  assert.equal(line('git -C /srv/app/repo status'), `${CHECK('/srv/app/repo')}${env} 'git' ${guarded} -C /srv/app/repo status '--ignore-submodules=all'; }`);
  // In a pipeline, the group is one element; the folder is quoted as any word.
  assert.match(line('git -C /srv/app/repo log | head -3'), /^\{ if .* exit 97; fi; GIT_CEILING_DIRECTORIES=\S+ .* 'git' .*; \} \| 'head' -3$/);
  assert.ok(line("git -C '/srv/my app' status").startsWith(`{ if [ -L '/srv/my app/.git' ] || [ -L '/srv/my app/.git/objects' ] || [ -s '/srv/my app/.git/objects/info/alternates' ]; then echo 'warden: refused: /srv/my app/.git `));
  assert.ok(line("git -C \"/srv/it's\" status").includes(`[ -L '/srv/it'\\''s/.git' ]`));
  // Unpinned lines (no absolute -C, clone, init) and other programs are as before.
  for (const cmd of ['git status', 'git -C /srv/app clone /srv/app/a /srv/app/b', 'cat /srv/app/x']) assert.doesNotMatch(line(cmd), /^\{/, cmd);
});

test('kubectl_exec: sh -c gets the same check; an argv (no shell) keeps the pin without it', () => {
  const facts = (argv: string[]) => {
    const sh = unwrapShellC(argv) ?? parseArgv(argv);
    return { argv, commands: sh.commands, pipelines: sh.pipelines, constructs: sh.constructs, source: sh.source } as unknown as KubeExecFacts;
  };
  assert.ok((argvToRun(facts(['sh', '-c', 'git -C /srv/app/repo status']))[2] ?? '').startsWith(CHECK('/srv/app/repo')));
  assert.deepEqual(argvToRun(facts(['git', '-C', '/srv/app/repo', 'status'])).slice(0, 6), [
    'env', 'GIT_CEILING_DIRECTORIES=/srv/app', 'GIT_DIR=/srv/app/repo/.git/', 'GIT_WORK_TREE=/srv/app/repo', 'GIT_COMMON_DIR=/srv/app/repo/.git/', 'git',
  ]);
});
