/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd with the real GNU tar and
 * patch): lines the file models read differently from the program. `tar -x -f A --xattrs-include
 * -O` looked like an extraction to standard output, yet `-O` is the value of `--xattrs-include`
 * and tar extracted into the login folder; `patch FILE PATCH` with a git-style `rename to NAME`
 * moved FILE to NAME in the login folder although a file to patch was named. Both ran under
 * `paths: [DATA]`; now they are refused before any session and nothing lands in the home.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { isRoot } from '../support/system-deps.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let DATA = '';
/** The session's current folder: the login user's home (`/` for the dedicated test user). */
const HOME = isRoot() ? '/' : homedir();
/** Names no home holds: their absence after the calls means nothing was written there. */
const FRESH = `warden-dis-${randomBytes(6).toString('hex')}`;
const MOVED = `${FRESH}-moved`;

before(async () => {
  sshd = await startSshd();
  const rename = (to: string) => `diff --git a/x b/${to}\nsimilarity index 100%\nrename from x\nrename to ${to}\n`;
  BASE = loginFolder(sshd, 'wdis-', { 'data/seed': 'echo pwned\n', 'data/keep': 'keep\n', 'data/p.diff': rename(MOVED), 'data/o.diff': rename('n') }, 0o755);
  DATA = join(BASE, 'data');
  // An archive whose one member is FRESH, as a tar the host's tar reads.
  const src = mkdtempSync(join(tmpdir(), 'wdis-src-'));
  writeFileSync(join(src, FRESH), 'planted\n');
  execFileSync('tar', ['-c', '-f', join(DATA, 'a.tar'), '-C', src, FRESH]);
  chownToLogin(join(DATA, 'a.tar'), sshd);
  rmSync(src, { recursive: true, force: true });
  const P = JSON.stringify({ paths: [DATA] });
  sw = await startSshWarden(sshd, sshAllowPolicy('models-under-paths', `{ tar: ${P}, patch: ${P}, jq: {}, cat: ${P} }`));
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
  for (const n of [FRESH, MOVED]) rmSync(join(HOME, n), { force: true });
});

describe('ssh_run: the file models read a line as the program does', () => {
  test('tar: a -O that is the value of --xattrs-include is no extraction to standard output; nothing lands in the home', async () => {
    await sw.refused(`tar -x -f ${DATA}/a.tar --xattrs-include -O`, /tar file argument '\.' is not an absolute path: it would resolve in the login folder/);
    assert.equal(existsSync(join(HOME, FRESH)), false, 'the member was not extracted into the login folder');
    // A real extraction to standard output still runs.
    assert.equal(await sw.ran(`tar -x -O -f ${DATA}/a.tar --xattrs-include 'user.*'`), 'planted\n');
  });

  test('patch: a git-style rename with a file to patch named is refused in place; with -o it writes the output', async () => {
    await sw.refused(`patch ${DATA}/seed ${DATA}/p.diff`, /patch writes the names a git-style patch .* gives in rename to and copy to lines/);
    assert.equal(existsSync(join(HOME, MOVED)), false, 'the file was not moved into the login folder');
    assert.equal(readFileSync(join(DATA, 'seed'), 'utf8'), 'echo pwned\n', 'the file patched is still there');
    await sw.ran(`patch -o ${DATA}/out ${DATA}/keep ${DATA}/o.diff`);
    assert.equal(readFileSync(join(DATA, 'out'), 'utf8'), 'keep\n');
    assert.equal(existsSync(join(HOME, 'n')), false);
  });

  test("jq: '$ #comment' NEWLINE 'ENV' reads the environment and is refused", async () => {
    await sw.refused("jq -n '$ #c\nENV'", /jq reads the environment \(\$ENV\), which may hold secrets/);
  });
});
