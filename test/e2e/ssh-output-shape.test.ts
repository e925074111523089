/**
 * End to end, red team: options of a read-only grant's programs that print part of a line or
 * re-render it cut a secret's value from the name beside it, so the command-output masking
 * (DB_PASSWORD=***) never saw a name. Under a grant of grep, tail and cat on the app folder (as
 * policies/ssh-logs.yaml and kubernetes-debug.yaml grant them), `grep -o '[^=]*$' .env`,
 * `grep PASSWORD .env | tail -c 20`, `tail +13c .env`, `cat -T app.ini` (a tab shown as ^I) and
 * `grep -nT password app.ini` (a line number padded with blanks)
 * printed the bare value through a real sshd. Now such an option is refused unless the grant
 * lists it in allow_flags, and what the grant always allowed still runs and is masked.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';

const LEAK = 'hunter2';
let sshd: Sshd;
let dir: WardenDir;
let w: WardenSession;
let BASE = '';
let APP = '';

const FIXTURES: Record<string, string> = {
  '.env': 'DB_PASSWORD=hunter2-SHAPE-env\nLOG_LEVEL=debug\n',
  'app.ini': '[db]\nhost\t=\tdb.internal\npassword\t=\thunter2-SHAPE-ini\n',
  'app.log': '2024-05-01T10:00:00Z INFO connecting with DB_PASSWORD=hunter2-SHAPE-log\n',
  'app.yaml': 'db:\n  host: db.internal\n  password: |\n    hunter2-SHAPE-block\n  port: 5432\n',
  'key.env': 'TLS_KEY="-----BEGIN PRIVATE KEY-----\nhunter2-SHAPE-pem\n-----END PRIVATE KEY-----"\nLOG_LEVEL=debug\n',
};

async function call(command: string, connection = 'web-1') {
  const r = await w.call('ssh_run', { connection, command });
  return { isError: r.isError, text: r.text + JSON.stringify(r.structured ?? null) };
}

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wsshshape-'));
  chmodSync(BASE, 0o755);
  APP = join(BASE, 'app');
  mkdirSync(APP);
  for (const [f, text] of Object.entries(FIXTURES)) writeFileSync(join(APP, f), text);
  for (const p of [BASE, APP, ...Object.keys(FIXTURES).map((f) => join(APP, f))]) chownToLogin(p, sshd);
  const conn = (name: string) =>
    `  ${name}:\n    type: ssh\n    host: ${sshd.host}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    private_key: env:WARDEN_TEST_SSH_KEY\n    host_key: "${sshd.hostKeyLine}"\n    command_timeout: 5s\n`;
  const config = [
    'transcripts: { store: sqlite:warden.db }',
    'responses: { structured_content: true }',
    'identity: { stdio: { subject: sam, groups: [sre] } }',
    'connections:',
    conn('web-1'),
    conn('web-2'),
    'policies: [policies/*.yaml]',
    '',
  ].join('\n');
  const P = JSON.stringify([APP]);
  const policy = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1]
    shell:
      pipelines: true
      programs:
        cat: { paths: ${P} }
        grep: { paths: ${P}, deny_flags: [-f, --file, -r, -R] }
        tail: { paths: ${P} }
  - id: sre-extract
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-2]
    shell:
      programs:
        grep: { paths: ${P}, allow_flags: [-o, -E] }
`;
  dir = writeWardenDir(config, { 'ssh.yaml': policy });
  w = await connectWarden(dir.configPath, { WARDEN_TEST_SSH_KEY: sshd.clientKey });
});

after(async () => {
  await w?.close();
  await sshd?.stop();
  dir?.cleanup();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: output options that cut a value from its name', () => {
  test('grep -o, tail -c / +Nc and cat -T are refused before anything runs, and nothing leaks', async () => {
    const cmds = [
      `grep -o '[^=]*$' ${APP}/.env`,
      `grep -oE 'PASSWORD=.{0}[^ ]*' ${APP}/app.log`, // even a match that keeps the name: -o is the option, not the pattern
      `grep -h PASSWORD ${APP}/.env | tail -c 20`,
      `tail +13c ${APP}/.env`,
      `tail --bytes=30 ${APP}/app.log`,
      `cat -T ${APP}/app.ini`,
      `cat -A ${APP}/app.ini`,
      `grep -nT password ${APP}/app.ini`, // ` 3:<TAB>password<TAB>=<TAB>...`: a padded number is no prefix masking knows
    ];
    for (const cmd of cmds) {
      const r = await call(cmd);
      assert.equal(r.isError, true, `${cmd} must be refused, got: ${r.text}`);
      assert.ok(!r.text.includes(LEAK), `${cmd} leaks: ${r.text}`);
      assert.match(r.text, /WARDEN_POLICY_DENIED|denied/i, cmd);
      assert.match(r.text, /allow_flags/, `${cmd}: the refusal says how to allow it`);
    }
  });

  test('what the grant always allowed still runs, masked', async () => {
    const a = await call(`grep -n PASSWORD ${APP}/.env`);
    assert.equal(a.isError, false, a.text);
    assert.match(a.text, /1:DB_PASSWORD=\*\*\*/);
    const b = await call(`tail -n 1 ${APP}/app.log`);
    assert.equal(b.isError, false, b.text);
    assert.match(b.text, /DB_PASSWORD=\*\*\*/);
    const c = await call(`cat -n ${APP}/app.ini`);
    assert.equal(c.isError, false, c.text);
    assert.match(c.text, /password\\t=\\t\*\*\*/);
    for (const r of [a, b, c]) assert.ok(!r.text.includes(LEAK), r.text);
  });

  test('a value over several lines stays masked behind a line number or cat -E\'s $ on every line', async () => {
    for (const cmd of [`cat -n ${APP}/app.yaml`, `cat -E ${APP}/app.yaml`, `grep -n '' ${APP}/app.yaml`, `cat -n ${APP}/key.env`, `grep -n '' ${APP}/key.env`]) {
      const r = await call(cmd);
      assert.equal(r.isError, false, r.text);
      assert.ok(!r.text.includes(LEAK), `${cmd} leaks: ${r.text}`);
      assert.match(r.text, /password: \*\*\*|TLS_KEY=\*\*\*/, cmd);
    }
    // Nothing to hide beyond one line: the numbers stay.
    const r = await call(`cat -n ${APP}/.env`);
    assert.match(r.text, / {5}1\\tDB_PASSWORD=\*\*\*\\n {5}2\\tLOG_LEVEL=debug/);
  });

  test('a grant that lists -o in allow_flags chose to show matches as they are', async () => {
    const r = await call(`grep -oE 'LOG_LEVEL=[a-z]+' ${APP}/.env`, 'web-2');
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /LOG_LEVEL=debug/);
  });

  test('the transcript database holds no secret value', () => {
    const db = new Database(dir.dbPath, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const dump = tables
        .map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))
        .join('\n');
      assert.ok(!dump.includes(LEAK), 'the transcript leaks a secret value');
    } finally {
      db.close();
    }
  });
});
