/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd): writers granted with
 * `paths: [/var/log, DATA]`. A bare relative name (`touch .bashrc`, `chmod 600 authorized_keys`,
 * `dd of=.profile`) resolves in the login folder, the remote user's home, where sshd starts the
 * command: outside every prefix. Writers used to be unmodelled, so only path-like words were
 * judged and such names ran. Now refused before any session starts, and nothing in the home
 * changes; absolute writes under the prefixes still run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { isRoot } from '../support/system-deps.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let DATA = '';
/** The session's current folder: the login user's home (`/` for the dedicated test user). */
const HOME = isRoot() ? '/' : homedir();
/** A name no home holds, so its absence after the calls means nothing was written. */
const FRESH = `warden-rel-${randomBytes(6).toString('hex')}`;
const NAMES = ['.bashrc', '.profile', 'authorized_keys', '.ssh', 'xx00', FRESH];

/** What each name in the home is now (null: absent), to see that the refused calls changed nothing. */
const snapshot = () => NAMES.map((n) => (existsSync(join(HOME, n)) ? `${n}:${statSync(join(HOME, n)).mtimeMs}:${statSync(join(HOME, n)).mode}` : `${n}:-`));

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrel-', { 'data/seed': 'seed\n' }, 0o755);
  DATA = join(BASE, 'data');
  const P = JSON.stringify({ paths: ['/var/log', DATA] });
  const policy = sshAllowPolicy('writers-under-paths', `{ touch: ${P}, chmod: ${P}, ln: ${P}, mkdir: ${P}, cp: ${P}, tee: ${P}, dd: ${P}, jq: ${P}, rsync: ${P}, csplit: ${P}, echo: {}, pwd: {} }`);
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
  rmSync(join(HOME, FRESH), { force: true });
});

const ran = (command: string): Promise<string> => sw.ran(command);

describe('ssh_run: writers under paths: never write a relative name in the login folder', () => {
  test('the login folder is the login user\'s home: relative names resolve there', async () => {
    assert.equal(await ran('pwd'), `${HOME}\n`);
  });

  test('absolute writes under the prefixes still run', async () => {
    await ran(`touch ${DATA}/made`);
    await ran(`chmod 600 ${DATA}/made`);
    await ran(`cp ${DATA}/seed ${DATA}/copy`);
    assert.equal(statSync(join(DATA, 'made')).mode & 0o777, 0o600);
    assert.equal(existsSync(join(DATA, 'copy')), true);
  });

  test('touch .bashrc-style writes are refused before any session; nothing in the home changes', async () => {
    const before = snapshot();
    const relative = /is not an absolute path: it would resolve in the login folder \(the remote user's home\).*write an absolute path under them/;
    for (const command of [
      `touch ${FRESH}`, 'touch authorized_keys', 'touch .bashrc', 'chmod 600 .bashrc', 'chmod -w authorized_keys', `ln -s ${DATA}/seed .profile`,
      `ln -s ${DATA}/seed`, 'mkdir .ssh', `cp ${DATA}/seed .bashrc`, `echo 'echo pwned' | tee -a .bashrc`, `dd if=${DATA}/seed of=${FRESH}`,
      "jq --rawfile s .bashrc -n '$s'",
    ]) {
      await sw.refused(command, relative);
    }
    assert.equal(existsSync(join(HOME, FRESH)), false, 'the fresh name was never created');
    assert.deepEqual(snapshot(), before, 'nothing in the login folder changed');
  });

  test('rsync and csplit (modelled now): a relative destination or piece is refused and does not land; absolute ones run', async () => {
    const before = snapshot();
    const relative = /is not an absolute path: it would resolve in the login folder \(the remote user's home\).*write an absolute path under them/;
    for (const command of [`rsync ${DATA}/seed ${FRESH}`, `rsync -a ${DATA}/seed authorized_keys`, `rsync --log-file=${FRESH} ${DATA}/seed ${DATA}/r2`,
      `csplit ${DATA}/seed 1`]) {
      await sw.refused(command, relative);
    }
    await sw.refused(`rsync --remote-option=--log-file=${FRESH} ${DATA}/seed ${DATA}/r3`, /is not one Warden models/);
    assert.equal(existsSync(join(HOME, FRESH)), false, 'the fresh name was never created');
    assert.equal(existsSync(join(DATA, 'r2')), false, 'the refused rsync copied nothing');
    assert.deepEqual(snapshot(), before, 'nothing in the login folder changed');
    await ran(`rsync -a ${DATA}/seed ${DATA}/synced`);
    assert.equal(readFileSync(join(DATA, 'synced'), 'utf8'), 'seed\n');
    await ran(`csplit -s -f ${DATA}/piece- ${DATA}/seed 1`);
    assert.equal(existsSync(join(DATA, 'piece-00')), true);
  });

  test('ln --suf -t X: getopt_long reads --suf as --suffix, so -t is its value and X links into the login folder: refused', async () => {
    // GNU ln itself, here: the one operand is linked into the current folder, no -t.
    const local = mkdtempSync(join(tmpdir(), 'warden-ln-'));
    try {
      mkdirSync(join(local, 'cwd'));
      const r = spawnSync('ln', ['-s', '--suf', '-t', join(local, 'target')], { cwd: join(local, 'cwd'), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readlinkSync(join(local, 'cwd', 'target')), join(local, 'target'));
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
    const before = snapshot();
    await sw.refused(`ln -sf --su -t ${DATA}/${FRESH}`, /'\.' is not an absolute path: it would resolve in the login folder/);
    assert.deepEqual(snapshot(), before, 'nothing in the login folder changed');
    // Its neighbour: a suffix with its value, and a real target folder.
    await ran(`mkdir ${DATA}/links`);
    await ran(`ln -s --suf .bak -t ${DATA}/links ${DATA}/seed`);
    assert.equal(lstatSync(join(DATA, 'links', 'seed')).isSymbolicLink(), true);
  });
});
