/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * grant of git under `paths: [BASE/app]`, where repositories under the prefix point outside it:
 * `app/linked/.git` is a FILE (`gitdir: BASE/outside/repo/.git`, as linked worktrees and
 * submodules use) and `app/wt/.git/config` sets `core.worktree = BASE/outside/etc`. The control
 * shows the host's git obeys both. Warden's line pins the repository to `-C/.git/` and the work
 * tree to `-C` (GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR): nothing outside is read (its content
 * never appears) or written (its files and index stay as they were), while a plain repository
 * under the prefix runs status, log, diff and show as before. `git init` is refused under paths:.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot } from '../support/system-deps.js';
import { asLoginUser, chownLoginTree, commitRepo, gitSync, TEST_AUTHOR } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';

let BASE = '';
let APP = '';
let OUT = '';
let ETC = '';

const git = gitSync;
const WHO = TEST_AUTHOR;
const repo = commitRepo;
/** What outside the prefix the tests must leave alone: its files and the outside repository's index. */
const outside = () => ({
  conf: readFileSync(join(ETC, 'conf.txt'), 'utf8'),
  index: readFileSync(join(OUT, '.git', 'index')).toString('hex'),
  secret: readFileSync(join(OUT, 'secret.txt'), 'utf8'),
});
type Out = { exit_code: number | null; stdout: string; stderr: string };

const host = sshTreeWarden('wpin-', async (_sshd, base) => {
  BASE = base;
  OUT = join(BASE, 'outside', 'repo');
  ETC = join(BASE, 'outside', 'etc');
  APP = join(BASE, 'app');
  repo(OUT, 'secret.txt', 'outside-secret-9931\n');
  mkdirSync(ETC, { recursive: true });
  writeFileSync(join(ETC, 'conf.txt'), 'etc-secret-5521\n');
  writeFileSync(join(ETC, 'extra-outside.txt'), 'x\n');
  // A .git FILE under the prefix naming the repository outside it.
  mkdirSync(join(APP, 'linked'), { recursive: true });
  writeFileSync(join(APP, 'linked', '.git'), `gitdir: ${OUT}/.git\n`);
  // A repository under the prefix whose config moves its work tree outside it.
  repo(join(APP, 'wt'), 'conf.txt', 'tracked\n');
  git(['-C', join(APP, 'wt'), 'config', 'core.worktree', ETC]);
  writeFileSync(join(APP, 'wt', 'conf.txt'), 'local-change\n');
  // A plain repository: two commits and a change in the work tree.
  const own = join(APP, 'own');
  repo(own, 'f.txt', 'one\n');
  writeFileSync(join(own, 'f.txt'), 'one\ntwo\n');
  git(['-C', own, ...WHO, 'commit', '-qam', 'two']);
  writeFileSync(join(own, 'f.txt'), 'one\ntwo\nthree\n');
  chownLoginTree(BASE, host.sshd());
  const policy = `
rules:
  - id: git-under-app
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      programs:
        git: { paths: ${JSON.stringify([APP])}, subcommands: [status, log, show, diff, grep, checkout, init] }
`;
  return policy;
});

describe('ssh_run: git under paths: runs on the -C folder\'s own repository and work tree', () => {
  test('control: the host\'s git follows the .git file and core.worktree outside the prefix', () => {
    const as = asLoginUser(host.sshd(), BASE, isRoot());
    assert.equal(git(['-C', join(APP, 'linked'), 'show', 'HEAD:secret.txt'], as), 'outside-secret-9931\n');
    assert.match(git(['-C', join(APP, 'wt'), 'diff'], as), /etc-secret-5521/);
  });

  test('a .git file pointing outside: its repository is neither read nor written', async () => {
    const before = outside();
    for (const cmd of ['log -p', 'show HEAD:secret.txt', 'status', 'diff HEAD', 'grep outside-secret HEAD', 'checkout -- secret.txt']) {
      const r = await host.sw().run(`git -C ${APP}/linked ${cmd}`);
      const s = r.structured as Out;
      assert.doesNotMatch(r.text, /outside-secret-9931|add secret\.txt/, cmd);
      assert.notEqual(s.exit_code, 0, cmd);
      assert.match(s.stderr, /not a git repository/i, cmd);
    }
    assert.equal(existsSync(join(APP, 'linked', 'secret.txt')), false, 'checkout wrote nothing from the outside repository');
    assert.deepEqual(outside(), before, 'the outside repository (its index) is unchanged');
  });

  test('core.worktree outside: the work tree is the -C folder, the outside folder is neither read nor written', async () => {
    const before = outside();
    const diff = await host.sw().ran(`git -C ${APP}/wt diff`);
    assert.doesNotMatch(diff, /etc-secret-5521/);
    assert.match(diff, /-tracked\n\+local-change/);
    const status = await host.sw().ran(`git -C ${APP}/wt status --short`);
    assert.doesNotMatch(status, /extra-outside/);
    assert.match(status, /M conf\.txt/);
    const grep = await host.sw().run(`git -C ${APP}/wt grep -e etc-secret`);
    assert.doesNotMatch(grep.text, /etc-secret-5521/);
    await host.sw().ran(`git -C ${APP}/wt checkout -- conf.txt`);
    assert.equal(readFileSync(join(APP, 'wt', 'conf.txt'), 'utf8'), 'tracked\n', 'checkout restored the file under the prefix');
    assert.deepEqual(outside(), before, 'the file outside is unchanged');
  });

  test('a plain repository under the prefix runs status, log, diff and show', async () => {
    assert.match(await host.sw().ran(`git -C ${APP}/own status --short`), /M f\.txt/);
    assert.match(await host.sw().ran(`git -C ${APP}/own log --oneline`), /two\n.*add f\.txt/);
    assert.match(await host.sw().ran(`git -C ${APP}/own diff`), /\+three/);
    assert.equal(await host.sw().ran(`git -C ${APP}/own show HEAD^:f.txt`), 'one\n');
  });

  test('git init, which follows a .git file wherever it points, is refused under paths:', async () => {
    const before = outside();
    await host.sw().refused(`git -C ${APP}/linked init`, /git init reinitialises the repository a \.git file/);
    assert.deepEqual(outside(), before);
  });
});
