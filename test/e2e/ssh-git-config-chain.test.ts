/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd and the host's git): a
 * repository under a granted folder whose `.git/config` names commands (`diff.x.textconv` with
 * `.gitattributes` `* diff=x`, `core.fsmonitor`, `diff.external`). The test plants it itself, as a
 * grant that writes under its paths could have, to test layer 2 alone: git run through ssh_run
 * (`log -p`, `status`, `diff`, `show`) never runs them, while the control shows the plant is real.
 * Layer 1: the writes that would plant it (`sort -o`, `uniq IN OUT`, tar) are refused before any
 * session starts.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot } from '../support/system-deps.js';
import { asLoginUser, chownLoginTree, gitSync } from '../support/git-tree.js';
import { sshTreeWarden } from '../support/ssh-tree-warden.js';

let BASE = '';
let DATA = '';
let REPO = '';
let MARKS = '';
let CONFIG = '';

const git = gitSync;
const chownTree = (p: string): void => chownLoginTree(p, host.sshd());
const marks = () => readdirSync(MARKS).sort();

const host = sshTreeWarden('wgit-', async (_sshd, base) => {
  BASE = base;
  DATA = join(BASE, 'data');
  REPO = join(DATA, 'repo');
  MARKS = join(BASE, 'marks');
  mkdirSync(REPO, { recursive: true });
  mkdirSync(MARKS);
  chmodSync(MARKS, 0o777);
  git(['init', '-q', REPO]);
  const c = (k: string, v: string) => git(['-C', REPO, 'config', k, v]);
  c('user.email', 't@example.com');
  c('user.name', 't');
  writeFileSync(join(REPO, 'f.txt'), 'one\n');
  git(['-C', REPO, 'add', 'f.txt']);
  git(['-C', REPO, 'commit', '-qm', 'one']);
  writeFileSync(join(REPO, 'f.txt'), 'one\ntwo\n');
  git(['-C', REPO, 'commit', '-qam', 'two']);
  writeFileSync(join(REPO, 'f.txt'), 'one\ntwo\nthree\n'); // a change in the work tree, for status and diff
  // What a planted configuration names: each command leaves a marker when it runs.
  writeFileSync(join(REPO, '.gitattributes'), '* diff=x\n');
  c('diff.x.textconv', `sh -c 'touch ${MARKS}/textconv; cat "$0"'`);
  c('core.fsmonitor', `sh -c 'touch ${MARKS}/fsmonitor'`);
  c('diff.external', `sh -c 'touch ${MARKS}/external'`);
  c('core.pager', `sh -c 'touch ${MARKS}/pager; cat'`);
  CONFIG = readFileSync(join(REPO, '.git', 'config'), 'utf8');
  writeFileSync(join(DATA, 'a'), 'x\n');
  chownTree(BASE);
  const P = JSON.stringify([DATA]);
  const policy = `
rules:
  - id: writers-and-git
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs:
        git: { paths: ${P}, subcommands: [log, show, diff, status] }
        sort: { paths: ${P} }
        uniq: { paths: ${P} }
        tar: { paths: ${P} }
        date: {}
  - id: no-shells
    effect: deny
    tool: ssh_run
    shell: { programs: { sh: {}, bash: {}, touch: {} } }
`;
  return policy;
});

/** Refused before any session reached the host (SshWarden.refused). */
const refused = (command: string, mentions: RegExp): Promise<void> => host.sw().refused(command, mentions);

const ran = (command: string): Promise<string> => host.sw().ran(command);

describe('ssh_run: a repository configuration planted under a granted folder runs nothing', () => {
  test('control: the login user running git itself runs the planted commands', () => {
    const as = asLoginUser(host.sshd(), BASE, isRoot());
    git(['-C', REPO, 'log', '-p', '-1'], as);
    git(['-C', REPO, 'status'], as);
    git(['-C', REPO, 'diff'], as);
    assert.deepEqual(marks(), ['external', 'fsmonitor', 'textconv'], 'the plant is real');
    for (const m of marks()) rmSync(join(MARKS, m));
  });

  test('layer 2: git log -p, status, diff and show through ssh_run run none of them', async () => {
    const log = await ran(`git -C ${REPO} log -p`);
    assert.match(log, /^\+two$/m, 'the diff is shown, without textconv');
    const status = await ran(`git -C ${REPO} status --short`);
    assert.match(status, /f\.txt/);
    assert.match(await ran(`git -C ${REPO} diff`), /^\+three$/m);
    assert.match(await ran(`git -C ${REPO} diff 'HEAD~1'`), /^\+two$/m);
    assert.match(await ran(`git -C ${REPO} show HEAD --stat`), /f\.txt \| 1 \+/);
    assert.match(await ran(`git -C ${REPO} log -5 --oneline`), /two\n.*one/);
    assert.deepEqual(marks(), [], 'no command the repository configuration names ran');
  });

  test("layer 2: the agent's own -c and --ext-diff are refused", async () => {
    await refused(`git -C ${REPO} -c core.fsmonitor=true status`, /sets a key that makes git run code/);
    await refused(`git -C ${REPO} diff --ext-diff`, /--ext-diff.* can run a program/);
    assert.deepEqual(marks(), []);
  });

  test('layer 1: the writes that would plant the configuration are refused', async () => {
    await refused(`date | sort -o ${REPO}/.git/config`, /a file git obeys: a command it names would run later/);
    await refused(`uniq ${DATA}/a ${REPO}/.gitattributes`, /a file git obeys/);
    await refused(`uniq ${DATA}/a ${DATA}/other/.git/config`, /a file git obeys/);
    await refused(`tar -cf ${REPO}/.git/config ${DATA}/a`, /a file git obeys/);
    await refused(`tar -cf ${DATA}/x.tar --transform=s,a,.gitconfig, ${DATA}/a`, /renames the members it writes/);
    await refused(`tar -xf ${DATA}/x.tar -C ${DATA}`, /extraction into a folder writes names only the archive knows/);
    assert.equal(readFileSync(join(REPO, '.git', 'config'), 'utf8'), CONFIG);
    assert.equal(existsSync(join(DATA, 'other')), false);
    // Writes elsewhere under the paths still run.
    await ran(`date | sort -o ${DATA}/sorted.txt`);
    assert.equal(existsSync(join(DATA, 'sorted.txt')), true);
  });
});
