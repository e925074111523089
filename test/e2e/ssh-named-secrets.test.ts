/**
 * End to end: secret values beside their names in `ssh_run` output (`env`, `cat .env`, `grep -r
 * password`), and passwords behind program flags (`mysqldump -p`, `curl -u`), through `warden
 * serve` and a real sshd. The content detectors know shapes (AWS
 * keys, JWTs), not a plain `hunter2`; the name beside it is what gives it away. Neither the
 * agent's answer nor anything in the transcript database may hold the value, also when the
 * output cap cuts the value in half; output without secret names comes back byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { chownToLogin, startSshd, type Sshd } from '../support/sshd.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';

/** Every secret below starts with this; nothing else in the test (commands, names) does. */
const LEAK = 'hunter2';
const APP_LOG = '2024-05-01T10:00:00Z INFO request served in 12ms status=200 path=/health user=alice\nworker: queue drained, 0 pending\n';
/** 985 bytes of filler lines: the 1024-byte cap cuts the quoted value below after 9 of its bytes. */
const FILLER = ('filler ' + 'f'.repeat(92) + '\n').repeat(9) + 'filler ' + 'f'.repeat(77) + '\n';
const CUT_LINE = 'worker started --db-password="hunter2-SSHMASK-cut-tail" ok\n';

let sshd: Sshd;
let dir: WardenDir;
let w: WardenSession;
let BASE = '';
let APP = '';

const FIXTURES: Record<string, string> = {
  '.env': 'DB_PASSWORD=hunter2-SSHMASK\nLOG_LEVEL=debug\n',
  'app.ini': '[db]\nhost = db.internal\npassword = hunter2-SSHMASK-ini\n',
  'app.json': '{"apiKey": "hunter2-SSHMASK-json", "region": "eu-west-1"}\n',
  'app.log': APP_LOG,
  // Passwords behind program-specific flags, as a cron table or shell history holds them.
  'crontab.txt': '0 3 * * * mysqldump -u backup -phunter2-SSHMASK-cron shop > /srv/shop.sql\n*/5 * * * * curl -su monitor:hunter2-SSHMASK-curl https://db.internal/health\n',
  // `--db-password="` starts at byte 1000: the cap leaves `"hunter2-S` unterminated.
  'worker.log': FILLER + CUT_LINE,
};

type Answer = { text: string; stdout: string; stderr: string; notes: string[] | undefined; truncated: boolean };

async function run(command: string, connection = 'web-1'): Promise<Answer> {
  const r = await w.call('ssh_run', { connection, command });
  assert.equal(r.isError, false, `${command}: ${r.text}`);
  const s = r.structured as { stdout: string; stderr: string; notes?: string[]; truncated: boolean };
  return { text: r.text + JSON.stringify(r.structured), stdout: s.stdout, stderr: s.stderr, notes: s.notes, truncated: s.truncated };
}

function assertNoLeak(a: Answer, what: string): void {
  assert.ok(!a.text.includes(LEAK), `${what} leaks a secret value:\n${a.text}`);
}

