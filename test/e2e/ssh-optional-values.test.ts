/**
 * End to end (warden serve, the real MCP client, a real OpenSSH sshd): an option whose value is
 * optional (`journalctl -b`/`--boot`, `-n`/`--lines`, `date -I`) takes it only attached (`-b-1`,
 * `--lines=5`, `-Idate`; journalctl also takes a next word that reads as a boot or a count). The
 * option models read the next word as its value anyway, so it was judged by no one: `date -I -f
 * FILE` printed a file outside paths: in its error (`invalid date 'hunter2'`), `journalctl -n
 * --directory=DIR` read journals there, `-b --cursor-file=F` wrote F, and `-n --vacuum-size=1`
 * or `-b --rotate`, always denied, passed. Now the next word stays a word of its own. Also:
 * journalctl's `-M`, `--namespace` and `-m` read journals no word names: refused under paths:.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const run = promisify(execFile);
const SECRET = `hunter2-${process.pid}-optional`;
let sshd: Sshd;
let sw: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wroptval-', {
    'app/dates': '2020-01-02\n',
    'outside/secret': `${SECRET}\n`,
    'journal/.keep': '',
  });
  const policy = sshAllowPolicy('inspect', `{ date: { paths: [${BASE}/app] }, journalctl: { paths: [${BASE}/journal] } }`);
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: an optional value is not the next word', () => {
  test('control: date -I -f FILE reads FILE (and prints it in its error)', async () => {
    const r = await run('date', ['-I', '-f', `${BASE}/outside/secret`]).catch((e: { stderr: string }) => e);
    assert.match(r.stderr, new RegExp(SECRET));
  });

  test('date -I -f outside paths: is refused before any session', async () => {
    await sw.refused(`date -I -f ${BASE}/outside/secret`, /outside/);
    await sw.refused(`date -I --file=${BASE}/outside/secret`, /outside/);
  });

  test('journalctl -b/-n before another option: that option is judged', async () => {
    await sw.refused(`journalctl -n --directory=${BASE}/outside`, /outside/);
    await sw.refused(`journalctl -b --cursor-file=${BASE}/outside/cur`, /outside/);
    await sw.refused(`journalctl --lines --root=/`, /outside/);
    await sw.refused('journalctl -n --vacuum-size=1', /deletes or writes journal files/);
    await sw.refused('journalctl -b --rotate', /deletes or writes journal files/);
    await sw.refused('journalctl --boot --flush', /deletes or writes journal files/);
  });

  test('journalctl -M, --namespace, -m read journals no prefix holds: refused under paths:', async () => {
    await sw.refused('journalctl -m -n 5', /reads journals/);
    await sw.refused('journalctl -n --merge', /reads journals/);
    await sw.refused('journalctl --namespace=audit -n 5', /reads journals/);
    await sw.refused('journalctl -b -Mweb', /reads journals/);
  });

  test('neighbours: attached and detached values still run', async () => {
    assert.equal(await sw.ran(`date -I -f ${BASE}/app/dates`), '2020-01-02\n');
    assert.equal(await sw.ran('date -Idate -d 2020-01-02'), '2020-01-02\n');
    assert.match(await sw.ran(`journalctl -n 5 --directory=${BASE}/journal`), /No entries/);
    assert.match(await sw.ran(`journalctl --lines=5 -D ${BASE}/journal --no-pager`), /No entries/);
    const r = await sw.run(`journalctl -b -1 -n 5 -D ${BASE}/journal`);
    assert.equal(r.isError, false, r.text);
  });
});
