/**
 * End to end: `cat` of config files whose secret follows its key with a blank or sits at a
 * position (redis.conf, .netrc, .pgpass, Postfix sasl_passwd, htpasswd, a properties key with a
 * blank, wpa_supplicant's psk, .git-credentials) through `warden serve` and a real sshd: neither
 * the agent's answer nor the transcript database holds the value, the other lines come back as
 * they are, and a file of look-alikes comes back byte for byte.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { startSshd, type Sshd } from '../support/sshd.js';
import { loginFolder, sshAllowPolicy, startSshWarden, type SshWarden } from '../support/ssh-warden.js';

/** Every secret below holds this; nothing else in the test does. */
const LEAK = 'hunter2';

const FILES: Record<string, [string, string]> = {
  'redis.conf': ['port 6379\nrequirepass hunter2-redis\nmasterauth "hunter2 master"\n', 'port 6379\nrequirepass ***\nmasterauth ***\n'],
  '.netrc': ['machine db.example.com login alice password hunter2-netrc\nmachine h2\n  login bob\n  password hunter2-two\n', 'machine db.example.com login alice password ***\nmachine h2\n  login bob\n  password ***\n'],
  '.pgpass': ['db.internal:5432:shop:alice:hunter2-pg\n*:*:*:bob:hunter2\\:colon\n', 'db.internal:5432:shop:alice:***\n*:*:*:bob:***\n'],
  sasl_passwd: ['[smtp.example.com]:587 alice@example.com:hunter2-sasl\n', '[smtp.example.com]:587 alice@example.com:***\n'],
  htpasswd: ['alice:$apr1$hunter2$0123456789abcdefghijkl\n', 'alice:***\n'],
  'app.properties': ['db.user alice\ndb.password hunter2-props\n', 'db.user alice\ndb.password ***\n'],
  'wpa_supplicant.conf': ['network={\n  ssid="home"\n  psk="hunter2-wifi"\n}\n', 'network={\n  ssid="home"\n  psk=***\n}\n'],
};
const LOOKALIKES = 'root:x:0:0:root:/root:/bin/bash\n10:20:30\nexample.com smtp:[relay.example.com]:587\nssl_session_cache shared:SSL:10m;\npassword reset for alice\n';

let sshd: Sshd;
let s: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  const files: Record<string, string> = { 'lookalikes.txt': LOOKALIKES, '.git-credentials': 'https://alice:hunter2-git@git.example.com\n' };
  for (const [f, [text]] of Object.entries(FILES)) files[f] = text;
  BASE = loginFolder(sshd, 'wsshcfg-', files, 0o755);
  s = await startSshWarden(sshd, sshAllowPolicy('sre', `{ cat: { paths: [${JSON.stringify(BASE)}] } }`));
});

after(async () => {
  await s?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: secrets in config-file formats are masked', () => {
  test('cat of each file: the secret is masked, the rest of the file stays', async () => {
    for (const [f, [, want]] of Object.entries(FILES)) {
      const r = await s.run(`cat ${BASE}/${f}`);
      assert.equal(r.isError, false, `${f}: ${r.text}`);
      const out = r.structured as { stdout: string; notes?: string[] };
      assert.ok(!(r.text + JSON.stringify(r.structured)).includes(LEAK), `${f} leaks:\n${r.text}`);
      assert.equal(out.stdout, want, f);
      assert.ok(out.notes?.some((n) => /masked/.test(n)), `${f}: a note says so: ${JSON.stringify(out.notes)}`);
    }
  });

  test('.git-credentials: the password in the URL is masked', async () => {
    const r = await s.run(`cat ${BASE}/.git-credentials`);
    assert.equal(r.isError, false, r.text);
    assert.ok(!(r.text + JSON.stringify(r.structured)).includes(LEAK), `.git-credentials leaks:\n${r.text}`);
    assert.match((r.structured as { stdout: string }).stdout, /^https:\/\/alice:.+@git\.example\.com\n$/);
  });

  test('look-alikes come back byte for byte', async () => {
    assert.equal(await s.ran(`cat ${BASE}/lookalikes.txt`), LOOKALIKES);
  });

  test('the transcript database holds no secret value', () => {
    const db = new Database(s.dir.dbPath, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const dump = tables
        .map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))
        .join('\n');
      assert.match(dump, /requirepass \*\*\*/, 'the masked output was recorded');
      assert.ok(!dump.includes(LEAK), 'the transcript leaks a secret value');
    } finally {
      db.close();
    }
  });
});
