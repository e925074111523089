/**
 * kubectl_logs (and kubectl_exec), red team: a Secret mounted as a volume holds its values as bare
 * files, and the program that reads them at start-up prints them as it would a variable's
 * (`connecting upstream with <value>`). Values the environment takes from Secrets were masked by
 * value; a Secret volume's were not, so the log showed what kubectl_get masks in the Secret.
 * Now the Secrets a pod mounts (a `secret` volume, a `projected` volume's `secret` sources) are
 * read and masked by value like those of its environment (secret-env.ts). Through `warden
 * serve`, the real MCP client and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube, webPodShellRule } from '../support/kube-apiserver/warden-setup.js';

const MOUNTED = 'LEAK-KVOL-mounted-1';
const PROJECTED = 'LEAK-KVOL-projected-2';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
${webPodShellRule('sre-echo', ['echo'], ['/app'])}  - id: sre-logs
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_logs
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
`;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('secrets', { metadata: { name: 'upstream', namespace: 'shop' }, type: 'Opaque', data: { conn: Buffer.from(MOUNTED).toString('base64'), other: Buffer.from('LEAK-KVOL-unmounted').toString('base64') } });
  server.store.put('secrets', { metadata: { name: 'partner', namespace: 'shop' }, type: 'Opaque', data: { key: Buffer.from(PROJECTED).toString('base64') } });
  const pod = server.store.addPod({
    namespace: 'shop', name: 'vol-1', labels: { app: 'web' },
    containers: [{ name: 'app', logs: [{ line: 'booting', ageSeconds: 30 }, { line: `connecting upstream with ${MOUNTED}`, ageSeconds: 20 }, { line: `partner ready (${PROJECTED})`, ageSeconds: 10 }] }],
  }) as unknown as { spec: { containers: Record<string, unknown>[]; volumes?: unknown[] } };
  pod.spec.volumes = [
    { name: 'up', secret: { secretName: 'upstream', items: [{ key: 'conn', path: 'conn' }] } },
    { name: 'partner', projected: { sources: [{ secret: { name: 'partner' } }, { serviceAccountToken: { path: 'token' } }] } },
  ];
  Object.assign(pod.spec.containers[0]!, { volumeMounts: [{ name: 'up', mountPath: '/etc/upstream' }, { name: 'partner', mountPath: '/etc/partner' }] });
  // A pod whose Secret volume Warden cannot read (absent, not optional): refused, nothing read.
  const lost = server.store.addPod({ namespace: 'shop', name: 'vol-2', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'hello', ageSeconds: 5 }] }] }) as unknown as { spec: { volumes?: unknown[] } };
  lost.spec.volumes = [{ name: 'gone', secret: { secretName: 'gone' } }, { name: 'maybe', secret: { secretName: 'maybe', optional: true } }];
  // Only an optional Secret absent: the kubelet mounted nothing from it, the log reads.
  const opt = server.store.addPod({ namespace: 'shop', name: 'vol-3', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'hello-optional', ageSeconds: 5 }] }] }) as unknown as { spec: { volumes?: unknown[] } };
  opt.spec.volumes = [{ name: 'maybe', secret: { secretName: 'maybe', optional: true } }];
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const logs = (pod: string) => w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod, container: 'app' });

test("a log line printing a Secret volume's value shows *** in its place; the rest of the log stays", async () => {
  const r = await logs('vol-1');
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes(MOUNTED) && !r.text.includes(PROJECTED), r.text);
  assert.match(r.text, /connecting upstream with \*\*\*/, r.text);
  assert.match(r.text, /booting/);
});

test('a Secret volume Warden cannot read refuses the call before it reads', async () => {
  const r = await logs('vol-2');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /Secret shop\/gone/, r.text);
  assert.ok(!r.text.includes('hello'), r.text);
});

test('a pod whose only Secret volume is optional and absent still has its log read', async () => {
  const r = await logs('vol-3');
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /hello-optional/);
});
