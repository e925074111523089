/**
 * Fidelity of the test API server, proven with the real client: `kubectl` (whatever version
 * the machine has) runs `get pods`, `logs` and `exec -- ls` against it, and its output is
 * compared with what the server holds. kubectl >= 1.30 execs over WebSocket (v5); older
 * kubectl speaks SPDY/3.1, which the server refuses loudly, so this test fails (never skips).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireExecutable } from '../../support/system-deps.js';
import type { KubeApiServer } from '../../support/kube-apiserver/index.js';
import { TOKENS, startTestCluster } from '../../support/kube-apiserver/warden-setup.js';

const run = promisify(execFile);
let server: KubeApiServer;
let tmp: string;
let kubectl: string;
let minor = 0;

async function k(config: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(kubectl, ['--kubeconfig', join(tmp, config), '--cache-dir', join(tmp, 'cache'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: tmp }, timeout: 30_000 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : -1 };
  }
}

before(async () => {
  kubectl = requireExecutable('kubectl', 'kubernetes-client');
  server = await startTestCluster();
  tmp = mkdtempSync(join(tmpdir(), 'kubectl-fidelity-'));
  writeFileSync(join(tmp, 'token.yaml'), server.kubeconfig({ token: TOKENS.good }));
  writeFileSync(join(tmp, 'cert.yaml'), server.kubeconfig(server.pki.clientCert('jane', ['devs'])));
  writeFileSync(join(tmp, 'expired.yaml'), server.kubeconfig({ token: TOKENS.expired }));
  writeFileSync(join(tmp, 'limited.yaml'), server.kubeconfig({ token: TOKENS.limited }));
  const v = await run(kubectl, ['version', '--client', '-o', 'json'], { env: { PATH: process.env.PATH ?? '', HOME: tmp } });
  minor = Number.parseInt((JSON.parse(v.stdout) as { clientVersion: { minor: string } }).clientVersion.minor, 10);
});

after(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('real kubectl against the test API server', () => {
  test('get pods: the table lists exactly the pods the server holds', async () => {
    const r = await k('token.yaml', ['get', 'pods', '-n', 'shop']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((c) => c[0]).sort(), server.store.list('pods', 'shop').map((p) => p.metadata.name).sort());
    assert.deepEqual(rows.find((c) => c[0] === 'web-1')!.slice(1, 3), ['2/2', 'Running']);
  });

  test('get pods -o json (client certificate auth): names and labels as stored', async () => {
    const r = await k('cert.yaml', ['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string; labels: Record<string, string> } }[] }).items;
    assert.deepEqual(items.map((i) => [i.metadata.name, i.metadata.labels]), [['web-1', { app: 'web', tier: 'frontend' }]]);
    assert.ok(server.requests.some((q) => q.user === 'jane'));
  });

  test('logs --tail: the last lines of the fixture log', async () => {
    const r = await k('token.yaml', ['logs', '-n', 'shop', 'web-1', '-c', 'app', '--tail', '5']);
    assert.equal(r.code, 0, r.stderr);
    const want = server.store.container('shop', 'web-1', 'app')!.logs!.slice(-5).map((l) => l.line);
    assert.deepEqual(r.stdout.trim().split('\n'), want);
  });

  test('exec -- ls: lists the pod fixture directory', async () => {
    const r = await k('token.yaml', ['exec', '-n', 'shop', 'web-1', '-c', 'app', '--', 'ls', '/app']);
    assert.equal(r.code, 0, `kubectl 1.${minor} exec failed: ${r.stderr}`);
    const want = readdirSync(join(server.store.podDir('shop', 'web-1')!, 'app')).sort();
    assert.deepEqual(r.stdout.trim().split('\n').sort(), want);
    const last = server.requests.filter((q) => q.path.includes('/exec?')).at(-1)!;
    assert.equal(last.status, 101);
    if (minor >= 30) assert.equal(last.protocol, 'v5.channel.k8s.io');
  });

  test('exec: the status channel carries the exit code to kubectl', async () => {
    const r = await k('token.yaml', ['exec', '-n', 'shop', 'web-1', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err/);
  });

  test('401 and 403 look to kubectl as they do from a real API server', async () => {
    const expired = await k('expired.yaml', ['get', 'pods', '-n', 'shop']);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /Unauthorized|must be logged in/);
    const forbidden = await k('limited.yaml', ['get', 'secrets', '-n', 'shop']);
    assert.notEqual(forbidden.code, 0);
    assert.match(forbidden.stderr, /secrets is forbidden: User "limited-warden" cannot list resource "secrets"/);
  });
});
