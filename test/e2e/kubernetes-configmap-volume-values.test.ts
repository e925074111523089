/**
 * kubectl_logs and kubectl_get, red team: a ConfigMap mounted as a volume (a `configMap`
 * volume, a `projected` volume's `configMap` sources) holds its values as bare files, and the
 * program that reads them prints them as it would a variable's (`using key <value>`).
 * kubectl_get masks a ConfigMap value under a secret-named key (`db-password`) or one holding a
 * Secret manifest, and the values the environment takes from such keys were masked by value in
 * logs; a ConfigMap volume's were not, so the log (and a termination message) showed what
 * kubectl_get masks in the ConfigMap. Now the ConfigMaps a pod mounts are read and their masked
 * values masked by value like those of its environment (secret-env.ts). A value kubectl_get
 * shows stays shown. Through `warden serve`, the real MCP client and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const MOUNTED = 'LEAK-KCMV-mounted-1';
const PROJECTED = 'LEAK-KCMV-projected-2';
const BY_PATH = 'LEAK-KCMV-path-3';
const SHOWN = 'visible-KCMV-greeting';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
  - id: sre-logs
    effect: allow
    who: { groups: [sre] }
    tool: [kubectl_logs, kubectl_get]
    kubernetes: { namespaces: [shop], kinds: [pods, configmaps] }
`;

const term = (message: string) => ({ terminated: { exitCode: 1, reason: 'Error', message, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z' } });

type PodObj = { spec: { containers: Record<string, unknown>[]; volumes?: unknown[] }; status: { containerStatuses: Record<string, unknown>[] } };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('configmaps', { metadata: { name: 'app-config', namespace: 'shop' }, data: { 'db-password': MOUNTED, greeting: SHOWN } });
  server.store.put('configmaps', { metadata: { name: 'partner-config', namespace: 'shop' }, data: { 'api-token': PROJECTED } });
  // A key kubectl_get masks for what it holds (a Secret manifest), mounted under another file name.
  server.store.put('configmaps', { metadata: { name: 'bundle', namespace: 'shop' }, data: { 'b.yaml': `kind: Secret\ndata:\n  x: ${BY_PATH}` } });
  const pod = server.store.addPod({
    namespace: 'shop', name: 'cmv-1', labels: { app: 'web' },
    containers: [{ name: 'app', logs: [{ line: 'booting', ageSeconds: 30 }, { line: `using db key ${MOUNTED}`, ageSeconds: 25 }, { line: `partner ready (${PROJECTED})`, ageSeconds: 20 }, { line: `bundle x: ${BY_PATH}`, ageSeconds: 15 }, { line: `says ${SHOWN}`, ageSeconds: 10 }] }],
  }) as unknown as PodObj;
  pod.spec.volumes = [
    { name: 'cfg', configMap: { name: 'app-config' } },
    { name: 'partner', projected: { sources: [{ configMap: { name: 'partner-config', items: [{ key: 'api-token', path: 'token' }] } }, { serviceAccountToken: { path: 'sa' } }] } },
    { name: 'bundle', configMap: { name: 'bundle', items: [{ key: 'b.yaml', path: 'bundle.yaml' }] } },
  ];
  Object.assign(pod.spec.containers[0]!, { volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'partner', mountPath: '/etc/partner' }, { name: 'bundle', mountPath: '/etc/bundle' }] });
  Object.assign(pod.status.containerStatuses[0]!, { state: term(`fatal: key ${MOUNTED} refused; ${SHOWN}`) });
  // A ConfigMap volume Warden cannot read (absent, not optional): refused, nothing read.
  const lost = server.store.addPod({ namespace: 'shop', name: 'cmv-2', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'hello-lost', ageSeconds: 5 }] }] }) as unknown as PodObj;
  lost.spec.volumes = [{ name: 'gone', configMap: { name: 'gone-config' } }];
  // Every pod's service-account volume projects the cluster CA: not read (this cluster has none to read).
  const sa = server.store.addPod({ namespace: 'shop', name: 'cmv-3', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'hello-sa', ageSeconds: 5 }] }] }) as unknown as PodObj;
  sa.spec.volumes = [{ name: 'kube-api-access-x1', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } }];
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const logs = (pod: string) => w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod, container: 'app' });

test('kubectl_get masks the secret-named and Secret-holding ConfigMap values and shows the others (what the log is held to)', async () => {
  const r = await w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop' });
  assert.equal(r.isError, false, r.text);
  for (const v of [MOUNTED, PROJECTED, BY_PATH]) assert.ok(!r.text.includes(v), r.text);
  assert.ok(r.text.includes(SHOWN), r.text);
});

test("a log line printing a mounted ConfigMap's masked value shows *** in its place; a shown value and the rest stay", async () => {
  const r = await logs('cmv-1');
  assert.equal(r.isError, false, r.text);
  for (const v of [MOUNTED, PROJECTED, BY_PATH]) assert.ok(!r.text.includes(v), r.text);
  assert.match(r.text, /using db key \*\*\*/, r.text);
  assert.match(r.text, /booting/);
  assert.ok(r.text.includes(`says ${SHOWN}`), r.text);
});

test("a termination message printing a mounted ConfigMap's masked value is masked in kubectl_get", async () => {
  const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'cmv-1' });
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes(MOUNTED), r.text);
  assert.match(r.text, /fatal: key \*\*\* refused/, r.text);
  assert.ok(r.text.includes(SHOWN), r.text);
});

test('a ConfigMap volume Warden cannot read refuses the log read before it reads', async () => {
  const r = await logs('cmv-2');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /ConfigMap shop\/gone-config/, r.text);
  assert.ok(!r.text.includes('hello-lost'), r.text);
});

test("a pod's service-account volume (the cluster CA projected) does not need a ConfigMap read", async () => {
  const r = await logs('cmv-3');
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /hello-sa/);
});
