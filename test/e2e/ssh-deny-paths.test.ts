/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd): a grant of cp, cat and
 * tar with a deny on a repository's `.git` folder. `cp -r REPO OUT` copied `.git/config` where
 * any cat reads it, and `cat` of a relative path from the login folder read it without naming
 * the denied prefix. Now both are refused before any session reaches the host, nothing is
 * copied, and copies beside the denied folder still run.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { isRoot } from '../support/system-deps.js';
import { loginFolder, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let REPO = '';
/** The session's current folder: the login user's home (`/` for the dedicated test user). */
const HOME = isRoot() ? '/' : homedir();
const SECRET = 'url = https://deploy:s3cr3t-token@git.example/repo.git';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wdeny-', { 'repo/README': 'readme\n', 'repo/.git/config': `[remote "origin"]\n\t${SECRET}\n` });
  REPO = join(BASE, 'repo');
  const policy = `
rules:
  - id: copy-and-read
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell: { programs: { cp: {}, cat: {}, tar: {}, pwd: {} } }
  - id: no-git-folder
    effect: deny
    tool: ssh_run
    shell: { programs: { cp: { paths: [${REPO}/.git] }, cat: { paths: [${REPO}/.git] }, tar: { paths: [${REPO}/.git] } } }
`;
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: a deny on a folder holds against whole-folder copies and relative names', () => {
  test('the login folder is the home, and the denied file is reachable by a relative name from it', async () => {
    assert.equal(await sw.ran('pwd'), `${HOME}\n`);
    await sw.refused(`cat ${REPO}/.git/config`, /no-git-folder/);
  });

  test('cp -r, cp -a and tar -c of the repository are refused before any session; nothing is copied', async () => {
    const out = join(BASE, 'out');
    await sw.refused(`cp -r ${REPO} ${out}`, /no-git-folder[\s\S]*which holds/);
    await sw.refused(`cp -a ${REPO}/ ${out}`, /no-git-folder[\s\S]*which holds/);
    await sw.refused(`tar -C ${BASE} -cf ${BASE}/repo.tar repo`, /no-git-folder[\s\S]*which holds/);
    assert.equal(existsSync(out), false, 'nothing was copied');
    assert.equal(existsSync(join(BASE, 'repo.tar')), false, 'no archive was written');
  });

  test('a relative name that reaches the denied file is refused; the file is never printed', async () => {
    const rel = relative(HOME, join(REPO, '.git', 'config'));
    await sw.refused(`cat ${rel}`, /no-git-folder[\s\S]*is relative: it resolves in a folder Warden does not know/);
  });

  test('copies beside the denied folder still run', async () => {
    await sw.ran(`cp ${REPO}/README ${BASE}/readme-copy`);
    assert.equal(await sw.ran(`cat ${BASE}/readme-copy`), 'readme\n');
  });
});
