/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * grant of git under `paths: [BASE/outer/app]`, where BASE/outer (outside the prefix) is a
 * repository with a committed secret. git looks for its repository from -C upwards, so
 * `git -C APP/sub show HEAD:secret.txt` read the secret; Warden's line sets
 * GIT_CEILING_DIRECTORIES to the -C folder's parent, so git finds no repository there, while a
 * repository at the -C folder itself still runs. `git config --global` (a file outside the
 * prefixes every git call reads) is refused under paths:.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot } from '../support/system-deps.js';
import { asLoginUser, chownLoginTree, commitRepo, gitSync } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';

let BASE = '';
let APP = '';

const git = gitSync;
const chownTree = (p: string): void => chownLoginTree(p, host.sshd());
const repo = commitRepo;

const host = sshTreeWarden('wceil-', async (_sshd, base) => {
  BASE = base;
  const outer = join(BASE, 'outer');
  repo(outer, 'secret.txt', 'outer-secret-4711\n');
  APP = join(outer, 'app');
  mkdirSync(join(APP, 'sub'), { recursive: true });
  repo(join(APP, 'own'), 'f.txt', 'own-file\n');
  chownTree(BASE);
  // The login user's git refuses a repository it does not own (safe.directory); all of it is the login user's.
  const policy = `
rules:
  - id: git-under-app
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      programs:
        git: { paths: ${JSON.stringify([APP])}, subcommands: [status, log, show, config] }
`;
  return policy;
});

describe('ssh_run: git under paths: finds no repository above its -C folder', () => {
  test('control: the login user\'s git, from the same folder, reads the repository above the prefix', () => {
    const as = asLoginUser(host.sshd(), BASE, isRoot());
    assert.equal(git(['-C', join(APP, 'sub'), 'show', 'HEAD:secret.txt'], as), 'outer-secret-4711\n');
  });

  test('a repository above the -C folder (outside the prefix) is not found: its objects stay unread', async () => {
    const r = await host.sw().run(`git -C ${APP}/sub show HEAD:secret.txt`);
    const s = r.structured as { exit_code: number | null; stdout: string; stderr: string };
    assert.doesNotMatch(r.text, /outer-secret-4711/);
    assert.notEqual(s.exit_code, 0);
    assert.match(s.stderr, /not a git repository/);
    const log = await host.sw().run(`git -C ${APP} log --oneline`);
    assert.doesNotMatch(log.text, /add secret\.txt/);
  });

  test('a repository at the -C folder runs as before', async () => {
    assert.equal(await host.sw().ran(`git -C ${APP}/own show HEAD:f.txt`), 'own-file\n');
    assert.match(await host.sw().ran(`git -C ${APP}/own log --oneline`), /add f\.txt/);
  });

  test('git config --global and keys naming a folder are refused under paths:', async () => {
    await host.sw().refused(`git -C ${APP}/own config --global user.name x`, /outside the prefixes/);
    await host.sw().refused(`git -C ${APP}/own config core.worktree wt`, /names a file, folder or repository/);
    assert.equal(existsSync(join(BASE, '.gitconfig')), false);
  });
});
