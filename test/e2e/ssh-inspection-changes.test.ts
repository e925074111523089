/**
 * End to end (warden serve, the real MCP client, a real OpenSSH sshd): an inspection grant with no
 * `paths:` (xxd, yq, sort, cat). `xxd IN OUT` writes OUT and `yq -i` rewrites its file; both used to
 * be allowed, now refused before any session starts: OUT never appears and the YAML is unchanged.
 * The controls show the writes are real; plain reads still run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const run = promisify(execFile);
let sshd: Sshd;
let sw: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrinspect-', { 'app.yaml': 'replicas: 1\n' });
  sw = await startSshWarden(sshd, sshAllowPolicy('inspect', '{ xxd: { rewrites: true }, yq: { rewrites: true }, sort: {}, cat: {} }'));
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: an inspection grant without paths: does not write through xxd OUT or yq -i', () => {
  test('control: xxd IN OUT and yq -i really write', async () => {
    const copy = join(BASE, 'control.yaml');
    await run('xxd', [join(BASE, 'app.yaml'), join(BASE, 'control-out')]);
    assert.equal(existsSync(join(BASE, 'control-out')), true);
    writeFileSync(copy, 'replicas: 1\n');
    await run('yq', ['-y', '-i', '.replicas=0', copy]);
    assert.equal(readFileSync(copy, 'utf8'), 'replicas: 0\n');
  });

  test('xxd IN OUT and yq -i are refused; nothing is written; reads still run', async () => {
    const out = join(BASE, 'planted');
    await sw.refused(`xxd ${BASE}/app.yaml ${out}`, /xxd writes '.*planted', and this grant has no paths: to bound where/);
    await sw.refused(`yq -y -i .replicas=0 ${BASE}/app.yaml`, /yq writes '.*app\.yaml', and this grant has no paths:/);
    assert.equal(existsSync(out), false, 'xxd wrote nothing');
    assert.equal(readFileSync(join(BASE, 'app.yaml'), 'utf8'), 'replicas: 1\n', 'yq changed nothing');
    const r = await sw.run(`xxd -l 8 ${BASE}/app.yaml | cat`);
    assert.equal(r.isError, false, r.text);
    assert.match((r.structured as { stdout: string }).stdout, /7265 706c 6963 6173/);
  });
});
