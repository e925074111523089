/**
 * Per-principal shares of a connection's sessions against a real OpenSSH sshd: a principal that
 * fires many slow commands cannot take every session of the host from the others. Assertions
 * are on events (which call finished while which was still running) and on the host's process
 * table, with generous bounds only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SshConnector } from '../../../tools/ssh/connector.js';
import { NOTHING_SENT } from '../../../src/errors.js';
import { pollUntil, processRunning, sshdConnector, startSshd, type Sshd } from '../../support/sshd.js';

let sshd: Sshd;
let work: string;
const connectors: SshConnector[] = [];

const connector = (over: Record<string, unknown> = {}): SshConnector => sshdConnector(sshd, work, connectors, over);

/** Number of processes on the host whose command line matches `pattern`. */
function running(pattern: string): number {
  const r = spawnSync('pgrep', ['-f', '-c', pattern], { encoding: 'utf8' });
  return Number.parseInt(r.stdout.trim() || '0', 10);
}

/** A sleep whose command line is unique to this test run (so pgrep counts only ours). */
function uniqueSleep(base: number): string {
  return `${base}.${process.pid}${Math.floor(Math.random() * 1000)}`;
}

/** A call and whether it has settled yet. */
function tracked<T>(p: Promise<T>): { p: Promise<T>; settled: () => boolean } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { p, settled: () => done };
}

before(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'warden-ssh-share-'));
  chmodSync(work, 0o755);
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('per-principal session shares against a real sshd', () => {
  test('one principal firing slow commands on every slot does not starve another principal', async () => {
    const c = connector({ max_sessions: 4 }); // default share: ceil(4 / 2) = 2
    const tag = uniqueSleep(60);
    const ac = new AbortController();
    const hog = Array.from({ length: 6 }, () => tracked(c.run(`'sleep' ${tag}`, { timeoutMs: 45_000, maxBytes: 4096, signal: ac.signal, principal: 'oidc:hog' })));
    try {
      assert.equal(await pollUntil(() => running(`sleep ${tag}`) >= 2, 10_000), true, 'the hog’s commands started on the host');
      const b = await c.run("'echo' served", { timeoutMs: 20_000, maxBytes: 4096, principal: 'oidc:other' });
      assert.equal(b.stdout, 'served\n');
      assert.equal(b.exitCode, 0);
      assert.equal(hog.filter((h) => h.settled()).length, 0, 'the other principal was served while every one of the hog’s calls was still pending');
      assert.equal(running(`sleep ${tag}`), 2, 'the hog runs no more than its share (2 of 4 sessions) on the host');
    } finally {
      ac.abort();
    }
    // Those on the host were killed there (sent: no give-back); those queued for a slot sent nothing.
    for (const h of hog) await assert.rejects(h.p, (e: Error & { code?: string; details?: Record<string, unknown> }) => e.code === 'WARDEN_CANCELLED' && /cancelled/.test(e.message) && (e.details?.[NOTHING_SENT] === true) === /the command was not started$/.test(e.message));
    assert.equal(await pollUntil(() => !processRunning(`sleep ${tag}`), 5000), true, 'the hog’s remote sleeps are gone');
  });

  test('a call over its principal’s share waits for that principal’s own session, then runs', async () => {
    const c = connector({ max_sessions: 2, max_sessions_per_principal: 1 });
    const finished: string[] = [];
    const note = <T>(label: string, p: Promise<T>) => p.then((v) => (finished.push(label), v));
    const tag = uniqueSleep(5);
    const a1 = note('a1', c.run(`'sleep' ${tag}`, { timeoutMs: 30_000, maxBytes: 4096, principal: 'local:a' }));
    assert.equal(await pollUntil(() => running(`sleep ${tag}`) >= 1, 10_000), true);
    const a2 = note('a2', c.run("'echo' a2", { timeoutMs: 20_000, maxBytes: 4096, principal: 'local:a' }));
    const b = note('b', c.run("'echo' b", { timeoutMs: 20_000, maxBytes: 4096, principal: 'local:b' }));
    const [ra1, ra2, rb] = await Promise.all([a1, a2, b]);
    assert.equal(ra1.exitCode, 0);
    assert.equal(ra2.stdout, 'a2\n');
    assert.equal(rb.stdout, 'b\n');
    assert.deepEqual(finished, ['b', 'a1', 'a2'], 'b used the free slot at once; a2 waited for a1 although a slot was free');
  });

  test('a call over its share that outlives its deadline is refused with WARDEN_TIMEOUT naming the share, and never runs', async () => {
    const c = connector({ max_sessions: 4, max_sessions_per_principal: 1 });
    const tag = uniqueSleep(4);
    const marker = join(work, 'late');
    const busy = c.run(`'sleep' ${tag}`, { timeoutMs: 20_000, maxBytes: 4096, principal: 'local:a' });
    assert.equal(await pollUntil(() => running(`sleep ${tag}`) >= 1, 10_000), true);
    await assert.rejects(c.run(`'touch' ${marker}`, { timeoutMs: 500, maxBytes: 4096, principal: 'local:a' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_TIMEOUT', e.message);
      assert.match(e.message, /max_sessions_per_principal 1/);
      assert.match(e.message, /the command was not started/);
      return true;
    });
    assert.equal((await busy).exitCode, 0);
    assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'the refused call never ran');
  });
});
