/**
 * End to end (warden serve, the real MCP client, a real OpenSSH sshd): files that ARE a secret,
 * with no name beside it. A grant of `cat`/`grep` over an application folder printed Rails'
 * `config/master.key` (32 hex digits) and a `.vault-token` as they are: output masking reads
 * names, and these files hold only the value. Now a read of a well-known bare-secret file
 * (shell/secret-files.ts) is refused before any session starts, naming it, unless the grant's
 * paths: name it; formats with a shape (strongSwan's `ipsec.secrets`, PHP's `define()`) are masked.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

const KEY = `9f86d081884c7d659a2fea0c55ad${String(process.pid).padStart(4, '0').slice(-4)}`;
const TOKEN = `hvs.CAESIrt${process.pid}vaultTOKEN`;
const PSK = `psk-${process.pid}-hunter2`;
const WP = `wp-${process.pid}-hunter2`;
let sshd: Sshd;
let broad: SshWarden;
let named: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  BASE = loginFolder(sshd, 'wrbare-', {
    'app/config/master.key': `${KEY}\n`,
    'app/config/app.yml': 'host: db.internal\n',
    'home/.vault-token': TOKEN,
    'etc/ipsec.secrets': `# strongSwan\n%any %any : PSK "${PSK}"\n`,
    'app/wp-config.php': `<?php\ndefine('DB_NAME', 'wordpress');\ndefine('DB_PASSWORD', '${WP}');\n`,
  });
  const P = `{ paths: [${BASE}] }`;
  [broad, named] = await Promise.all([
    startSshWarden(sshd, sshAllowPolicy('broad', `{ cat: ${P}, grep: ${P}, tar: ${P}, ls: ${P} }`)),
    startSshWarden(sshd, sshAllowPolicy('named', `{ cat: { paths: [${BASE}/app/config/master.key] } }`)),
  ]);
});

after(async () => {
  await broad?.close();
  await named?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: a file that is itself a secret', () => {
  test('cat of master.key or .vault-token is refused before any session, naming the file', async () => {
    await broad.refused(`cat ${BASE}/app/config/master.key`, /master\.key', a file that is itself a secret.*paths: name it/);
    await broad.refused(`cat ${BASE}/home/.vault-token`, /\.vault-token', a file that is itself a secret/);
  });

  test('the rest of the folder still reads; a listing shows the names', async () => {
    assert.equal(await broad.ran(`cat ${BASE}/app/config/app.yml`), 'host: db.internal\n');
    assert.match(await broad.ran(`ls ${BASE}/app/config`), /master\.key/);
  });

  test('a grant whose paths: name the secret file reads it', async () => {
    assert.equal(await named.ran(`cat ${BASE}/app/config/master.key`), `${KEY}\n`);
  });

  test('ipsec.secrets and wp-config.php: the secrets are masked, the rest shown', async () => {
    const ipsec = await broad.ran(`cat ${BASE}/etc/ipsec.secrets`);
    assert.equal(ipsec, '# strongSwan\n%any %any : PSK ***\n');
    const wp = await broad.ran(`grep define ${BASE}/app/wp-config.php ${BASE}/app/config/app.yml`);
    assert.ok(!wp.includes(WP) && wp.includes(`wp-config.php:define('DB_PASSWORD', ***);`) && wp.includes("'wordpress'"), wp);
  });
});
