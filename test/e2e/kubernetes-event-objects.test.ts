/**
 * Events about objects that are neither pods nor workloads, under a `pod_labels` grant and
 * under deny rules on pod labels: an event about a Service is judged by that Service's
 * selector, one about a PodDisruptionBudget by its selector, one about a Node as a pod_labels
 * grant sees Nodes (their own state, not their pods'), and one about any other kind is
 * withheld (Warden cannot tell which pods it shows). Without a pod-label restriction every
 * event is shown and nothing more is read. Through `warden serve` and the test API server;
 * what is withheld must be absent from the whole answer and from the transcript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { TOKENS, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const POLICY = `
rules:
  - id: web-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod, limited]
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, kinds: [pods, events, services] }
  - id: all-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [certs]
    kubernetes: { kinds: [events, services] }
  - id: no-quarantined
    effect: deny
    tool: kubectl_get
    on: [certs]
    kubernetes: { namespaces: [shop], kinds: [events], pod_labels: { quarantine: "true" } }
    reason: Quarantined pods are off limits.
`;

/** Messages of events about objects whose pods lie outside the prod grant. */
const HIDDEN = {
  dbService: 'Ensured load balancer db-lb-EV1a',
  goneService: 'Deleted load balancer gone-lb-EV1b',
  oldService: 'Ensured load balancer old-web-EV1c',
  manualService: 'Endpoints of manual-EV1d updated',
  relatedService: 'Routed by db service EV1e',
  dbPdb: 'No matching pods found for db-pdb EV2a',
  multiPdb: 'Pods of web-or-db EV2b cannot be evicted',
  bareEvictionPdb: 'Selector-less pdb EV2c',
  nodeOom: 'System OOM encountered, victim process: postgres-EV3a, pid: 4242',
  nodeGc: 'failed to garbage collect registry.example/db-image-EV3b',
  configMap: 'ConfigMap shop/db-settings-EV4a changed',
  custom: 'Certificate db-tls-EV4b issued',
};

/** Messages shown to the prod grant (their objects pick only app=web pods, or are the node's own). */
const SHOWN = {
  webService: 'Ensured load balancer web-OK1',
  webPdb: 'web-pdb healthy OK2',
  exprPdb: 'web-expr-pdb healthy OK3',
  nodeReady: 'Node node-1 status is now: NodeReady OK4',
  extService: 'ExternalName ext OK5',
};

/** Shown to the prod grant, withheld by the deny on quarantined pods (certs). */
const CANARY = 'Ensured load balancer web-canary-OK6';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

