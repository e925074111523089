/**
 * KubeConnector.listPods and readTemplates, the pod and pod-template indexes events are judged
 * against: every page is read (an object on the last page keeps its labels), each kind at its
 * own API group, and an RBAC refusal is an error, never an empty index.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../../src/config/secrets.js';
import { KubeConnector } from '../../../tools/kubernetes/connector.js';
import { readTemplates } from '../../../tools/kubernetes/pod-templates.js';
import type { KubernetesConnection } from '../../../tools/kubernetes/config.js';
import { startTestCluster, TOKENS } from '../../support/kube-apiserver/warden-setup.js';
import type { KubeApiServer } from '../../support/kube-apiserver/index.js';

let server: KubeApiServer;
let dir: string;
const connectors: KubeConnector[] = [];

before(async () => {
  server = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'warden-listpods-'));
  for (let i = 0; i < 260; i++) server.store.put('replicasets', { metadata: { name: `rs-${String(i).padStart(3, '0')}`, namespace: 'big' }, spec: { template: { metadata: { labels: { n: String(i) } } } } });
  server.store.put('cronjobs', { metadata: { name: 'backup', namespace: 'shop' }, spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: 'db' } } } } } } });
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

test('pod templates: every page, at the kind\'s own group', async () => {
  server.tokens.get(TOKENS.limited)!.user.forbidResources = ['secrets'];
  const seen = server.requests.length;
  const rs = await readTemplates(connector(TOKENS.good), 'ReplicaSet', 'big');
  assert.equal(rs.size, 260);
  assert.deepEqual(rs.get('big/rs-259')?.labels, { n: '259' });
  assert.equal(rs.get('big/rs-259')?.uid, server.store.get('replicasets', 'big', 'rs-259')!.metadata.uid);
  assert.equal(server.requests.slice(seen).filter((r) => r.path.startsWith('/apis/apps/v1/namespaces/big/replicasets?')).length, 2);
  const cj = await readTemplates(connector(TOKENS.good), 'CronJob', null);
  assert.deepEqual(cj.get('shop/backup')?.labels, { app: 'db' });
  assert.ok(server.requests.some((r) => r.path.startsWith('/apis/batch/v1/cronjobs?')));
  server.tokens.get(TOKENS.limited)!.user.forbidResources = ['cronjobs'];
  await assert.rejects(readTemplates(connector(TOKENS.limited), 'CronJob', 'shop'), /403 Forbidden/);
});
