/**
 * The network cuts a live SSH or Kubernetes connection (a TCP reset from a relay in front of a
 * real sshd and of the test API server): the call running over it fails with a coded error, the
 * next call opens a new connection and works, and nothing throws past the connector (these run
 * in the test process: an unheard 'error' event would end it). A connection reset while it idles
 * in the reuse pool costs no call at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cuttingRelay, type CuttingRelay } from '../support/cutting-relay.js';
import { startSshd, sshdConnector, type Sshd } from '../support/sshd.js';
import type { SshConnector } from '../../tools/ssh/connector.js';
import { startTestCluster } from '../support/kube-apiserver/warden-setup.js';
import { testConnector, type TestConnector } from '../support/kube-apiserver/test-connector.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const coded = (code: string, message: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return true;
};

describe('SSH through a relay that resets the connection', () => {
  let sshd: Sshd;
  let relay: CuttingRelay;
  let work: string;
  let c: SshConnector;
  const connectors: SshConnector[] = [];
  const LIMITS = { timeoutMs: 10_000, maxBytes: 1 << 20 };

  before(async () => {
    sshd = await startSshd();
    relay = await cuttingRelay(sshd.port);
    work = mkdtempSync(join(tmpdir(), 'warden-ssh-cuts-'));
    chmodSync(work, 0o755);
    c = sshdConnector(sshd, work, connectors, { port: relay.port });
  });

  after(async () => {
    await Promise.all(connectors.map((x) => x.close()));
    relay?.close();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('reset mid-command: that call fails coded, the next reconnects', async () => {
    assert.equal((await c.run("'echo' a", LIMITS)).stdout, 'a\n');
    const pending = c.run("'sleep' 3", LIMITS);
    await sleep(400);
    assert.equal(relay.cutNow({ reset: true }), 1);
    await assert.rejects(pending, coded('WARDEN_BACKEND_ERROR', /closed the connection while the command was running/));
    assert.equal((await c.run("'echo' b", LIMITS)).stdout, 'b\n');
  });

  test('reset or closed while idle in the pool: the next call opens a new connection', async () => {
    for (const reset of [true, false]) {
      assert.equal((await c.run("'echo' idle", LIMITS)).stdout, 'idle\n');
      assert.equal(relay.cutNow({ reset }), 1);
      await sleep(200);
      assert.equal((await c.run("'echo' again", LIMITS)).stdout, 'again\n', `after an idle ${reset ? 'reset' : 'close'}`);
    }
  });
});

describe('Kubernetes through a relay that resets the connection', () => {
  let kube: KubeApiServer;
  let relay: CuttingRelay;
  let k: TestConnector;

  before(async () => {
    kube = await startTestCluster();
    relay = await cuttingRelay(kube.port);
    // The connector's kubeconfig names the relay as the cluster's server (same certificate, same host).
    const kubeconfig = kube.kubeconfig.bind(kube);
    kube.kubeconfig = (auth, o = {}) => kubeconfig(auth, { ...o, server: `https://127.0.0.1:${relay.port}` });
    k = testConnector(kube, 'kube-cuts');
  });

  after(async () => {
    await k?.close();
    relay?.close();
    await kube?.stop();
  });

  test('reset mid-exec: that call fails coded, the next exec and read work', async () => {
    const pending = k.connector.exec('shop', 'web-1', 'app', ['sleep', '2'], { timeoutMs: 5000, maxBytes: 1000 });
    for (let i = 0; kube.runningIn('shop', 'web-1') === 0; i++) {
      assert.ok(i < 200, 'the exec started in the pod');
      await sleep(10);
    }
    assert.ok(relay.cutNow({ reset: true }) >= 1);
    await assert.rejects(pending, coded('WARDEN_BACKEND_ERROR', /unreachable \(ECONNRESET\)|exec stream closed without an exit status/));
    const again = await k.connector.exec('shop', 'web-1', 'app', ['echo', 'hi'], { timeoutMs: 5000, maxBytes: 1000 });
    assert.equal(again.stdout, 'hi\n');
    assert.equal((await k.connector.lookupPod('shop', 'web-1')).state, 'found');
  });

  test('keep-alive connection reset while idle: the next read opens a new one', async () => {
    assert.equal((await k.connector.lookupPod('shop', 'web-1')).state, 'found');
    assert.ok(relay.cutNow({ reset: true }) >= 1, 'the pooled keep-alive connection was live');
    await sleep(100);
    assert.equal((await k.connector.lookupPod('shop', 'web-1')).state, 'found');
  });
});