type Obj = { metadata: { name: string } };
type Result = { text: string; isError: boolean; structured: Record<string, unknown> | undefined };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const s = server.store;
  // The seeded Service `web` selects app=web.
  const webUid = s.get('services', 'shop', 'web')!.metadata.uid as string;
  const svc = (name: string, spec: Record<string, unknown>) => s.put('services', { metadata: { name, namespace: 'shop' }, spec });
  svc('db', { selector: { app: 'db' }, ports: [{ port: 5432 }] });
  svc('web-canary', { selector: { app: 'web', quarantine: 'true' }, ports: [{ port: 80 }] });
  svc('web-stable', { selector: { app: 'web', quarantine: 'false' }, ports: [{ port: 80 }] });
  svc('manual', { ports: [{ port: 9000 }] });
  svc('ext', { type: 'ExternalName', externalName: 'api.example.com' });
  const pdb = (name: string, spec: Record<string, unknown>) => s.put('poddisruptionbudgets', { metadata: { name, namespace: 'shop' }, spec });
  pdb('web-pdb', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  pdb('web-expr', { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } });
  pdb('db-pdb', { minAvailable: 1, selector: { matchLabels: { app: 'db' } } });
  pdb('web-or-db', { maxUnavailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] } });
  pdb('bare', { maxUnavailable: 1 });

  // A reference carries the uid of the object of that name, as a real recorder's does.
  const resource: Record<string, string> = { Pod: 'pods', Service: 'services', PodDisruptionBudget: 'poddisruptionbudgets' };
  const uidOf = (kind: string, name: string) => (resource[kind] ? s.get(resource[kind], 'shop', name)?.metadata.uid : undefined);
  const ref = (kind: string, name: string, extra: Record<string, unknown> = {}) => ({ kind, name, namespace: 'shop', uid: uidOf(kind, name), ...extra });
  const ev = (name: string, message: string, extra: Record<string, unknown>) =>
    s.put('events', { metadata: { name, namespace: 'shop' }, reason: 'Test', message, type: 'Normal', ...extra });
  ev('svc-db.e1', HIDDEN.dbService, { involvedObject: ref('Service', 'db') });
  ev('svc-gone.e1', HIDDEN.goneService, { involvedObject: ref('Service', 'gone') });
  ev('svc-web.old', HIDDEN.oldService, { involvedObject: ref('Service', 'web', { uid: 'a-previous-service-uid' }) });
  ev('svc-manual.e1', HIDDEN.manualService, { involvedObject: ref('Service', 'manual') });
  ev('web-1.svc', HIDDEN.relatedService, { involvedObject: ref('Pod', 'web-1'), related: ref('Service', 'db') });
  ev('svc-web.e1', SHOWN.webService, { involvedObject: ref('Service', 'web', { uid: webUid }) });
  ev('svc-ext.e1', SHOWN.extService, { involvedObject: ref('Service', 'ext') });
  ev('svc-canary.e1', CANARY, { involvedObject: ref('Service', 'web-canary') });
  ev('svc-stable.e1', 'Ensured load balancer web-stable', { involvedObject: ref('Service', 'web-stable') });
  ev('pdb-db.e1', HIDDEN.dbPdb, { involvedObject: ref('PodDisruptionBudget', 'db-pdb') });
  ev('pdb-multi.e1', HIDDEN.multiPdb, { involvedObject: ref('PodDisruptionBudget', 'web-or-db') });
  ev('pdb-bare.e1', HIDDEN.bareEvictionPdb, { involvedObject: ref('PodDisruptionBudget', 'bare') });
  ev('pdb-web.e1', SHOWN.webPdb, { involvedObject: ref('PodDisruptionBudget', 'web-pdb') });
  ev('pdb-expr.e1', SHOWN.exprPdb, { involvedObject: ref('PodDisruptionBudget', 'web-expr') });
  // A real cluster records node events in `default`; the namespace does not change the verdict.
  const node = { kind: 'Node', name: 'node-1', uid: 'node-1' };
  ev('node-1.ready', SHOWN.nodeReady, { involvedObject: node, reason: 'NodeReady' });
  ev('node-1.oom', HIDDEN.nodeOom, { involvedObject: node, reason: 'SystemOOM', type: 'Warning' });
  ev('node-1.gc', HIDDEN.nodeGc, { involvedObject: node, reason: 'ImageGCFailed', type: 'Warning' });
  ev('cm.e1', HIDDEN.configMap, { involvedObject: ref('ConfigMap', 'db-settings') });
  ev('cert.e1', HIDDEN.custom, { involvedObject: { ...ref('Certificate', 'db-tls'), apiVersion: 'cert-manager.io/v1' } });
  // The same kinds of events where no pod-label rule applies (certs, outside shop).
  const other = (name: string, message: string, extra: Record<string, unknown>) =>
    s.put('events', { metadata: { name, namespace: 'kube-system' }, reason: 'Test', message, type: 'Normal', ...extra });
  other('kube-dns.svc', 'Ensured load balancer kube-dns', { involvedObject: { kind: 'Service', name: 'kube-dns', namespace: 'kube-system' } });
  other('node-1.oom', 'System OOM encountered, victim process: coredns', { involvedObject: node, reason: 'SystemOOM' });
  other('cm.e1', 'ConfigMap coredns changed', { involvedObject: { kind: 'ConfigMap', name: 'coredns', namespace: 'kube-system' } });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const events = (args: Record<string, unknown> = {}, connection = 'prod') => w.call('kubectl_get', { connection, kind: 'events', namespace: 'shop', ...args });
const names = (r: Result) => (r.structured as { data: { items: Obj[] } }).data.items.map((i) => i.metadata.name).sort();
const error = (r: Result) => (r.structured as { error: { code: string; rule_ids: string[] } }).error;

function assertHidden(r: Result): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `leaks the ${k} event`);
}

