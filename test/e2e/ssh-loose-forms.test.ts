/**
 * End to end: `cat` of files whose secrets sit in the name-value forms the masker used to miss (a
 * bare `password x` / `Password<TAB>x` config line, Dockerfile's legacy `ENV NAME value`,
 * Makefile `:=`/`?=`/`+=`, URL-encoded `password%3Dx` and `user[password]=x` in a request log, a
 * name, `=` and value on separate lines, an ini value on an indented line, a properties `\`
 * continuation) through `warden serve` and a real sshd: neither the agent's answer nor the
 * transcript database holds the value, the other lines come back as they are, and a file of
 * look-alikes (prose with the word password, sshd_config) comes back byte for byte.
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
  msmtprc: ['account default\nhost smtp.example.com\nuser alice\npassword hunter2-msmtp\n', 'account default\nhost smtp.example.com\nuser alice\npassword ***\n'],
  'tool.conf': ['Host db\n\tPassword\thunter2-tab\n\tPort 22\n', 'Host db\n\tPassword\t***\n\tPort 22\n'],
  Dockerfile: ['FROM alpine\nENV DB_HOST db\nENV DB_PASSWORD hunter2-docker\nARG API_TOKEN=hunter2-arg\n', 'FROM alpine\nENV DB_HOST db\nENV DB_PASSWORD ***\nARG API_TOKEN=***\n'],
  Makefile: ['CC := gcc\nDB_PASSWORD := hunter2-make\nAPI_KEY ?= hunter2-make2\nFLAGS += -O2\n', 'CC := gcc\nDB_PASSWORD := ***\nAPI_KEY ?= ***\nFLAGS += -O2\n'],
  'access.log': [
    'POST /login body=user%3Dalice%26password%3Dhunter2-enc%26remember%3D1\nPOST /signup user[name]=bob&user[password]=hunter2-rails\n',
    'POST /login body=user%3Dalice%26password%3D***%26remember%3D1\nPOST /signup user[name]=bob&user[password]=***\n',
  ],
  'split.txt': ['PASSWORD\n=\nhunter2-split\nHOST\n=\ndb\n', 'PASSWORD\n=\n***\nHOST\n=\ndb\n'],
  'app.ini': ['[db]\npassword =\n    hunter2-ini\nhost = db\n', '[db]\npassword =\n    ***\nhost = db\n'],
  'app.properties': ['db.password=abc\\\n    hunter2-cont\ndb.user=bob\n', 'db.password=***\ndb.user=bob\n'],
};
const LOOKALIKES =
  'Enter password for user:\npsql: FATAL:  password authentication failed for user "alice"\n# password is rotated daily\nPasswordAuthentication no\nPermitEmptyPasswords no\nENV PATH /usr/local/bin:$PATH\nCFLAGS += -O2\nGET /search?q=hello%3Dworld\nHOST =\n    db\n';

let sshd: Sshd;
let s: SshWarden;
let BASE = '';

before(async () => {
  sshd = await startSshd();
  const files: Record<string, string> = { 'lookalikes.txt': LOOKALIKES };
  for (const [f, [text]] of Object.entries(FILES)) files[f] = text;
  BASE = loginFolder(sshd, 'wsshloose-', files, 0o755);
  s = await startSshWarden(sshd, sshAllowPolicy('sre', `{ cat: { paths: [${JSON.stringify(BASE)}] } }`));
});

after(async () => {
  await s?.close();
  await sshd?.stop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: secrets in loose name-value forms are masked', () => {
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
      assert.match(dump, /ENV DB_PASSWORD \*\*\*/, 'the masked output was recorded');
      assert.ok(!dump.includes(LEAK), 'the transcript leaks a secret value');
    } finally {
      db.close();
    }
  });
});
