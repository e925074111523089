/**
 * End to end (`warden serve`, the real MCP client, a real OpenSSH sshd): short options' attached
 * values and writes to devices. `ln -sSxt DATA/x` is `-S xt` (a backup suffix) and one operand,
 * so ln links into the login folder, the remote user's home: findFlag used to read the `t` of the
 * cluster as `-t DIR`, and the link went unjudged under `paths: [DATA]`. `grep -Dread PATTERN
 * FILE` (`-D read`) was refused for its pattern read as a file. A program that shows a device's
 * metadata changes it in its other forms (`blockdev --setro`), and a copy into /dev lands on a
 * device under its source's name (`cp DATA/loop0 /dev`): refused under a grant of /dev, before
 * any session starts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { isRoot } from '../support/system-deps.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let DATA = '';
const HOME = isRoot() ? '/' : homedir();
/** A name no home holds, so its absence after the calls means nothing was linked there. */
const FRESH = `warden-dev-${randomBytes(6).toString('hex')}`;

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wdev-', { 'data/seed': 'needle in a haystack\n', 'data/links/.keep': '' }, 0o755);
  DATA = join(BASE, 'data');
  const P = JSON.stringify({ paths: [DATA] });
  const D = JSON.stringify({ paths: ['/dev', DATA] });
  sw = await startSshWarden(sshd, sshAllowPolicy('devices-and-values', `{ ln: ${P}, grep: ${P}, blockdev: ${D}, dd: ${D}, cp: ${D} }`));
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
  rmSync(join(HOME, FRESH), { force: true });
});

describe('ssh_run: attached option values and device writes', () => {
  test('ln -sSxt TARGET (a suffix, then one operand) is refused before any session; nothing lands in the home', async () => {
    for (const command of [`ln -sSxt ${DATA}/${FRESH}`, `ln -s -S -t ${DATA}/${FRESH}`]) {
      await sw.refused(command, /'\.' is not an absolute path: it would resolve in the login folder/);
    }
    assert.equal(existsSync(join(HOME, FRESH)), false);
    // The neighbour: -t names the folder the link goes into.
    await sw.ran(`ln -s -t ${DATA}/links ${DATA}/seed`);
    assert.equal(lstatSync(join(DATA, 'links', 'seed')).isSymbolicLink(), true);
  });

  test('grep -Dread PATTERN FILE runs: the pattern is no file', async () => {
    assert.equal(await sw.ran(`grep -Dread needle ${DATA}/seed`), 'needle in a haystack\n');
    assert.equal(await sw.ran(`grep -dread -c needle ${DATA}/seed`), '1\n');
  });

  test("blockdev's writing forms and dd of= a device are refused under a grant of /dev; its read-only form runs", async () => {
    for (const command of ['blockdev --setro /dev/loop0', 'blockdev --getsz --flushbufs /dev/loop0', `dd if=${DATA}/seed of=/dev/loop0`]) {
      await sw.refused(command, /reaches '\/dev\/loop0', a storage device.*a grant reaches it only when its paths: name \/dev\/loop0/);
    }
    // A copy into /dev lands under its source's name: cp writes into the device /dev/loop0.
    await sw.refused(`cp ${DATA}/links/loop0 /dev`, /cp writes '\/dev\/loop0' \(it copies .* into '\/dev' under its own name\), a storage device/);
    // Not refused: it reaches the host (whose login user may not have /usr/sbin on its PATH).
    const r = await sw.run('blockdev --report');
    assert.equal(r.isError, false, r.text);
  });
});