describe('events about Services, PodDisruptionBudgets, Nodes and other kinds under a pod_labels grant', () => {
  test('a list keeps events whose object picks only granted pods, and withholds the rest', async () => {
    const r = await events();
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['node-1.ready', 'pdb-expr.e1', 'pdb-web.e1', 'svc-canary.e1', 'svc-ext.e1', 'svc-stable.e1', 'svc-web.e1', 'web-1.17a']);
    for (const m of Object.values(SHOWN)) assert.ok(r.text.includes(m), m);
    assertHidden(r);
    assert.match(r.text, /12 events .*withheld/);
  });

  test('an event about a Service whose selector picks pods outside the grant is refused by name', async () => {
    for (const [name, why] of [
      ['svc-db.e1', /Service shop\/db/], ['svc-gone.e1', /Service shop\/gone/], ['svc-web.old', /Service shop\/web/],
      ['svc-manual.e1', /Service shop\/manual/], ['web-1.svc', /Service shop\/db/],
    ] as const) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(r.text, why, name); // what the event is about is not told
      assertHidden(r);
    }
    const ok = await events({ name: 'svc-web.e1' });
    assert.equal(ok.isError, false, ok.text);
  });

  test('an event about a PodDisruptionBudget is judged by its selector', async () => {
    for (const [name, why] of [['pdb-db.e1', /PodDisruptionBudget shop\/db-pdb/], ['pdb-multi.e1', /PodDisruptionBudget shop\/web-or-db/], ['pdb-bare.e1', /PodDisruptionBudget shop\/bare/]] as const) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(r.text, why, name); // what the event is about is not told
      assertHidden(r);
    }
    for (const name of ['pdb-web.e1', 'pdb-expr.e1']) assert.equal((await events({ name })).isError, false, name);
  });

  test('an event about a Node is shown when it is about the node itself, withheld when it may show its pods', async () => {
    assert.equal((await events({ name: 'node-1.ready' })).isError, false);
    for (const name of ['node-1.oom', 'node-1.gc']) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(r.text, /Node node-1/, name);
      assertHidden(r);
    }
  });

  test('an event about a kind Warden cannot judge is withheld (fail closed)', async () => {
    for (const [name, why] of [['cm.e1', /ConfigMap shop\/db-settings/], ['cert.e1', /Certificate shop\/db-tls/]] as const) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(r.text, why, name); // what the event is about is not told
      assertHidden(r);
    }
  });

  test('one list per kind the events name, not one read per event', async () => {
    const seen = server.requests.length;
    await events();
    const paths = server.requests.slice(seen).map((q) => q.path.split('?')[0]).sort();
    assert.deepEqual(paths, ['/api/v1/namespaces/shop/events', '/api/v1/namespaces/shop/pods', '/api/v1/namespaces/shop/services', '/apis/policy/v1/namespaces/shop/poddisruptionbudgets']);
  });

  test('when the objects cannot be read, the call is refused (fail closed)', async () => {
    const user = server.tokens.get(TOKENS.limited)!.user;
    const before = user.forbidResources;
    user.forbidResources = ['poddisruptionbudgets'];
    try {
      const r = await events({}, 'limited');
      assert.equal(r.isError, true, r.text);
      assert.equal(error(r).code, 'WARDEN_BACKEND_ERROR');
      assert.match(r.text, /403/);
      assertHidden(r);
    } finally {
      user.forbidResources = before;
    }
  });
});

describe('events about other objects under a deny on pod labels', () => {
  test('the deny reaches Services and PodDisruptionBudgets whose selector does not rule it out, and unjudgeable kinds', async () => {
    const r = await events({}, 'certs');
    assert.equal(r.isError, false, r.text);
    // svc-stable's selector rules quarantine=true out; svc-ext selects no pods; node-1.ready is
    // the node's own; the rest may pick quarantined pods, or cannot be judged.
    assert.deepEqual(names(r), ['node-1.ready', 'svc-ext.e1', 'svc-stable.e1', 'web-1.17a']);
    assert.ok(!r.text.includes(CANARY));
    const q = await events({ name: 'svc-canary.e1' }, 'certs');
    assert.equal(error(q).code, 'WARDEN_DENIED');
    assert.deepEqual(error(q).rule_ids, ['no-quarantined']);
    const p = await events({ name: 'pdb-web.e1' }, 'certs');
    assert.equal(error(p).code, 'WARDEN_DENIED');
    assert.deepEqual(error(p).rule_ids, ['no-quarantined']);
  });

  test('without any pod-label rule every event is shown, and nothing more is read', async () => {
    const seen = server.requests.length;
    const r = await w.call('kubectl_get', { connection: 'certs', kind: 'events', namespace: 'kube-system' });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['cm.e1', 'kube-dns.svc', 'node-1.oom']);
    assert.deepEqual(server.requests.slice(seen).map((q) => q.path.split('?')[0]), ['/api/v1/namespaces/kube-system/events']);
  });
});

test('the transcript holds none of the withheld events', () => {
  const all = dumpTranscript(dir.dbPath);
  assert.match(all, /svc-web\.e1/);
  for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `transcript leaks the ${k} event`);
});
