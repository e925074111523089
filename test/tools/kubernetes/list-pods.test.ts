/**
 * KubeConnector.listPods, the pod index events are judged against: every page is read (a pod
 * on the last page keeps its labels), and an RBAC refusal is an error, never an empty index.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../../src/config/secrets.js';
import { KubeConnector } from '../../../tools/kubernetes/connector.js';
import type { KubernetesConnection } from '../../../tools/kubernetes/config.js';
import { startTestCluster, TOKENS } from '../../support/kube-apiserver/warden-setup.js';
import type { KubeApiServer } from '../../support/kube-apiserver/index.js';

let server: KubeApiServer;
let dir: string;
const connectors: KubeConnector[] = [];

before(async () => {
  server = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'warden-listpods-'));
  for (let i = 0; i < 260; i++) server.store.put('pods', { metadata: { name: `p-${String(i).padStart(3, '0')}`, namespace: 'big', labels: { n: String(i) } }, spec: { containers: [{ name: 'app' }] } });
});

after(async () => {
  for (const c of connectors) await c.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function connector(token: string): KubeConnector {
  const file = join(dir, `kube-${connectors.length}.yaml`);
  writeFileSync(file, server.kubeconfig({ token }), { mode: 0o600 });
  const conn: KubernetesConnection = {
    name: 'prod', type: 'kubernetes', kubeconfig: `file:${file}`, context: 'test',
    request_timeout: 3000, exec_timeout: 3000, max_bytes: 65536, exec_protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
  };
  const c = new KubeConnector(conn, createSecretResolver(dir));
  connectors.push(c);
  return c;
}

test('every page is read', async () => {
  const seen = server.requests.length;
  const pods = await connector(TOKENS.good).listPods('big');
  assert.equal(pods.size, 260);
  assert.deepEqual(pods.get('big/p-259')?.labels, { n: '259' });
  const lists = server.requests.slice(seen).filter((r) => r.path.startsWith('/api/v1/namespaces/big/pods?'));
  assert.equal(lists.length, 2, 'two pages');
  assert.match(lists[1]!.path, /continue=/);
});

test('all namespaces: keys carry each pod\'s namespace', async () => {
  const pods = await connector(TOKENS.good).listPods(null);
  assert.ok(pods.has('shop/web-1') && pods.has('kube-system/coredns-1') && pods.has('big/p-000'));
});

test('a refused list is an error, not an empty index', async () => {
  server.tokens.get(TOKENS.limited)!.user.forbidResources = ['pods'];
  await assert.rejects(connector(TOKENS.limited).listPods('shop'), /403 Forbidden/);
});
