/**
 * End to end: `warden serve` as a child process, the real SDK v2 client over stdio, a real
 * OpenSSH sshd (test/support/sshd.ts). Every case of shared/corpus/shell.yaml runs through the
 * whole pipeline; denied cases are proven not to have reached the host.
 *
 * Path mapping: the corpus names /var/log/app; the tests seed BASE/app instead (BASE is a fresh
 * temp dir, so under /tmp the depth matches and `app/../../../etc/shadow` still means
 * /etc/shadow) and rewrite every case consistently: /var/log/app -> BASE/app; the `rm -rf /`
 * targets -> BASE/victim (a seeded dir a bypass would delete); /etc/passwd -> BASE/passwd (a
 * seeded file a bypass would overwrite); /etc/x and /tmp/x -> markers under BASE that a bypass
 * would create. The baseline policy is written against BASE/app.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parse as parseYaml } from 'yaml';
import { chownToLogin, startSshd, type Sshd, pollUntil, processRunning } from '../support/sshd.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { corpusDir } from '../support/repo.js';

const AWS_KEY = 'AKIAZ7Q4EXAMPLEKEY12';
const DB_PASSWORD = 'hunter2-s3cret-pw';

let sshd: Sshd;
let dir: WardenDir;
let w: WardenSession;
let BASE = '';
let LOG = '';
let VICTIM = '';


type Case = { id: string; cmd: string; expect: 'allow' | 'deny' };
const CASES = (parseYaml(readFileSync(join(corpusDir(), 'shell.yaml'), 'utf8')) as { cases: Case[] }).cases;

/** The consistent path mapping described at the top of this file. */
function rewrite(cmd: string): string {
  return cmd
    .replaceAll('/var/log/app', LOG)
    .replace(/(-rf[ ,])\/(?=$|[\s;'"}\\)])/g, `$1${VICTIM}`)
    .replaceAll('/etc/passwd', join(BASE, 'passwd'))
    .replaceAll('/etc/x', join(BASE, 'etc-x'))
    .replaceAll('/tmp/x', join(BASE, 'x'));
}

const APP_LOG = ['boot ok', 'ERROR connection refused by db', 'request served', 'error: timeout talking to cache', 'done'].join('\n') + '\n';
const FIXTURES: Record<string, string> = {
  'app.log': APP_LOG,
  'other.log': 'nothing to see\n',
  'secrets.log': `aws_access_key_id=${AWS_KEY}\nDATABASE_URL=postgres://admin:${DB_PASSWORD}@db.internal:5432/app\n`,
  // Secrets not beside a name the masker knows as such, for the colour-code test.
  'keys.log': `upload by ${AWS_KEY} refused\nDB_PASSWORD=${DB_PASSWORD}\n`,
  'big.log': 'x'.repeat(99) + '\n'.repeat(1) + ('y'.repeat(99) + '\n').repeat(999),
};

/** Everything a bypass could have touched, as one comparable snapshot. */
function hostState(): string {
  const files = readdirSync(LOG, { withFileTypes: true })
    .map((e) => `${e.name}:${e.isFile() ? readFileSync(join(LOG, e.name), 'utf8') : e.isDirectory() ? 'dir' : 'other'}`)
    .sort();
  return JSON.stringify({
    files,
    victim: existsSync(join(VICTIM, 'keep.txt')),
    passwd: readFileSync(join(BASE, 'passwd'), 'utf8'),
    markers: ['x', 'etc-x', 'x.so'].filter((m) => existsSync(join(BASE, m))),
  });
}

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

before(async () => {
  sshd = await startSshd();
  BASE = mkdtempSync(join(tmpdir(), 'wssh-'));
  chmodSync(BASE, 0o755);
  LOG = join(BASE, 'app');
  VICTIM = join(BASE, 'victim');
  mkdirSync(join(LOG, 'sub'), { recursive: true });
  mkdirSync(VICTIM);
  for (const [f, text] of Object.entries(FIXTURES)) writeFileSync(join(LOG, f), text);
  writeFileSync(join(VICTIM, 'keep.txt'), 'keep\n');
  writeFileSync(join(BASE, 'passwd'), 'seed\n');
  // The login user owns what a bypass could damage, so a bypass would really succeed.
  for (const p of [BASE, LOG, join(LOG, 'sub'), VICTIM, join(VICTIM, 'keep.txt'), join(BASE, 'passwd'), ...Object.keys(FIXTURES).map((f) => join(LOG, f))]) {
    chownToLogin(p, sshd);
  }
  const other = join(BASE, 'other-host-key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  const wrongPin = readFileSync(`${other}.pub`, 'utf8').trim();
  const closed = await freePort();
  const conn = (name: string, extra: string) =>
    `  ${name}:\n    type: ssh\n    host: ${sshd.host}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    private_key: env:WARDEN_TEST_SSH_KEY\n${extra}`;
  const config = [
    'transcripts: { store: sqlite:warden.db }',
    'responses: { structured_content: true }',
    'identity: { stdio: { subject: sam, groups: [sre] } }',
    'connections:',
    conn('web-1', `    host_key: "${sshd.hostKeyLine}"\n    command_timeout: 5s\n`),
    conn('small', `    host_key: "${sshd.hostFingerprint}"\n    command_timeout: 1s\n    max_output_bytes: 1024\n`),
    conn('badkey', `    host_key: "${wrongPin}"\n`),
    conn('down', `    host_key: "${sshd.hostKeyLine}"\n    connect_timeout: 2s\n`).replace(`port: ${sshd.port}`, `port: ${closed}`),
    'policies: [policies/*.yaml]',
    '',
  ].join('\n');
  const L = JSON.stringify([LOG]);
  const policy = `
masking:
  detectors: [email, credit_card, us_ssn, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: sre-baseline
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1, small, badkey, down]
    shell:
      pipelines: true
      programs:
        uptime: {}
        df: { paths: ${L} }
        ps: { paths: ${L} }
        ls: { paths: ${L} }
        cat: { paths: ${L} }
        head: { paths: ${L} }
        tail: { paths: ${L} }
        wc: { paths: ${L} }
        find: { paths: ${L} }
        grep: { paths: ${L}, deny_flags: [-f, --file, --exclude-from] }
        systemctl: { subcommands: [status] }
  - id: test-sleep
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [web-1, small]
    shell: { programs: { sleep: {} } }
`;
  dir = writeWardenDir(config, { 'ssh.yaml': policy });
  w = await connectWarden(dir.configPath, { WARDEN_TEST_SSH_KEY: sshd.clientKey });
  // Open web-1's connection now: a new connection first runs the login-shell probe (one
  // session of its own), and the corpus counts exactly one session per allowed call.
  const warm = await w.call('ssh_run', { connection: 'web-1', command: 'uptime' });
  assert.equal(warm.isError, false, warm.text);
});

after(async () => {
  await w?.close();
  await sshd?.stop();
  dir?.cleanup();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

describe('ssh_run: the shell.yaml corpus through warden serve and a real sshd', () => {
  test('ssh_run is listed with its schema', async () => {
    const { tools } = await w.client.listTools();
    const t = tools.find((x) => x.name === 'ssh_run');
    assert.ok(t, 'ssh_run is visible to sre');
    assert.deepEqual((t.inputSchema as { required?: string[] }).required?.sort(), ['command', 'connection']);
  });

  for (const c of CASES) {
    test(`${c.id}: ${c.expect}`, async () => {
      const cmd = rewrite(c.cmd);
      const sessions = sshd.sessionsStarted();
      const state = hostState();
      const r = await w.call('ssh_run', { connection: 'web-1', command: cmd });
      if (c.expect === 'allow') {
        assert.equal(r.isError, false, `${c.id} must run: ${r.text}`);
        const s = r.structured as { exit_code: number | null; stdout: string; warden: { rule_ids: string[] } };
        assert.equal(typeof s.exit_code, 'number', 'the host answered with an exit code');
        assert.deepEqual(s.warden.rule_ids, ['sre-baseline']);
        assert.equal(await pollUntil(() => sshd.sessionsStarted() === sessions + 1, 2000), true, 'exactly one session ran on the host');
      } else {
        assert.equal(r.isError, true, `${c.id} must be refused: ${r.text}`);
        assert.match(r.text, /WARDEN_(DENIED|PARSE|INVALID_INPUT)/, c.id);
        await new Promise((res) => setTimeout(res, 20));
        assert.equal(sshd.sessionsStarted(), sessions, `${c.id}: no session was started on the host`);
      }
      assert.equal(hostState(), state, `${c.id}: nothing changed on the host`);
    });
  }

  test('allowed cases return what the host really has', async () => {
    const tail = await w.call('ssh_run', { connection: 'web-1', command: `tail -n 2 ${LOG}/app.log` });
    assert.equal((tail.structured as { stdout: string }).stdout, 'error: timeout talking to cache\ndone\n');
    const count = await w.call('ssh_run', { connection: 'web-1', command: `cat ${LOG}/app.log | grep -i error | wc -l` });
    assert.equal((count.structured as { stdout: string }).stdout.trim(), '2');
    const find = await w.call('ssh_run', { connection: 'web-1', command: `find ${LOG} -name '*.log'` });
    assert.equal((find.structured as { stdout: string }).stdout.trim().split('\n').length, Object.keys(FIXTURES).length);
  });
});

describe('ssh_run: host behaviour', () => {
  test('non-zero exit codes are returned, not turned into errors', async () => {
    const r = await w.call('ssh_run', { connection: 'web-1', command: `ls ${LOG}/missing` });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { exit_code: number; stderr: string };
    assert.equal(s.exit_code, 2);
    assert.match(s.stderr, /No such file/);
    assert.match(r.text, /exit code 2/);
  });

  test('content detectors mask secrets in stdout, and the transcript stores the masked output', async () => {
    const r = await w.call('ssh_run', { connection: 'web-1', command: `cat ${LOG}/secrets.log` });
    assert.equal(r.isError, false, r.text);
    for (const secret of [AWS_KEY, DB_PASSWORD]) {
      assert.ok(!r.text.includes(secret), `text leaks ${secret}`);
      assert.ok(!JSON.stringify(r.structured).includes(secret), `structured leaks ${secret}`);
    }
    assert.match((r.structured as { stdout: string }).stdout, /db\.internal/, 'the rest of the line is still there');
  });

  test('terminal escape sequences (grep --color=always) cannot split a secret past the masking, and never reach the agent', async () => {
    // grep colours the match: AKIA\e[01;31m\e[KZ7Q4\e[m\e[KEXAMPLEKEY12 read by any terminal or model as the key.
    for (const pattern of ['Z7Q4', 'PASSWORD', '2-s3c']) {
      const r = await w.call('ssh_run', { connection: 'web-1', command: `grep --color=always -e ${pattern} ${LOG}/keys.log` });
      assert.equal(r.isError, false, r.text);
      // What a reader sees once the colour codes are dropped (in the text and in the JSON of the structured result).
      const seen = (r.text + JSON.stringify(r.structured)).replace(/(?:\x1b|\\u001b)\[[0-9;]*[A-Za-z]/g, '');
      for (const secret of ['Z7Q4EXAMPLE', 's3cret-pw']) assert.ok(!seen.includes(secret), `${pattern}: leaks ${secret}: ${r.text}`);
      assert.ok(!/\x1b|\\u001b/.test(r.text + JSON.stringify(r.structured)), `${pattern}: an escape character reached the agent: ${JSON.stringify(r.text)}`);
    }
  });

  test('output over max_output_bytes is cut with a truncated flag', async () => {
    const r = await w.call('ssh_run', { connection: 'small', command: `cat ${LOG}/big.log` });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { stdout: string; truncated: boolean };
    assert.equal(s.truncated, true);
    assert.equal(Buffer.byteLength(s.stdout), 1024);
    assert.match(r.text, /truncated/);
    // Why it stopped reaches the agent and the transcript (structured content is what is stored).
    assert.match(r.text, /\nnote: output capped at 1024 bytes; the command was stopped$/);
    assert.deepEqual((r.structured as { notes?: string[] }).notes, ['output capped at 1024 bytes; the command was stopped']);
  });

  test('a command past its timeout is killed on the host (command_timeout and timeout_s)', async () => {
    for (const [connection, extra] of [['small', {}], ['web-1', { timeout_s: 1 }]] as const) {
      const tag = `${200 + Math.floor(Math.random() * 700)}.${Math.floor(Math.random() * 1e6)}`;
      const t0 = Date.now();
      const r = await w.call('ssh_run', { connection, command: `sleep ${tag}`, ...extra });
      assert.equal(r.isError, true);
      assert.match(r.text, /WARDEN_TIMEOUT/);
      assert.ok(Date.now() - t0 < 6000, 'answered soon after the deadline');
      assert.equal(await pollUntil(() => !processRunning(`sleep ${tag}`), 3000), true, `the remote sleep ${tag} is gone`);
    }
  });

  test('a host presenting another host key is refused, naming both fingerprints', async () => {
    const sessions = sshd.sessionsStarted();
    const r = await w.call('ssh_run', { connection: 'badkey', command: 'uptime' });
    assert.equal(r.isError, true);
    assert.match(r.text, /WARDEN_BACKEND_ERROR: host key mismatch/);
    const fps = r.text.match(/SHA256:[A-Za-z0-9+/]{43}/g) ?? [];
    assert.equal(fps.length, 2, r.text);
    assert.ok(fps.includes(sshd.hostFingerprint), 'names the presented fingerprint');
    assert.equal(sshd.sessionsStarted(), sessions);
  });

  test('an unreachable host gives a clean coded error', async () => {
    const r = await w.call('ssh_run', { connection: 'down', command: 'uptime' });
    assert.equal(r.isError, true);
    assert.match(r.text, /WARDEN_BACKEND_ERROR: .*unreachable: connection refused/);
    assert.ok(!r.text.includes('PRIVATE KEY'));
  });

  test('a host that drops the connection mid-command gives a clean error; the next call reconnects', async () => {
    await w.call('ssh_run', { connection: 'web-1', command: 'uptime' });
    const pending = w.call('ssh_run', { connection: 'web-1', command: 'sleep 3' });
    await pollUntil(() => /Starting session: command/.test(sshd.log().split('\n').slice(-3).join('\n')), 2000);
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of sshd.connectionPids()) process.kill(pid, 'SIGKILL');
    const r = await pending;
    assert.equal(r.isError, true);
    assert.match(r.text, /WARDEN_BACKEND_ERROR: the host closed the connection while the command was running/);
    const again = await w.call('ssh_run', { connection: 'web-1', command: 'uptime' });
    assert.equal(again.isError, false, again.text);
  });

  test('transcripts record the parsed command, the canonical line, the decision and the exit code, masked', async () => {
    const t = new Database(dir.dbPath, { readonly: true });
    try {
      // Each call with its outcome record, whose body holds the (masked) result.
      const calls = t.prepare("SELECT c.*, r.body AS outcome_body FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq WHERE c.tool = 'ssh_run'").all() as Record<string, string | number | null>[];
      assert.ok(calls.length >= CASES.length, `calls recorded: ${calls.length}`);
      const ls = calls.find((c) => String(c.args).includes(`${LOG}/missing`));
      assert.ok(ls, 'the ls call is recorded');
      const facts = JSON.parse(String(ls.facts)) as { commands: { program: string; args: string[] }[]; commandLine: string };
      assert.deepEqual(facts.commands[0], { program: 'ls', args: [`${LOG}/missing`], assignments: [] });
      assert.equal(facts.commandLine, `'ls' ${LOG}/missing`);
      assert.equal((JSON.parse(String(ls.outcome_body)) as { result: { exit_code: number } }).result.exit_code, 2);
      assert.equal(ls.decision, 'allow');
      const denied = calls.find((c) => String(c.args).includes('systemctl stop'));
      assert.equal(denied?.decision, 'deny');
      assert.equal(denied?.error_code, 'WARDEN_DENIED');
      const all = JSON.stringify(calls);
      for (const secret of [AWS_KEY, DB_PASSWORD, 'PRIVATE KEY']) assert.ok(!all.includes(secret), `transcript leaks ${secret}`);
    } finally {
      t.close();
    }
  });
});
