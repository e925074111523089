/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * grant of git under `paths: [BASE/app]`, where repositories under the prefix reach outside it
 * in the ways the pin (GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR) cannot hold:
 * - `app/sup` has a submodule `sub` whose `.git` FILE points at `BASE/outside/repo/.git`, with
 *   `ignore = none` in `.gitmodules` and `submodule.recurse`, `diff.submodule=diff`,
 *   `status.submoduleSummary` in its config: git reads it in a child git (or in-process);
 * - `app/linkdot/.git` is a symbolic link to that outside repository;
 * - `app/alt/.git/objects/info/alternates` names `BASE/outside/objs/.git/objects`.
 * The controls show the host's git obeys each. Warden's line switches submodule recursion off
 * (guard words, `--ignore-submodules=all`), refuses the agent's options that turn it back on,
 * and checks the link and alternates in the same shell line (exit 97): no outside content
 * appears and the outside repository's index is unchanged; a plain repository runs as before.
 */
import assert from 'node:assert/strict';
import { lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot } from '../support/system-deps.js';
import { asLoginUser, chownLoginTree, commitRepo, gitSync, TEST_AUTHOR } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';

let BASE = '';
let APP = '';
let OUT = '';
let BLOB = '';

const git = gitSync;
const WHO = TEST_AUTHOR;
const repo = commitRepo;
const outsideIndex = () => readFileSync(join(OUT, '.git', 'index')).toString('hex');
type Out = { exit_code: number | null; stdout: string; stderr: string };
const SECRETS = /outside-secret-4417|alt-secret-8812/;

const host = sshTreeWarden('wsub-', async (_sshd, base) => {
  BASE = base;
  OUT = join(BASE, 'outside', 'repo');
  APP = join(BASE, 'app');
  repo(OUT, 'secret.txt', 'outside-secret-4417\n');
  const objs = join(BASE, 'outside', 'objs');
  repo(objs, 'alt.txt', 'alt-secret-8812\n');
  BLOB = git(['-C', objs, 'rev-parse', 'HEAD:alt.txt']).trim();
  // A superproject whose submodule's .git file points outside, with every setting that recurses.
  const sup = join(APP, 'sup');
  repo(sup, 'top.txt', 'top\n');
  mkdirSync(join(sup, 'sub'));
  writeFileSync(join(sup, 'sub', '.git'), `gitdir: ${OUT}/.git\n`);
  writeFileSync(join(sup, '.gitmodules'), '[submodule "sub"]\n\tpath = sub\n\turl = ./sub\n\tignore = none\n');
  git(['-C', sup, 'add', '.gitmodules']);
  git(['-C', sup, 'update-index', '--add', '--cacheinfo', `160000,${git(['-C', OUT, 'rev-parse', 'HEAD']).trim()},sub`]);
  git(['-C', sup, ...WHO, 'commit', '-qm', 'add sub']);
  for (const [k, v] of [['submodule.sub.url', './sub'], ['submodule.active', '*'], ['submodule.recurse', 'true'], ['diff.submodule', 'diff'], ['status.submoduleSummary', 'true']]) {
    git(['-C', sup, 'config', k as string, v as string]);
  }
  writeFileSync(join(sup, 'top.txt'), 'top\nchanged\n');
  // A .git that is a symbolic link to the outside repository.
  mkdirSync(join(APP, 'linkdot'), { recursive: true });
  symlinkSync(join(OUT, '.git'), join(APP, 'linkdot', '.git'));
  // A repository that borrows the outside object store.
  repo(join(APP, 'alt'), 'a.txt', 'a\n');
  writeFileSync(join(APP, 'alt', '.git', 'objects', 'info', 'alternates'), `${objs}/.git/objects\n`);
  // A plain repository: two commits and a change in the work tree.
  const own = join(APP, 'own');
  repo(own, 'f.txt', 'one\n');
  writeFileSync(join(own, 'f.txt'), 'one\ntwo\n');
  git(['-C', own, ...WHO, 'commit', '-qam', 'two']);
  writeFileSync(join(own, 'f.txt'), 'one\ntwo\nthree\n');
  chownLoginTree(BASE, host.sshd());
  if (isRoot()) lchownSync(join(APP, 'linkdot', '.git'), host.sshd().uid, host.sshd().gid); // the link itself (git's ownership check does not follow it)
  const policy = `
rules:
  - id: git-under-app
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs:
        git: { paths: ${JSON.stringify([APP])}, subcommands: [status, log, show, diff, grep, ls-files, checkout, cat-file, submodule] }
        head: {}
`;
  return policy;
});

