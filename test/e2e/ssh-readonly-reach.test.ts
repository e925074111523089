/**
 * End to end: a "read-only inspection" grant with no `paths:` (awk, sort, uniq, echo, cat; through
 * `warden serve`, the real MCP client and a real OpenSSH sshd). gawk opens a TCP connection for a
 * data-file operand named `/inet/tcp/0/HOST/PORT`, and `sort -o`/`uniq IN OUT` write any file
 * (`echo CMD | sort -o ~/.bashrc` plants a command for the next call). Both used to be allowed; now
 * refused before any session starts: the listener is never reached and the file never appears. The
 * controls show the reach and the write are real; plain reads still run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const run = promisify(execFile);
let sshd: Sshd;
let sw: SshWarden;
let BASE = '';
let listener: Server;
let PORT = 0;
let connections = 0;

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrreach-', { ifaces: 'lo\n    inet 127.0.0.1/8\neth0\n    inet 10.1.2.3/24\n' });
  listener = createServer((socket) => {
    connections++;
    socket.end('banner-from-another-service\n');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  PORT = (listener.address() as AddressInfo).port;
  const policy = sshAllowPolicy('read-only', '{ awk: { rewrites: true }, sort: {}, uniq: {}, echo: {}, cat: {} }');
  sw = await startSshWarden(sshd, policy);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

const ran = (command: string): Promise<string> => sw.ran(command);

describe('ssh_run: a read-only grant without paths: neither reaches another host nor writes', () => {
  test('control: gawk reads a network service for an /inet/tcp operand', async () => {
    const before = connections;
    const r = await run('gawk', ['{print}', `/inet/tcp/0/127.0.0.1/${PORT}`], { timeout: 10_000 });
    assert.equal(r.stdout, 'banner-from-another-service\n');
    assert.equal(connections, before + 1);
  });

  test('awk with an /inet operand is refused; the listener is never reached', async () => {
    const before = connections;
    await sw.refused(`awk '{print}' /inet/tcp/0/127.0.0.1/${PORT}`, /opens a network connection to another host/);
    await sw.refused(`awk -F: 1 -- /inet4/tcp/0/127.0.0.1/${PORT}`, /opens a network connection/);
    assert.equal(connections, before, 'no connection was opened');
    assert.equal(await ran(`awk '/inet/ {print $2}' ${BASE}/ifaces`), '127.0.0.1/8\n10.1.2.3/24\n');
  });

  test('control: sort -o and uniq IN OUT really write the file', async () => {
    const out = join(BASE, 'control-out');
    await run('sort', ['-o', out, join(BASE, 'ifaces')]);
    assert.equal(existsSync(out), true);
    rmSync(out);
  });

  test('sort -o and uniq IN OUT are refused without paths:; nothing is written; reads still run', async () => {
    const planted = join(BASE, '.bashrc');
    await sw.refused(`echo 'touch ${BASE}/pwned' | sort -o ${planted}`, /writes '.*\.bashrc', and this grant has no paths: to bound where/);
    await sw.refused(`echo 'touch ${BASE}/pwned' | uniq - ${planted}`, /writes '.*\.bashrc', and this grant has no paths:/);
    assert.equal(existsSync(planted), false, 'nothing was written');
    assert.match(await ran(`sort -r ${BASE}/ifaces | uniq -c | sort -n | cat`), /eth0/);
  });
});