before(async () => {
  sshd = await startSshd({ setEnv: { DB_PASSWORD: 'hunter2-SSHMASK-env', APP_MODE: 'blue-green' } });
  BASE = mkdtempSync(join(tmpdir(), 'wsshmask-'));
  chmodSync(BASE, 0o755);
  APP = join(BASE, 'app');
  mkdirSync(APP);
  for (const [f, text] of Object.entries(FIXTURES)) writeFileSync(join(APP, f), text);
  for (const p of [BASE, APP, ...Object.keys(FIXTURES).map((f) => join(APP, f))]) chownToLogin(p, sshd);
  const conn = (name: string, extra: string) =>
    `  ${name}:\n    type: ssh\n    host: ${sshd.host}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    private_key: env:WARDEN_TEST_SSH_KEY\n    host_key: "${sshd.hostKeyLine}"\n${extra}`;
  const config = [
    'transcripts: { store: sqlite:warden.db }',
    'responses: { structured_content: true }',
    'identity: { stdio: { subject: sam, groups: [sre] } }',
    'connections:',
    conn('web-1', '    command_timeout: 5s\n'),
    conn('small', '    command_timeout: 5s\n    max_output_bytes: 1024\n'),
    'policies: [policies/*.yaml]',
    '',
  ].join('\n');
  const P = JSON.stringify([APP]);
  const policy = `
rules:
  - id: sre
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1, small]
    shell:
      programs:
        env: {}
        uname: {}
        ls: { paths: ${P} }
        cat: { paths: ${P} }
        grep: { paths: ${P} }
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

describe('ssh_run: values beside secret names are masked', () => {
  test('cat of a .env file: the password is masked, the other line stays, a note says so', async () => {
    const a = await run(`cat ${APP}/.env`);
    assertNoLeak(a, 'cat .env');
    assert.equal(a.stdout, 'DB_PASSWORD=***\nLOG_LEVEL=debug\n');
    assert.ok(a.notes?.some((n) => /secret/.test(n)), `a note says values were masked: ${JSON.stringify(a.notes)}`);
  });

  test('env: a variable the host sets is masked, the others are shown', async () => {
    const a = await run('env');
    assertNoLeak(a, 'env');
    assert.match(a.stdout, /^DB_PASSWORD=\*\*\*$/m);
    assert.match(a.stdout, /^APP_MODE=blue-green$/m);
    assert.match(a.stdout, /^PWD=\/\S*$/m, 'the working directory is not a password');
  });

  // Every file named: a read of the folder's whole tree (grep -r) is refused (shell/secret-files.ts).
  test('grep over config files: values after file-name prefixes are masked', async () => {
    const all = Object.keys(FIXTURES).map((f) => `${APP}/${f}`).join(' ');
    for (const cmd of [`grep -i password ${all}`, `grep -in password ${all}`, `cat ${APP}/app.json`, `cat ${APP}/app.ini`]) {
      const a = await run(cmd);
      assertNoLeak(a, cmd);
    }
    const a = await run(`grep -n password ${APP}/app.ini`);
    assert.equal(a.stdout, '3:password = ***\n');
  });

  test('passwords behind program flags (mysqldump -p, curl -u) are masked, the rest of the line stays', async () => {
    const a = await run(`cat ${APP}/crontab.txt`);
    assertNoLeak(a, 'cat crontab.txt');
    assert.equal(a.stdout, '0 3 * * * mysqldump -u backup -p*** shop > /srv/shop.sql\n*/5 * * * * curl -su monitor:*** https://db.internal/health\n');
    assert.ok(a.notes?.some((n) => /2 values .*password flags/.test(n)), `a note says two values were masked: ${JSON.stringify(a.notes)}`);
  });

  test('a value cut in half by the output cap is masked to the end', async () => {
    const a = await run(`cat ${APP}/worker.log`, 'small');
    assert.equal(a.truncated, true);
    assertNoLeak(a, 'truncated output');
    assert.equal(Buffer.byteLength(FILLER), 985);
    assert.ok(a.stdout.startsWith(FILLER), 'the lines before it are whole');
    assert.match(a.stdout, /--db-password=\*\*\*$/);
  });

  test('output without secret names is unchanged and carries no note', async () => {
    const ls = await run(`ls ${APP}`);
    assert.equal(ls.stdout, 'app.ini\napp.json\napp.log\ncrontab.txt\nworker.log\n');
    const uname = await run('uname -a');
    assert.equal(uname.stdout, spawnSync('uname', ['-a'], { encoding: 'utf8' }).stdout);
    const log = await run(`cat ${APP}/app.log`);
    assert.equal(log.stdout, APP_LOG);
    for (const a of [ls, uname, log]) assert.equal(a.notes, undefined);
  });

  test('the transcript database holds no secret value anywhere', () => {
    const db = new Database(dir.dbPath, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const dump = tables
        .map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))
        .join('\n');
      assert.match(dump, /DB_PASSWORD=\*\*\*/, 'the masked output was recorded');
      assert.ok(!dump.includes(LEAK), 'the transcript leaks a secret value');
    } finally {
      db.close();
    }
  });
});