describe('ssh_run: git under paths: does not enter submodules, a linked .git or borrowed objects', () => {
  test('control: the host\'s git reads the outside repository through each', () => {
    const as = asLoginUser(host.sshd(), BASE, isRoot());
    assert.match(git(['-C', join(APP, 'sup'), 'diff'], as), /-outside-secret-4417/);
    assert.match(git(['-C', join(APP, 'sup'), 'status'], as), /sub \(modified content\)/);
    assert.match(git(['-C', join(APP, 'sup'), 'log', '-p'], as), /outside-secret-4417/);
    assert.equal(git(['-C', join(APP, 'linkdot'), 'show', 'HEAD:secret.txt'], as), 'outside-secret-4417\n');
    assert.equal(git(['-C', join(APP, 'alt'), 'cat-file', '-p', BLOB], as), 'alt-secret-8812\n');
  });

  test('a submodule pointing outside: status, diff, log -p, show, grep and ls-files stay in the superproject', async () => {
    const before = outsideIndex();
    const status = await host.sw().ran(`git -C ${APP}/sup status`);
    assert.match(status, /modified: +top\.txt/);
    assert.doesNotMatch(status, /sub|Submodule/, 'no child git looked into the submodule');
    const diff = await host.sw().ran(`git -C ${APP}/sup diff`);
    assert.match(diff, /\+changed/);
    assert.doesNotMatch(diff, /sub|outside-secret/);
    for (const cmd of ['log -p', 'show', 'diff HEAD~1 HEAD', 'grep -e outside-secret HEAD', 'ls-files']) {
      const r = await host.sw().run(`git -C ${APP}/sup ${cmd}`);
      assert.doesNotMatch(r.text, SECRETS, cmd);
    }
    await host.sw().ran(`git -C ${APP}/sup checkout -- top.txt`);
    assert.equal(readFileSync(join(APP, 'sup', 'top.txt'), 'utf8'), 'top\n');
    assert.deepEqual(outsideIndex(), before, 'the outside repository (its index) is unchanged');
  });

  test('the agent\'s options that recurse into submodules are refused before any session', async () => {
    for (const cmd of ['diff --submodule=diff', 'log -p --submodule=diff', 'grep --recurse-submodules -e outside HEAD', 'ls-files --recurse-submodules', 'checkout --recurse-submodules -- top.txt', 'status --ignore-submodules=none']) {
      await host.sw().refused(`git -C ${APP}/sup ${cmd}`, /submodule/);
    }
    await host.sw().refused(`git -C ${APP}/sup submodule status`, /git submodule can run other programs/);
  });

  test('a .git that is a symbolic link, or alternates: the line stops before git runs (exit 97)', async () => {
    const before = outsideIndex();
    for (const cmd of [`git -C ${APP}/linkdot show HEAD:secret.txt`, `git -C ${APP}/linkdot status`, `git -C ${APP}/alt show ${BLOB}`, `git -C ${APP}/alt log -p`]) {
      const r = await host.sw().run(cmd);
      const s = r.structured as Out;
      assert.doesNotMatch(r.text, SECRETS, cmd);
      assert.equal(s.exit_code, 97, cmd);
      assert.match(s.stderr, /warden: refused: .*\.git is a symbolic link or its objects come from elsewhere/, cmd);
    }
    assert.deepEqual(outsideIndex(), before);
    // cat-file -p of an object named by its id is refused before any session (shell/git-secret-reads.ts).
    await host.sw().refused(`git -C ${APP}/alt cat-file -p ${BLOB}`, /object named by its id/);
  });

  test('a plain repository under the prefix runs status, log, diff and show', async () => {
    assert.match(await host.sw().ran(`git -C ${APP}/own status --short`), /M f\.txt/);
    assert.match(await host.sw().ran(`git -C ${APP}/own log --oneline | head -5`), /two\n.*add f\.txt/);
    assert.match(await host.sw().ran(`git -C ${APP}/own diff`), /\+three/);
    assert.equal(await host.sw().ran(`git -C ${APP}/own show HEAD^:f.txt`), 'one\n');
  });
});
