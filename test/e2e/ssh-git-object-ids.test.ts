/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * repository with a committed `.vault-token` and `config/master.key`. `git ls-tree -r HEAD` gives
 * each file's blob id; before, `git show ID` (whole, abbreviated, `ID^{}`, `ID^{blob}`), `git diff
 * ID ID`, `git grep PATTERN ID` and `git cat-file --filters --path=x ID` printed the secret's
 * content under its id, which names no file, and `git show TAG` of a tag pointing at a blob
 * printed it raw (shell/git-object-shows.ts, git-object-output.ts). `git show` of a commit, a
 * tag, a tree and HEAD still work.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chownLoginTree, commitSecretRepo, gitSync, TEST_AUTHOR } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';
import { sshAllowPolicy } from '../support/ssh-warden.js';

const KEY = `5d3f9e1b2c${String(process.pid).padStart(6, '0')}aa77`;
const TOKEN = `hvs.CAESIobj${process.pid}vaultTOKEN`;
let REPO = '';
let TOKEN_ID = '';
let KEY_ID = '';
let README_ID = '';
let COMMIT = '';
let TREE = '';
let TAG = '';
let BLOBNOTE = '';

const host = sshTreeWarden('wgitobj-', (sshd, base) => {
  REPO = join(base, 'repo');
  commitSecretRepo(REPO, KEY, TOKEN);
  gitSync(['-C', REPO, ...TEST_AUTHOR, 'tag', '-a', 'v1', '-m', 'release one']);
  const id = (rev: string) => gitSync(['-C', REPO, 'rev-parse', rev]).trim();
  TOKEN_ID = id('HEAD:.vault-token');
  KEY_ID = id('HEAD:config/master.key');
  README_ID = id('HEAD:README');
  COMMIT = id('HEAD');
  TREE = id('HEAD^{tree}');
  TAG = id('v1');
  // Tags of the token's blob (a lightweight one and an annotated one), as a repository may hold.
  gitSync(['-C', REPO, 'tag', 'blobtag', TOKEN_ID]);
  gitSync(['-C', REPO, ...TEST_AUTHOR, 'tag', '-a', 'blobnote', '-m', 'a note', TOKEN_ID]);
  BLOBNOTE = id('blobnote');
  chownLoginTree(base, sshd);
  return sshAllowPolicy('read-repo', `{ git: { paths: ${JSON.stringify([REPO])} }, head: {} }`);
});

const leaks = (out: string) => out.includes(TOKEN) || out.includes(KEY);

describe('ssh_run: git of an object named by its id (a blob id from git ls-tree)', () => {
  test('git ls-tree -r gives the ids; git show of a blob id, in any spelling, never prints the secret', async () => {
    assert.match(await host.sw().ran(`git -C ${REPO} ls-tree -r HEAD`), new RegExp(`${TOKEN_ID}\\t\\.vault-token`));
    for (const rev of [TOKEN_ID, TOKEN_ID.slice(0, 7), `'${TOKEN_ID}^{}'`, `'${TOKEN_ID}^{blob}'`, `'${KEY_ID.slice(0, 10)}^{object}'`, README_ID]) {
      const out = await host.sw().ran(`git -C ${REPO} show ${rev}`);
      assert.ok(!leaks(out), `git show ${rev}: ${out}`);
      assert.ok(!out.includes('hello'), `a blob's content is masked whatever its file: ${out}`);
    }
  });

  test('a tag of a blob, by its name or its id, is masked whole', async () => {
    for (const rev of ['blobtag', 'blobnote', BLOBNOTE, "'blobnote^{}'", '--stat blobtag']) {
      const out = await host.sw().ran(`git -C ${REPO} show ${rev}`);
      assert.equal(out, '***\n', `git show ${rev}`);
    }
  });

  test('a bare id with a custom format, a second object or a pipe after it is refused before running', async () => {
    await host.sw().refused(`git -C ${REPO} show --format=%B ${TOKEN_ID}`, /--format=%B.*git log -1 --format=/);
    await host.sw().refused(`git -C ${REPO} show --oneline ${TOKEN_ID.slice(0, 8)}`, /--oneline/);
    await host.sw().refused(`git -C ${REPO} show ${COMMIT} ${TOKEN_ID}`, /one object/);
    await host.sw().refused(`git -C ${REPO} show HEAD ${TOKEN_ID}`, /one object/);
    await host.sw().refused(`git -C ${REPO} show ${TOKEN_ID} | head -n 5`, /last command/);
    await host.sw().refused(`git -C ${REPO} show --stdin`, /--stdin/);
  });

  test('git diff of two blob ids, git grep in a blob id and git cat-file --filters of one are masked or refused', async () => {
    const diff = await host.sw().ran(`git -C ${REPO} diff ${README_ID} ${TOKEN_ID}`);
    assert.ok(!leaks(diff), diff);
    assert.match(diff, /^diff --git a\/[0-9a-f]+ b\/[0-9a-f]+$/m);
    await host.sw().refused(`git -C ${REPO} grep -e hvs ${TOKEN_ID}`, /git grep .*by its id/);
    await host.sw().refused(`git -C ${REPO} grep hvs ${TOKEN_ID.slice(0, 7)}`, /git grep .*by its id/);
    await host.sw().refused(`git -C ${REPO} cat-file --filters --path=x ${TOKEN_ID}`, /git cat-file .*by its id/);
  });

  test('git show of HEAD, a commit id (with --stat), a tag and a tree id still print their display', async () => {
    assert.match(await host.sw().ran(`git -C ${REPO} show ${COMMIT} --stat`), new RegExp(`^commit ${COMMIT}\\n[^]*\\.vault-token +\\| 1 \\+`));
    const byId = await host.sw().ran(`git -C ${REPO} show ${COMMIT.slice(0, 7)}`);
    assert.match(byId, /^commit [0-9a-f]{40}\n/);
    assert.match(byId, /\+\+\+ b\/\.vault-token\n@@ -0,0 \+1 @@\n\+\*\*\*/);
    assert.ok(!leaks(byId), byId);
    assert.match(await host.sw().ran(`git -C ${REPO} show HEAD --stat`), /^commit [0-9a-f]{40}/);
    assert.match(await host.sw().ran(`git -C ${REPO} show --oneline -s HEAD`), /add keys/);
    assert.match(await host.sw().ran(`git -C ${REPO} show --oneline -s v1`), /add keys/);
    assert.match(await host.sw().ran(`git -C ${REPO} show v1 | head -n 1`), /^tag v1\n$/);
    const tag = await host.sw().ran(`git -C ${REPO} show v1 --stat`);
    assert.match(tag, /^tag v1\nTagger: [^]*release one\n\ncommit [0-9a-f]{40}/);
    const tagById = await host.sw().ran(`git -C ${REPO} show ${TAG} -s`);
    assert.match(tagById, /^tag v1\n[^]*release one/);
    assert.equal(await host.sw().ran(`git -C ${REPO} show ${TREE}`), `tree ${TREE}\n\n.vault-token\nREADME\nconfig/\n`);
    assert.equal(await host.sw().ran(`git -C ${REPO} show HEAD:README`), 'hello\n');
    assert.match(await host.sw().ran(`git -C ${REPO} diff ${COMMIT}^ ${COMMIT} --stat`), /2 files changed/);
    // git grep in a bare id is refused (it may be a blob's); the id peeled to a commit names each file.
    assert.match(await host.sw().ran(`git -C ${REPO} grep -n hello '${COMMIT}^{commit}'`), /:README:1:hello$/m);
    assert.match(await host.sw().ran(`git -C ${REPO} grep -n hello HEAD`), /^HEAD:README:1:hello$/m);
  });
});
