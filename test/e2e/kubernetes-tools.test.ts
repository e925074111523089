/**
 * kubectl_exec / kubectl_get / kubectl_logs end to end: `warden serve`, the real MCP client,
 * the test API server. Failure paths must be clear coded errors: unknown pod, pod deleted
 * mid-exec, unreachable server, expired token (401), RBAC forbidden (403), exec timeout,
 * output cap; secrets never reach the agent or the transcript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { PLANTED } from '../support/kube-apiserver/fixtures.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube());
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

type Err = { error: { code: string; message: string; rule_ids: string[] } };
const exec = (args: Record<string, unknown>) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-1', container: 'app', ...args });
const code = (r: { structured: Record<string, unknown> | undefined }) => (r.structured as Err).error.code;

describe('discovery', () => {
  test('tools/list shows the three kubernetes tools with honest annotations', async () => {
    const { tools } = await w.client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['kubectl_exec', 'kubectl_get', 'kubectl_logs']) assert.ok(names.includes(n), n);
    assert.equal(tools.find((t) => t.name === 'kubectl_get')!.annotations?.readOnlyHint, true);
    assert.equal(tools.find((t) => t.name === 'kubectl_exec')!.annotations?.readOnlyHint, false);
  });

  test('list_connections says which namespaces and kinds this principal may reach', async () => {
    const r = await w.call('list_connections', {});
    assert.equal(r.isError, false, r.text);
    const prod = (r.structured as { data: { connections: { name: string; tools: string[]; grants: string[] }[] } }).data.connections.find((c) => c.name === 'prod')!;
    assert.deepEqual(prod.tools.sort(), ['kubectl_exec', 'kubectl_get', 'kubectl_logs']);
    const grants = prod.grants.join('\n');
    assert.match(grants, /namespaces shop/);
    assert.match(grants, /kinds pods, deployments/);
    assert.match(grants, /pods labelled app=web/);
  });
});

describe('kubectl_exec', () => {
  test('runs argv and reports a non-zero exit code as data', async () => {
    const r = await exec({ command: ['ls', '/app/nope'] });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { exit_code: number; stderr: string };
    assert.notEqual(s.exit_code, 0);
    assert.match(s.stderr, /No such file/);
  });

  test('defaults the container from the pod (default-container annotation), then judges it', async () => {
    const r = await w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-1', command: ['ls', '/app'] });
    assert.equal(r.isError, false, r.text);
    assert.match((r.structured as { stdout: string }).stdout, /server\.js/);
  });

  test('falls back to v4.channel.k8s.io when the server does not offer v5', async () => {
    server.execProtocols = ['v4.channel.k8s.io'];
    try {
      const r = await exec({ command: ['ls', '/app'] });
      assert.equal(r.isError, false, r.text);
      const last = server.requests.filter((q) => q.upgrade === 'websocket').at(-1)!;
      assert.equal(last.protocol, 'v4.channel.k8s.io');
    } finally {
      server.execProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    }
    await exec({ command: ['ls', '/app'] });
    assert.equal(server.requests.filter((q) => q.upgrade === 'websocket').at(-1)!.protocol, 'v5.channel.k8s.io');
  });

  test('authenticates with a client certificate from the kubeconfig', async () => {
    const r = await w.call('kubectl_exec', { connection: 'certs', namespace: 'shop', pod: 'web-1', container: 'app', command: ['ls', '/app'] });
    assert.equal(r.isError, false, r.text);
    assert.equal(server.requests.filter((q) => q.upgrade === 'websocket').at(-1)!.user, 'warden-cert');
  });

  test('unknown pod: denied in the words of a pod outside the grant (no existence oracle)', async () => {
    const r = await exec({ pod: 'web-404', command: ['ls', '/app'] });
    assert.equal(r.isError, true);
    assert.equal(code(r), 'WARDEN_DENIED');
    assert.match(r.text, /pod shop\/web-404 is not among the pods this grant reaches \(absent, or outside the grant\)/);
  });

  test('sh -c with extra operands is refused as a parse error', async () => {
    const r = await exec({ command: ['sh', '-c', 'ls /app', 'x'] });
    assert.equal(code(r), 'WARDEN_PARSE');
  });

  test('exec timeout: a coded timeout, and the process is gone', async () => {
    const t0 = Date.now();
    const r = await exec({ command: ['sleep', '20'], timeout_s: 1 });
    assert.equal(r.isError, true);
    assert.equal(code(r), 'WARDEN_TIMEOUT');
    assert.ok(Date.now() - t0 < 5000, 'returned promptly');
    for (let i = 0; i < 50 && server.runningIn('shop', 'web-1') > 0; i++) await sleep(50);
    assert.equal(server.runningIn('shop', 'web-1'), 0, 'the server killed the command when the stream closed');
  });

  test('output cap: truncated at max_bytes', async () => {
    const r = await exec({ command: ['cat', '/app/big.txt'] });
    assert.equal(r.isError, false, r.text.slice(0, 200));
    const s = r.structured as { stdout: string; truncated: boolean; exit_code: number | null };
    assert.equal(s.truncated, true);
    assert.ok(s.stdout.length <= 65536 && s.stdout.length > 60_000, `stdout ${s.stdout.length} bytes`);
    assert.equal(s.exit_code, null);
  });

  test('pod deleted mid-exec: a clear backend error', async () => {
    server.store.addPod({ namespace: 'shop', name: 'web-2', labels: { app: 'web' }, containers: [{ name: 'app' }], files: { '/app/x': 'x' } });
    const pending = exec({ pod: 'web-2', command: ['sleep', '2'] });
    for (let i = 0; i < 100 && server.runningIn('shop', 'web-2') === 0; i++) await sleep(20);
    assert.equal(server.runningIn('shop', 'web-2'), 1, 'the command started');
    server.deletePod('shop', 'web-2');
    const r = await pending;
    assert.equal(r.isError, true, r.text);
    assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
    assert.match(r.text, /web-2 was deleted/);
  });

  test('pod replaced as the exec request arrives: the output is withheld from the agent and the transcript, which says it may have run there', async () => {
    const marker = 'REPLACED-POD-OUTPUT-9b2d';
    server.store.addPod({ namespace: 'shop', name: 'web-3', labels: { app: 'web' }, containers: [{ name: 'app' }], files: { '/app/x': 'judged' } });
    server.onPodRequest('exec', 'shop', 'web-3', () => {
      server.deletePod('shop', 'web-3');
      server.store.addPod({ namespace: 'shop', name: 'web-3', labels: { app: 'db' }, containers: [{ name: 'app' }], files: { '/app/x': marker } });
    });
    const r = await exec({ pod: 'web-3', command: ['cat', '/app/x'] }).finally(() => server.deletePod('shop', 'web-3'));
    assert.equal(r.isError, true, r.text);
    assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
    assert.match(r.text, /the command ran and may have run in a pod the policy did not judge, so its output is withheld/);
    assert.ok(!r.text.includes(marker));
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /may have run in a pod the policy did not judge/);
    assert.ok(!all.includes(marker), 'the transcript holds none of the withheld output');
  });

  test('API server unreachable: a clear backend error', async () => {
    const r = await w.call('kubectl_exec', { connection: 'down', namespace: 'shop', pod: 'web-1', container: 'app', command: ['ls', '/app'] });
    assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
    assert.match(r.text, /unreachable \(ECONNREFUSED\)/);
  });

  test('expired token: 401 surfaced as a clear error, the token never shown', async () => {
    const r = await w.call('kubectl_exec', { connection: 'expired', namespace: 'shop', pod: 'web-1', container: 'app', command: ['ls', '/app'] });
    assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
    assert.match(r.text, /401 Unauthorized/);
    assert.ok(!r.text.includes('tok-warden'));
  });
});

describe('kubectl_get and kubectl_logs', () => {
  test('lists pods as compact JSON without managedFields', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop' });
    assert.equal(r.isError, false, r.text);
    const items = (r.structured as { data: { items: { metadata: { name: string } }[] } }).data.items;
    assert.deepEqual(items.map((i) => i.metadata.name).sort(), ['db-1', 'web-1']);
    assert.ok(!r.text.includes('managedFields'));
  });

  test('label_selector filters on the server', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop', label_selector: 'app=web' });
    const items = (r.structured as { data: { items: { metadata: { name: string } }[] } }).data.items;
    assert.deepEqual(items.map((i) => i.metadata.name), ['web-1']);
  });

  test('secrets: values masked, last-applied dropped, a granted key revealed, an ungranted key denied', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace: 'shop', name: 'db-creds' });
    assert.equal(r.isError, false, r.text);
    const d = (r.structured as { data: { data: Record<string, string> } }).data.data;
    assert.deepEqual(d, { username: '***', password: '***' });
    assert.ok(!r.text.includes('last-applied'));
    const shown = await w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace: 'shop', name: 'db-creds', reveal_keys: ['username'] });
    assert.deepEqual((shown.structured as { data: { data: Record<string, string> } }).data.data, { username: PLANTED.secretUsername, password: '***' });
    const refused = await w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace: 'shop', name: 'db-creds', reveal_keys: ['password'] });
    assert.equal(code(refused), 'WARDEN_DENIED');
    for (const x of [r, shown, refused]) {
      assert.ok(!x.text.includes(PLANTED.secretPassword));
      assert.ok(!x.text.includes(Buffer.from(PLANTED.secretPassword).toString('base64')));
    }
  });

  test('configmap values go through the content detectors', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop', name: 'web-config' });
    assert.equal(r.isError, false, r.text);
    assert.ok(!r.text.includes(PLANTED.configmapToken));
    assert.match(r.text, /LOG_LEVEL/);
  });

  test('kinds and namespaces outside the grant are denied', async () => {
    assert.equal(code(await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'default' })), 'WARDEN_DENIED');
    assert.equal(code(await w.call('kubectl_get', { connection: 'prod', kind: 'pods' })), 'WARDEN_DENIED');
    const nodes = await w.call('kubectl_get', { connection: 'prod', kind: 'nodes' });
    assert.equal(nodes.isError, false, nodes.text);
  });

  test('RBAC forbidden: 403 surfaced as a clear error', async () => {
    const r = await w.call('kubectl_get', { connection: 'limited', kind: 'secrets', namespace: 'shop' });
    assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
    assert.match(r.text, /403 Forbidden: secrets is forbidden: User "limited-warden"/);
  });

  test('logs: tail lines of the default container; an unknown pod is a clear error', async () => {
    const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'web-1', tail_lines: 3 });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual((r.structured as { log: string }).log.trim().split('\n'), ['GET /item/47 200', 'GET /item/48 200', 'GET /item/49 200']);
    const missing = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'nope', tail_lines: 3 });
    assert.equal(code(missing), 'WARDEN_BACKEND_ERROR');
    assert.match(missing.text, /pod shop\/nope not found/);
  });

  test('the transcript holds no planted secret', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /kubectl_get/);
    for (const s of [PLANTED.secretPassword, Buffer.from(PLANTED.secretPassword).toString('base64'), PLANTED.configmapToken, PLANTED.dbPassword, 'tok-warden-good']) {
      assert.ok(!all.includes(s), `transcript leaks ${s.slice(0, 6)}...`);
    }
  });
});
