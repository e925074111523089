/**
 * End to end: a read-only tar grant with `paths:` (through `warden serve`, the real MCP client and
 * a real OpenSSH sshd). `tar -xf ARCHIVE` under the paths used to be allowed, yet it writes the
 * names the archive holds into the session's current folder (the login user's home), outside the
 * paths: a planted archive whose member is `tmp/.../pwned-tar` lands a file there. Now refused
 * before any session starts, and the marker never appears; the control shows the plant is real,
 * and listing and extraction to standard output still run. Extraction into `-C DIR` under the
 * paths is refused too: the names it writes may be a file git obeys (ssh-git-config-chain.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { isRoot } from '../support/system-deps.js';
import { startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let DATA = '';
/** The archive member, relative: where it lands depends on the folder tar extracts in. */
let MEMBER = '';
/** The session's current folder: the login user's home (`/` for the dedicated test user). */
const HOME = isRoot() ? '/' : homedir();

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wrog-'));
  chmodSync(BASE, 0o777);
  DATA = join(BASE, 'data');
  mkdirSync(DATA);
  writeFileSync(join(BASE, 'payload'), 'planted\n');
  MEMBER = `${relative('/', BASE)}/pwned-tar`;
  const made = spawnSync('tar', ['-cf', join(DATA, 'plant.tar'), '-C', BASE, `--transform=s,^payload$,${MEMBER},`, 'payload'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  for (const p of [BASE, DATA, join(DATA, 'plant.tar')]) chownToLogin(p, sshd);
  const P = JSON.stringify([DATA]);
  const policy = `
rules:
  - id: read-only
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs: { tar: { paths: ${P} }, date: { paths: ${P} }, ls: { paths: ${P} } }
  - id: no-shells
    effect: deny
    tool: ssh_run
    shell: { programs: { rm: {}, sh: {}, bash: {} } }
`;
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
  // The control's copy in a non-root user's home mirrors BASE's path there.
  if (HOME !== '/' && BASE) rmSync(join(HOME, relative('/', BASE)), { recursive: true, force: true });
});

/** Refused before any session reached the host (SshWarden.refused). */
const refused = (command: string, mentions: RegExp): Promise<void> => sw.refused(command, mentions);

const ran = (command: string): Promise<string> => sw.ran(command);

describe('ssh_run: a read-only tar grant does not extract outside its paths', () => {
  const marker = () => join(HOME, MEMBER);

  test('control: extracting the planted archive in the home folder writes the marker', () => {
    const r = spawnSync('tar', ['-xf', join(DATA, 'plant.tar')], { cwd: HOME, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(marker()), true, 'the archive really writes outside the paths');
    rmSync(marker());
  });

  test('tar -xf of an archive under paths: is refused; the marker never appears', async () => {
    const archive = join(DATA, 'plant.tar');
    await refused(`tar -xf ${archive}`, /'\.' is not an absolute path/);
    await refused(`tar xvf ${archive}`, /'\.' is not an absolute path/);
    await refused(`tar --ext --file=${archive}`, /'\.' is not an absolute path/);
    await refused(`tar -xPf ${archive} -C ${DATA}`, /path '\/' is outside/);
    await refused(`tar -xf ${archive} -C tmp`, /'tmp' is not an absolute path/);
    await refused(`date -s 2001-01-01`, /sets the system clock/);
    assert.equal(existsSync(marker()), false, 'nothing was extracted outside the paths');
  });

  test('listing and extraction to stdout still run; extraction into -C under paths: is refused', async () => {
    const archive = join(DATA, 'plant.tar');
    assert.equal(await ran(`tar -tf ${archive}`), `${MEMBER}\n`);
    assert.equal(await ran(`tar -xOf ${archive}`), 'planted\n');
    await refused(`tar -xf ${archive} -C ${DATA}`, /extraction into a folder writes names only the archive knows/);
    assert.equal(existsSync(join(DATA, MEMBER)), false, 'nothing extracted under the granted folder either');
    assert.equal(existsSync(marker()), false);
  });
});
