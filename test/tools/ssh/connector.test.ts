/**
 * The ssh connector against a real OpenSSH sshd: reuse, pinned host keys, unreachable hosts,
 * deadlines that kill the remote command or end a wait for a session slot, output caps, exit
 * codes and a host that drops the connection mid-command. A host that misbehaves on purpose:
 * hostile-host.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sessionsPerPrincipal, sshConnectionSchema, type SshConnection } from '../../../tools/ssh/config.js';
import type { SshConnector } from '../../../tools/ssh/connector.js';
import { NOTHING_SENT } from '../../../src/errors.js';
import { chownToLogin, startSshd, type Sshd, pollUntil, processRunning, sshdConnector } from '../../support/sshd.js';

let sshd: Sshd;
let work: string;
const connectors: SshConnector[] = [];

const connector = (over: Record<string, unknown> = {}): SshConnector => sshdConnector(sshd, work, connectors, over);

const LIMITS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

before(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'warden-ssh-conn-'));
  chmodSync(work, 0o755);
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('SshConnector against a real sshd', () => {
  test('runs a command, returns stdout, stderr and exit codes, over one reused connection', async () => {
    const c = connector();
    const ok = await c.run("'echo' hello", LIMITS);
    assert.equal(ok.stdout, 'hello\n');
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.truncated, false);
    const bad = await c.run(`'ls' ${join(work, 'missing')}`, LIMITS);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /No such file/);
    const accepted = (sshd.log().match(/Accepted publickey/g) ?? []).length;
    await Promise.all([1, 2, 3, 4, 5].map((i) => c.run(`'echo' ${i}`, LIMITS)));
    assert.equal((sshd.log().match(/Accepted publickey/g) ?? []).length, accepted, 'no new login: the connection is reused');
    assert.equal(c.connected, true);
  });

  test('a SHA256 fingerprint pin is accepted', async () => {
    const c = connector({ host_key: sshd.hostFingerprint });
    assert.equal((await c.run("'true'", LIMITS)).exitCode, 0);
  });

  test('a host presenting another key is refused, naming both fingerprints, and nothing runs', async () => {
    const other = join(work, 'other');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const { readFileSync } = await import('node:fs');
    const pinLine = readFileSync(`${other}.pub`, 'utf8').trim();
    const fp = /SHA256:\S+/.exec(spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${other}.pub`], { encoding: 'utf8' }).stdout)![0];
    const marker = join(work, 'pwned');
    const sessions = sshd.sessionsStarted();
    for (const pin of [pinLine, fp]) {
      const c = connector({ host_key: pin });
      await assert.rejects(c.run(`'touch' ${marker}`, LIMITS), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
        assert.match(e.message, /host key mismatch/);
        assert.ok(e.message.includes(fp), `names the expected fingerprint: ${e.message}`);
        assert.ok(e.message.includes(sshd.hostFingerprint), `names the presented fingerprint: ${e.message}`);
        return true;
      });
    }
    assert.equal(sshd.sessionsStarted(), sessions);
    assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'the marker was not created');
  });

  test('an unreachable host (closed port) gives a clean coded error', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const c = connector({ port, connect_timeout: '2s' });
    await assert.rejects(c.run("'true'", LIMITS), /WARDEN_BACKEND_ERROR|unreachable: connection refused/);
    await assert.rejects(c.run("'true'", LIMITS), (e: Error & { code?: string }) => e.code === 'WARDEN_BACKEND_ERROR' && /connection refused/.test(e.message));
  });

  test('the credential is refused when it is not authorised', async () => {
    const other = join(work, 'stranger');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const c = connector({ private_key: `file:${other}` });
    await assert.rejects(c.run("'true'", LIMITS), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
      assert.match(e.message, /refused the configured credential/);
      assert.ok(!e.message.includes('PRIVATE KEY'));
      return true;
    });
  });

  test('a command past its deadline is killed on the host', async () => {
    const c = connector();
    const tag = `${300 + Math.floor(Math.random() * 600)}.${process.pid}`;
    const t0 = Date.now();
    await assert.rejects(c.run(`'sleep' ${tag}`, { timeoutMs: 700, maxBytes: 1024 }), (e: Error & { code?: string }) => e.code === 'WARDEN_TIMEOUT');
    assert.ok(Date.now() - t0 < 5000, 'the call returned soon after the deadline');
    assert.equal(await pollUntil(() => !processRunning(`sleep ${tag}`), 3000), true, 'the remote sleep is gone');
    // A pipeline is killed as a whole (OpenSSH signals the session's process group).
    const tag2 = `${300 + Math.floor(Math.random() * 600)}.${process.pid + 1}`;
    await assert.rejects(c.run(`'sleep' ${tag2} | 'cat'`, { timeoutMs: 700, maxBytes: 1024 }), /ran longer than/);
    assert.equal(await pollUntil(() => !processRunning(`sleep ${tag2}`), 3000), true, 'the piped sleep is gone');
    assert.equal((await c.run("'echo' after", LIMITS)).stdout, 'after\n', 'the connection still works');
  });

  test('a call waiting for a free session ends at its own deadline or on cancel, and never runs late', async () => {
    const c = connector({ max_sessions: 1 });
    const dir = join(work, 'queued');
    mkdirSync(dir);
    chownToLogin(dir, sshd);
    // The busy call holds the one slot for 4 s, so "at its deadline" and "at once" below stand well
    // apart from "when the slot came free", even on a loaded machine.
    const busy = c.run("'sleep' 4", LIMITS);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await assert.rejects(c.run(`'touch' ${join(dir, 'timed-out')}`, { timeoutMs: 400, maxBytes: 1024 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_TIMEOUT', e.message);
      assert.match(e.message, /free session/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2500, `the queued call ended at its deadline (${Date.now() - t0} ms)`);
    const ac = new AbortController();
    const cancelled = c.run(`'touch' ${join(dir, 'cancelled')}`, { ...LIMITS, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const t1 = Date.now();
    // The client's cancel, coded so (it was WARDEN_BACKEND_ERROR, a backend failure in the
    // transcript), and marked as sending nothing: the pipeline gives back approvals it spent.
    await assert.rejects(cancelled, (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'WARDEN_CANCELLED', e.message);
      assert.match(e.message, /cancelled; the command was not started/);
      assert.equal(e.details?.[NOTHING_SENT], true);
      return true;
    });
    assert.ok(Date.now() - t1 < 2500, `the cancelled call answered at once (${Date.now() - t1} ms)`);
    assert.equal((await busy).exitCode, 0);
    assert.equal((await c.run(`'touch' ${join(dir, 'next')}`, LIMITS)).exitCode, 0, 'the slot passed on');
    assert.equal(existsSync(join(dir, 'next')), true);
    assert.equal(existsSync(join(dir, 'timed-out')), false, 'the timed-out call never ran');
    assert.equal(existsSync(join(dir, 'cancelled')), false, 'the cancelled call never ran');
  });

  test('output is capped across stdout and stderr with a truncated flag', async () => {
    const c = connector();
    const r = await c.run("'seq' 1 1000000", { timeoutMs: 10_000, maxBytes: 2000 });
    assert.equal(r.truncated, true);
    assert.equal(Buffer.byteLength(r.stdout), 2000);
    assert.ok(r.stdout.startsWith('1\n2\n3\n'));
    const small = await c.run("'seq' 1 3", { timeoutMs: 10_000, maxBytes: 2000 });
    assert.equal(small.truncated, false);
    assert.equal(small.stdout, '1\n2\n3\n');
  });

  test('a host that drops the connection mid-command gives a clean error, and the next call reconnects', async () => {
    const c = connector();
    await c.run("'true'", LIMITS);
    const before = new Set(sshd.connectionPids());
    const pending = c.run("'sleep' 3", LIMITS);
    await new Promise((r) => setTimeout(r, 400));
    for (const pid of before) process.kill(pid, 'SIGKILL');
    await assert.rejects(pending, (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
      assert.match(e.message, /closed the connection while the command was running/);
      return true;
    });
    const again = await c.run("'echo' back", LIMITS);
    assert.equal(again.stdout, 'back\n');
  });
});

describe('ssh connection schema', () => {
  const base = { host: 'web-1.internal', user: 'deploy', private_key: 'file:/etc/warden/keys/deploy', host_key: '' };
  test('defaults and durations', () => {
    const fp = 'SHA256:' + 'A'.repeat(43);
    const c = sshConnectionSchema.parse({ ...base, host_key: fp, command_timeout: '5s' }) as SshConnection;
    assert.equal(c.port, 22);
    assert.equal(c.command_timeout, 5000);
    assert.equal(c.connect_timeout, 10_000);
    assert.equal(c.max_output_bytes, 1024 * 1024);
  });
  test('max_sessions_per_principal: defaults to half of max_sessions (rounded up), at most max_sessions', () => {
    const fp = 'SHA256:' + 'A'.repeat(43);
    const share = (over: Record<string, unknown>) => sessionsPerPrincipal(sshConnectionSchema.parse({ ...base, host_key: fp, ...over }) as SshConnection);
    assert.equal(share({}), 4, 'default max_sessions 8 -> 4');
    assert.equal(share({ max_sessions: 1 }), 1);
    assert.equal(share({ max_sessions: 2 }), 1);
    assert.equal(share({ max_sessions: 3 }), 2);
    assert.equal(share({ max_sessions: 64 }), 32);
    assert.equal(share({ max_sessions: 8, max_sessions_per_principal: 8 }), 8, 'the share may be the whole connection (no fairness)');
    assert.equal(share({ max_sessions: 8, max_sessions_per_principal: 1 }), 1);
    const refused = (over: Record<string, unknown>) => sshConnectionSchema.safeParse({ ...base, host_key: fp, ...over });
    for (const v of [0, -1, 1.5, '2', null]) assert.equal(refused({ max_sessions_per_principal: v }).success, false, `max_sessions_per_principal: ${String(v)}`);
    const over = refused({ max_sessions: 4, max_sessions_per_principal: 5 });
    assert.equal(over.success, false, 'a share larger than the connection is refused');
    assert.deepEqual(over.error!.issues[0]!.path, ['max_sessions_per_principal']);
    assert.match(over.error!.issues[0]!.message, /at most max_sessions \(4\)/);
    assert.equal(refused({ max_sessions: 1, max_sessions_per_principal: 2 }).success, false, 'a share above an explicit max_sessions is refused');
    assert.equal(refused({ max_sessions_per_principal: 9 }).success, false, 'above the default max_sessions (8)');
  });
  test('inline secrets, missing or double credentials and malformed pins are refused', () => {
    writeFileSync(join(work, 'unused'), '');
    const fp = 'SHA256:' + 'A'.repeat(43);
    const bad: Record<string, unknown>[] = [
      { ...base, host_key: fp, private_key: '-----BEGIN OPENSSH PRIVATE KEY-----' },
      { ...base, host_key: fp, private_key: undefined },
      { ...base, host_key: fp, password: 'env:PW' },
      { ...base, host_key: fp, password: 'hunter2', private_key: undefined },
      { ...base },
      { ...base, host_key: 'ssh-ed25519 notbase64!!' },
      { ...base, host_key: `ssh-rsa ${sshd.hostKeyLine.split(' ')[1]}` },
      { ...base, host_key: fp, extra: 1 },
    ];
    for (const b of bad) assert.equal(sshConnectionSchema.safeParse(b).success, false, JSON.stringify(b));
    assert.equal(sshConnectionSchema.safeParse({ ...base, host_key: sshd.hostKeyLine }).success, true);
    assert.equal(sshConnectionSchema.safeParse({ ...base, private_key: undefined, password: 'env:PW', host_key: fp }).success, true);
  });
});
