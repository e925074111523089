/**
 * End to end (warden serve, the real MCP client, a real OpenSSH sshd), red team of reads whose
 * reach holds a file that is itself a secret without naming it: `grep -r . APP` printed
 * `APP/config/master.key:<key>`, `tar cf - APP` and `zip -r - APP` carried it whole, and a
 * RabbitMQ `.erlang.cookie` (a bare Erlang cookie, a fixed name) printed as it is. Now a read of a
 * folder's whole tree that prints or packs content is refused (a secret known by its base name may
 * lie anywhere under it, and Warden cannot see the host's tree), as is a recursive-by-default
 * searcher (rg, ag, ack) and a grep -r that hides the file names (-h); grep -r itself names the
 * file before each line, so it runs and the lines a secret file's name leads are masked
 * (secret-file-lines.ts); a listing (ls -R) and reads by name still run.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const KEY = `7c4a8d09ca3762af61e59520943d${String(process.pid).padStart(4, '0').slice(-4)}`;
const COOKIE = `ERLCOOKIE${process.pid}QWERTYUIOP`;
const REACH = /whole|recursive/;
let sshd: Sshd;
let broad: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrreach-', {
    'app/config/master.key': `${KEY}\n`,
    'app/config/app.yml': 'host: db.internal\n',
    'rabbit/.erlang.cookie': COOKIE,
  });
  const P = `{ paths: [${BASE}] }`;
  broad = await startSshWarden(sshd, sshAllowPolicy('broad', `{ cat: ${P}, grep: ${P}, tar: ${P}, zip: ${P}, ls: ${P}, rg: ${P} }`));
});

after(async () => {
  await broad?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: a read whose reach holds a bare-secret file', () => {
  test('grep -r, tar -c and zip -r over a folder holding master.key are refused before any session', async () => {
    for (const cmd of [`grep -rh '' ${BASE}/app`, `grep --recursive --no-filename x ${BASE}`, `tar cf - ${BASE}/app`, `zip -r - ${BASE}/app`, `rg host ${BASE}/app`, 'rg host']) {
      await broad.refused(cmd, REACH);
    }
  });

  test('grep -r over the folder runs, and the lines master.key and .erlang.cookie lead are masked by their names', async () => {
    for (const cmd of [`grep -r . ${BASE}`, `grep -rn -A1 '' ${BASE}/app`, `grep -R --null . ${BASE}/rabbit`]) {
      const out = await broad.ran(cmd);
      assert.doesNotMatch(out, new RegExp(`${KEY}|${COOKIE}`), `${cmd}: ${out}`);
      // With --null the name ends at a NUL, which the result shows as a line break (command output is text).
      assert.match(out, /(?:master\.key|\.erlang\.cookie)[:\0\n-]\*\*\*/, cmd);
      if (!cmd.includes('rabbit')) assert.match(out, /app\.yml[:-](?:\d+[:-])?host: db\.internal/, cmd);
    }
  });

  test('a RabbitMQ .erlang.cookie is a bare secret by its name', async () => {
    await broad.refused(`cat ${BASE}/rabbit/.erlang.cookie`, /itself a secret/);
  });

  test('reads by name and listings of the same tree still run', async () => {
    assert.equal(await broad.ran(`grep host ${BASE}/app/config/app.yml`), 'host: db.internal\n');
    assert.match(await broad.ran(`ls -R ${BASE}/app`), /master\.key/);
  });
});
