/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * repository outside a git grant's paths whose `.git/config` names a clean filter
 * (`filter.x.clean`, with `* filter=x` in `.git/info/attributes`), which the git guard cannot
 * switch off by name and which `git status` runs on a tree whose files' stat changed (a copy).
 * Carried into git's paths by a copier of the same rule (`cp -r`, `rsync -a`, `mv`, a `.git`
 * copied into a folder, `rsync --files-from`) it would run at the next granted `git status`:
 * those copies are refused. A folder named anything, given as `--git-dir`, is a repository too:
 * refused under paths:, as is git with no absolute -C (the login folder).
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot } from '../support/system-deps.js';
import { asLoginUser, chownLoginTree, gitSync } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';
import { GIT_GUARD } from '../../tools/shared/shell/git-guard.js';

let BASE = '';
let APP = '';
let STAGING = '';
let MARKS = '';

const git = gitSync;
const chownTree = (p: string): void => chownLoginTree(p, host.sshd());
const marks = () => readdirSync(MARKS).sort();

/** A repository at `dir` with one commit whose config names a clean filter leaving MARKS/`mark`. */
function plantRepo(dir: string, mark: string): void {
  git(['init', '-q', dir]);
  const c = (k: string, v: string) => git(['-C', dir, 'config', k, v]);
  c('user.email', 't@example.com');
  c('user.name', 't');
  writeFileSync(join(dir, 'f.txt'), 'one\n');
  git(['-C', dir, 'add', 'f.txt']);
  git(['-C', dir, 'commit', '-qm', 'one']);
  c('filter.x.clean', `sh -c 'touch ${MARKS}/${mark}; cat'`);
  mkdirSync(join(dir, '.git', 'info'), { recursive: true });
  writeFileSync(join(dir, '.git', 'info', 'attributes'), '* filter=x\n');
}

const host = sshTreeWarden('wcarry-', async (_sshd, base) => {
  BASE = base;
  APP = join(BASE, 'app');
  STAGING = join(BASE, 'staging');
  MARKS = join(BASE, 'marks');
  for (const d of [APP, STAGING, MARKS]) mkdirSync(d);
  chmodSync(MARKS, 0o777);
  plantRepo(join(STAGING, 'evil'), 'carried');
  writeFileSync(join(STAGING, 'list'), '.git/config\n.git/info/attributes\n');
  // A git dir named `gd` (no .git in its path) beside a work tree `w`, planted as any writer could.
  plantRepo(join(BASE, 'gdsrc'), 'gitdir');
  renameSync(join(BASE, 'gdsrc', '.git'), join(APP, 'gd'));
  mkdirSync(join(APP, 'w'));
  cpSync(join(BASE, 'gdsrc', 'f.txt'), join(APP, 'w', 'f.txt'));
  // An ordinary repository inside git's paths.
  plantRepo(join(APP, 'repo'), 'own');
  rmSync(join(APP, 'repo', '.git', 'info', 'attributes'));
  chownTree(BASE);
  const both = JSON.stringify([APP, STAGING]);
  const policy = `
rules:
  - id: copiers-and-git
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      programs:
        git: { paths: ${JSON.stringify([APP])}, subcommands: [status, log] }
        cp: { paths: ${both} }
        rsync: { paths: ${both} }
        mv: { paths: ${both} }
`;
  return policy;
});

describe('ssh_run: a repository configuration carried into a git grant\'s paths', () => {
  test('control: the git guard does not stop a clean filter; the login user running guarded git on a copy runs it', () => {
    const as = asLoginUser(host.sshd(), BASE, isRoot());
    const copy = join(BASE, 'control');
    cpSync(join(STAGING, 'evil'), copy, { recursive: true });
    chownTree(copy);
    git([...GIT_GUARD, '-C', copy, 'status', '--short'], as);
    git([...GIT_GUARD, '--git-dir', join(APP, 'gd'), '--work-tree', join(APP, 'w'), 'status', '--short'], as);
    assert.deepEqual(marks(), ['carried', 'gitdir'], 'the plants are real');
    for (const m of marks()) rmSync(join(MARKS, m));
  });

  test('copies that would carry the .git into git\'s paths are refused before any session starts', async () => {
    await host.sw().refused(`cp -r ${STAGING}/evil ${APP}/evil`, /cp -r carries .* where this rule grants git/);
    await host.sw().refused(`rsync -a ${STAGING}/evil/ ${APP}/evil/`, /rsync -a carries .* where this rule grants git/);
    await host.sw().refused(`mv ${STAGING}/evil ${APP}/evil`, /mv carries .* where this rule grants git/);
    await host.sw().refused(`cp -r ${STAGING}/evil/.git ${APP}/repo2/`, /a file git obeys/);
    await host.sw().refused(`rsync --files-from=${STAGING}/list ${STAGING}/evil ${APP}/repo`, /names only its list gives/);
    assert.deepEqual(readdirSync(APP).sort(), ['gd', 'repo', 'w']);
    assert.equal(existsSync(join(STAGING, 'evil', '.git', 'config')), true);
  });

  test('git names no git dir and says where it runs; ordinary copies and git inside the paths still run', async () => {
    await host.sw().refused(`git --git-dir=${APP}/gd --work-tree=${APP}/w status`, /--git-dir.* makes the folder it names a repository/);
    await host.sw().refused('git status', /runs in the login folder/);
    assert.match(await host.sw().ran(`git -C ${APP}/repo status --short`), /^$/);
    await host.sw().ran(`cp -r ${APP}/repo ${APP}/repo-copy`);
    assert.equal(existsSync(join(APP, 'repo-copy', 'f.txt')), true);
    assert.match(await host.sw().ran(`git -C ${APP}/repo-copy log --oneline`), /one/);
    assert.deepEqual(marks(), [], 'no planted command ran');
  });
});
