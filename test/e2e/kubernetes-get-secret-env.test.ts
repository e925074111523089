/**
 * kubectl_get, red team: a container's termination message (`/dev/termination-log`, shown in
 * the pod's status) and an event's message (an exec probe's output: `Readiness probe failed:
 * ...`) are text the program writes, so a program printing `$UPSTREAM` (a variable taken from a
 * Secret, under a name that says nothing) put the Secret's value in kubectl_get's answer, masked
 * by name only. Warden now masks those values (and their base64 and hex) there as kubectl_exec
 * and kubectl_logs do, reading the Secrets of the pods returned or named by the events returned;
 * a Secret it cannot read refuses the call. Through `warden serve`, the real MCP client and the
 * test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { PLANTED } from '../support/kube-apiserver/fixtures.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const API_KEY = 'LEAK-KGET-api-1';
const LEAKS = [PLANTED.secretPassword, API_KEY, Buffer.from(`${PLANTED.secretPassword}\n`).toString('base64').slice(0, 16), Buffer.from(API_KEY).toString('hex')];
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod, limited]
    kubernetes: { namespaces: [shop, other], kinds: [pods, events] }
`;

const term = (message: string) => ({ terminated: { exitCode: 1, reason: 'Error', message, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z' } });

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('secrets', { metadata: { name: 'api-keys', namespace: 'shop' }, type: 'Opaque', data: { primary: Buffer.from(API_KEY).toString('base64') } });
  const pod = server.store.addPod({ namespace: 'shop', name: 'crash-1', labels: { app: 'crash' }, containers: [{ name: 'app' }] }) as unknown as { metadata: { uid: string }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] }; status: Record<string, unknown> & { containerStatuses: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    env: [{ name: 'UPSTREAM', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }],
    envFrom: [{ prefix: 'API_', secretRef: { name: 'api-keys' } }],
  });
  pod.spec.initContainers = [{ name: 'init', image: 'registry.example/init:1.0', env: [{ name: 'UP', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }] }];
  Object.assign(pod.status.containerStatuses[0]!, {
    state: term(`fatal: login refused for ${PLANTED.secretPassword}`),
    lastState: term(`key ${Buffer.from(API_KEY).toString('hex')} rejected`),
  });
  pod.status.initContainerStatuses = [{ name: 'init', ready: false, restartCount: 0, state: term(`encoded ${Buffer.from(`${PLANTED.secretPassword}\n`).toString('base64')}`) }];
  pod.status.ephemeralContainerStatuses = [{ name: 'dbg', ready: false, restartCount: 0, state: { waiting: { reason: 'x' } }, lastState: term(`api=${API_KEY} done`) }];
  const ref = { kind: 'Pod', name: 'crash-1', namespace: 'shop', uid: pod.metadata.uid };
  server.store.put('events', { metadata: { name: 'crash-1.probe', namespace: 'shop' }, involvedObject: ref, reason: 'Unhealthy', message: `Readiness probe failed: ${PLANTED.secretPassword}`, type: 'Warning' });
  server.store.put('events', { metadata: { name: 'crash-1.note', namespace: 'shop' }, regarding: ref, reason: 'Unhealthy', note: `Liveness probe failed: token ${API_KEY} expired`, type: 'Warning' });
  // A second pod of the same Secrets, and pods enough that their events' pods are listed once.
  const twin = server.store.addPod({ namespace: 'shop', name: 'crash-2', labels: { app: 'crash' }, containers: [{ name: 'app' }] }) as unknown as typeof pod;
  Object.assign(twin.spec.containers[0]!, { envFrom: [{ secretRef: { name: 'db-creds' } }, { secretRef: { name: 'api-keys' } }] });
  Object.assign(twin.status.containerStatuses[0]!, { state: term(`twin saw ${API_KEY}`) });
  for (let i = 0; i < 17; i++) {
    const p = server.store.addPod({ namespace: 'shop', name: `busy-${i}`, labels: { app: 'busy' }, containers: [{ name: 'app' }] });
    server.store.put('events', { metadata: { name: `busy-${i}.pull`, namespace: 'other' }, involvedObject: { kind: 'Pod', name: `busy-${i}`, namespace: 'shop', uid: p.metadata.uid }, reason: 'Pulled', message: 'Pulled image', type: 'Normal' });
  }
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const get = (args: Record<string, unknown>, connection = 'prod') => w.call('kubectl_get', { connection, namespace: 'shop', ...args });
const leaked = (text: string) => LEAKS.filter((l) => text.includes(l));

test('a termination message (state and lastState, every container list) printing a Secret-sourced value, plain, base64 or hex, shows *** in its place', async () => {
  for (const args of [{ kind: 'pods', name: 'crash-1' }, { kind: 'pods' }, { kind: 'pods', label_selector: 'app=crash' }]) {
    const r = await get(args);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(leaked(r.text), [], r.text);
    assert.match(r.text, /fatal: login refused for \*\*\*/);
    assert.match(r.text, /key \*\*\* rejected/);
    assert.match(r.text, /api=\*\*\* done/);
    assert.match(r.text, /masked/);
  }
});

test("an event's message or note about such a pod shows *** in place of the value; other events stay", async () => {
  for (const args of [{ kind: 'events' }, { kind: 'events', name: 'crash-1.probe' }, { kind: 'events', name: 'crash-1.note' }]) {
    const r = await get(args);
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(leaked(r.text), [], r.text);
  }
  const all = await get({ kind: 'events' });
  assert.match(all.text, /Readiness probe failed: \*\*\*/);
  assert.match(all.text, /token \*\*\* expired/);
  assert.match(all.text, /Started container app/);
});

test('cost: each Secret is read once per call, only for pods returned holding a termination message; many pods named by events are listed once', async () => {
  const paths = async (args: Record<string, unknown>) => {
    const seen = server.requests.length;
    const r = await get(args);
    assert.equal(r.isError, false, r.text);
    return server.requests.slice(seen).map((q) => q.path.split('?')[0]!);
  };
  const crash = await paths({ kind: 'pods', label_selector: 'app=crash' });
  assert.deepEqual(crash.filter((p) => p.includes('/secrets/')).sort(), ['/api/v1/namespaces/shop/secrets/api-keys', '/api/v1/namespaces/shop/secrets/db-creds']);
  assert.deepEqual((await paths({ kind: 'pods', label_selector: 'app=busy' })).filter((p) => p.includes('/secrets/')), []);
  const busy = await paths({ kind: 'events', namespace: 'other' });
  assert.deepEqual(busy, ['/api/v1/namespaces/other/events', '/api/v1/namespaces/shop/pods']);
});

test('a Secret Warden cannot read refuses the call; pods and events without such text are still read', async () => {
  for (const args of [{ kind: 'pods', name: 'crash-1' }, { kind: 'pods' }, { kind: 'events' }]) {
    const r = await get(args, 'limited');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /Secret shop\/db-creds|Secret shop\/api-keys/);
    assert.deepEqual(leaked(r.text), [], r.text);
  }
  const pod = await get({ kind: 'pods', name: 'web-1' }, 'limited');
  assert.equal(pod.isError, false, pod.text);
  const events = await get({ kind: 'events', name: 'web-1.17a' }, 'limited');
  assert.equal(events.isError, false, events.text);
  assert.match(events.text, /Started container app/);
});

test('nothing of it reaches the transcript', () => {
  assert.deepEqual(leaked(dumpTranscript(dir.dbPath)), []);
});
