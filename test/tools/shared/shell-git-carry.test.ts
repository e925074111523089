/**
 * Copies that carry a repository's configuration into a tree where git is granted, and where
 * git runs under `paths:`. A `.git` copied in whole (its config naming `filter.X.clean`, which
 * the git guard cannot switch off by name) runs when a granted `git status` reads the tree; a
 * copy into a folder lands under the source's own name (`cp -r SRC/.git DIR/` writes DIR/.git);
 * `rsync --files-from` writes names only its list gives; `--git-dir` makes any folder holding a
 * `config` a repository; and git with no absolute `-C` runs in the login folder.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const APP = ['/srv/app'];
const BOTH = { paths: ['/srv/app', '/srv/staging'] };
const { refuse, allow } = shellVerdicts({
  pipelines: true,
  programs: { git: { paths: APP, subcommands: ['status', 'log', 'diff', 'show'] }, cp: BOTH, mv: BOTH, ln: BOTH, rsync: BOTH, scp: BOTH, install: BOTH, echo: {} },
});
/** The same copiers without git in the rule. */
const copiers = { programs: { cp: BOTH, mv: BOTH, ln: BOTH, rsync: BOTH, scp: BOTH, install: BOTH } };

before(async () => {
  await initShellParser();
});

test('a copy into a folder lands under the source name: a source git obeys is refused, with or without git in the rule', () => {
  const cases = [
    'cp -r /srv/staging/evil/.git /srv/app/repo/',
    'cp -r /srv/staging/evil/.git /srv/app/repo',
    'cp -t /srv/app/repo -r /srv/staging/evil/.git',
    'cp /srv/staging/evil/.gitattributes /srv/app/repo',
    'cp /srv/staging/x/.GITCONFIG /srv/app/home/',
    'cp /srv/staging/x/git /srv/app/home/.config',
    'mv /srv/staging/evil/.git /srv/app/repo',
    'ln -s /srv/staging/evil/.git /srv/app/repo',
    'install /srv/staging/evil/.gitmodules /srv/app/repo',
    'rsync -a /srv/staging/evil/.git /srv/app/repo',
    'scp -r /srv/staging/evil/.git /srv/app/repo',
  ];
  refuse(cases, /a file git obeys/);
  refuse(cases, /a file git obeys/, copiers);
  // The name of the copy is the destination's when it is given: a file copied from inside .git is not one git obeys there.
  allow(['cp /srv/staging/evil/.git/description /srv/app/notes.txt', 'cp /srv/staging/a /srv/app/b'], copiers);
});

test('rsync --files-from writes names only its list gives: refused under paths:', () => {
  refuse(['rsync --files-from=/srv/staging/list /srv/staging /srv/app/repo', 'rsync -a --files-from /srv/staging/list /srv/staging/ /srv/app/'], /names only its list gives/, copiers);
  // Side effect: a deny with paths: matches it too, generously (rsync keeps the names under the source).
  const deny = shellCondition.compile({ programs: { rsync: { paths: ['/root/.ssh'] } } }, { id: 'd', effect: 'deny' });
  const r = deny(parseShell('rsync -a --files-from=/tmp/list /tmp/src /tmp/out'), { tool: 'ssh_run', connection: 'web-1', args: {} });
  assert.equal(r.matched, true, r.why);
});

test('a copy that carries a folder whole from outside git\'s paths into them is refused in a rule that grants git', () => {
  refuse([
    'cp -r /srv/staging/evil /srv/app/evil',
    'cp -a /srv/staging/evil/. /srv/app/repo',
    'cp --recursive /srv/staging/evil /srv/app/evil',
    'rsync -a /srv/staging/evil/ /srv/app/repo/',
    'rsync -rl /srv/staging/evil /srv/app',
    'scp -r /srv/staging/evil /srv/app/evil',
    'mv /srv/staging/evil /srv/app/evil',
    'ln -s /srv/staging/evil /srv/app/evil',
  ], /where this rule grants git/);
  // Inside git's own paths (the tree git could read already), files only, or into a folder git is not granted: they run.
  allow([
    'cp -r /srv/app/a /srv/app/b',
    'rsync -a /srv/app/build/ /srv/app/www/',
    'mv /srv/app/x.log /srv/app/x.log.1',
    'cp /srv/staging/report.txt /srv/app/report.txt',
    'rsync /srv/staging/report.txt /srv/app/',
    'cp -r /srv/app/a /srv/staging/a',
  ]);
  // Without git in the rule, carrying folders is as before.
  allow(['cp -r /srv/staging/evil /srv/app/evil', 'rsync -a /srv/staging/evil/ /srv/app/repo/', 'mv /srv/staging/evil /srv/app/evil'], copiers);
});

test('git under paths: must say where it runs (-C, absolute) and never names its git dir', () => {
  refuse(['git status', 'git log -p', 'git show HEAD:.bashrc', 'git -C repo status', 'git --work-tree=/srv/app/w status'], /runs in the login folder/);
  refuse(['git --git-dir=/srv/app/gd --work-tree=/srv/app/w status', 'git -C /srv/app/w --git-dir /srv/app/gd status', 'git -C /srv/app/w --git-dir=gd log'], /--git-dir/);
  allow(['git -C /srv/app/repo status', 'git -C /srv/app/repo log -5 --oneline', 'git -C /srv/app/repo -C sub status', 'git -C /srv/app/repo --work-tree=/srv/app/repo status']);
  // Without paths: git runs where the grant lets it, --git-dir included (unchanged).
  allow(['git status', 'git --git-dir=/srv/app/.git status'], { programs: { git: { subcommands: ['status'] } } });
});
