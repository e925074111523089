/**
 * A grant limited by `pod_labels` must not show, through the objects that make pods, what it
 * hides as pods: a Deployment (the workload kind kubectl_get serves) is judged with the labels
 * of its pod template, and an event about a workload object (Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, CronJob) with that object's template labels, read from the API
 * server when the events are read. Through `warden serve` and the test API server; what is
 * withheld (images, env values, args, pod names in event messages) must be absent from the
 * whole answer and from the transcript.
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
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, kinds: [pods, events, deployments] }
  - id: system-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [kube-system], kinds: [events, deployments] }
  - id: no-quarantined
    effect: deny
    tool: kubectl_get
    kubernetes: { namespaces: [shop], kinds: [events, deployments], pod_labels: { quarantine: "true" } }
    reason: Quarantined workloads are off limits.
`;

/** What the db and canary workloads would reveal. */
const HIDDEN_SPEC = {
  dbImage: 'registry.example/db-image-WK1a:14',
  dbEnv: 'replica-mode-WK1b',
  dbArg: '--datadir=/var/lib/WK1c',
  canaryImage: 'registry.example/canary-WK2a:0.1',
  unlabelledImage: 'registry.example/bare-WK2b:1',
};

/** Event messages that must be withheld (pod and job names of workloads outside the grant). */
const HIDDEN_EVENTS = {
  replicaSet: 'Created pod: db-7f9-WK3a',
  statefulSet: 'create Pod pg-0-WK4a in StatefulSet pg successful',
  daemonSet: 'Created pod: agent-WK5a',
  job: 'Created pod: migrate-WK6a',
  cronJob: 'Created job backup-WK7a',
  deployment: 'Scaled up replica set db-7f9-WK8a to 1',
  goneReplicaSet: 'Created pod: gone-WK9a',
  replacedReplicaSet: 'Created pod: web-old-WK9b',
  quarantined: 'Scaled up replica set web-canary-WK9c to 1',
  relatedWorkload: 'Preempted for db-7f9-WK9d',
};

const ALL_HIDDEN = { ...HIDDEN_SPEC, ...HIDDEN_EVENTS };

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

type Obj = { metadata: { name: string } };

const template = (labels: Record<string, string> | null, containers: Record<string, unknown>[] = [{ name: 'app', image: 'registry.example/app:1.0' }]) => ({
  ...(labels ? { metadata: { labels } } : {}),
  spec: { containers },
});

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const s = server.store;
  s.put('deployments', {
    metadata: { name: 'db', namespace: 'shop', labels: { app: 'db' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'db' } },
      template: template({ app: 'db' }, [{ name: 'db', image: HIDDEN_SPEC.dbImage, env: [{ name: 'MODE', value: HIDDEN_SPEC.dbEnv }], args: [HIDDEN_SPEC.dbArg] }]),
    },
  });
  s.put('deployments', {
    metadata: { name: 'web-canary', namespace: 'shop', labels: { app: 'web' } },
    spec: { template: template({ app: 'web', quarantine: 'true' }, [{ name: 'app', image: HIDDEN_SPEC.canaryImage }]) },
  });
  s.put('deployments', {
    // The Deployment's own labels match the grant; its pods' (none) do not.
    metadata: { name: 'bare', namespace: 'shop', labels: { app: 'web' } },
    spec: { template: template(null, [{ name: 'app', image: HIDDEN_SPEC.unlabelledImage }]) },
  });
  s.put('deployments', { metadata: { name: 'moved', namespace: 'shop' }, spec: { template: template({ app: 'db' }, [{ name: 'app', image: 'registry.example/moved:2.0' }]) } });
  s.put('deployments', { metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { template: template({ 'k8s-app': 'kube-dns' }) } });

  const rs = (name: string, labels: Record<string, string>) => s.put('replicasets', { metadata: { name, namespace: 'shop' }, spec: { template: template(labels) } });
  const dbRs = rs('db-7f9', { app: 'db', 'pod-template-hash': '7f9' });
  const webRs = rs('web-5c4', { app: 'web', 'pod-template-hash': '5c4' });
  s.put('statefulsets', { metadata: { name: 'pg', namespace: 'shop' }, spec: { template: template({ app: 'db' }) } });
  s.put('daemonsets', { metadata: { name: 'agent', namespace: 'shop' }, spec: { template: template({ app: 'agent' }) } });
  s.put('jobs', { metadata: { name: 'migrate', namespace: 'shop' }, spec: { template: template({ app: 'db' }) } });
  s.put('cronjobs', { metadata: { name: 'backup', namespace: 'shop' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: template({ app: 'db' }) } } } });
  s.put('cronjobs', { metadata: { name: 'web-report', namespace: 'shop' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: template({ app: 'web' }) } } } });
  s.put('replicasets', { metadata: { name: 'kube-dns-1', namespace: 'kube-system' }, spec: { template: template({ 'k8s-app': 'kube-dns' }) } });

  // A reference carries the uid of the object of that name (as a real recorder's does) unless one is given.
  const resource: Record<string, string> = { Pod: 'pods', Service: 'services', ReplicaSet: 'replicasets', Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs', CronJob: 'cronjobs' };
  const ref = (kind: string, name: string, uid?: string) => ({ kind, name, namespace: 'shop', uid: uid ?? s.get(resource[kind]!, 'shop', name)?.metadata.uid });
  const ev = (name: string, message: string, extra: Record<string, unknown>, namespace = 'shop') =>
    s.put('events', { metadata: { name, namespace }, reason: 'Test', message, type: 'Normal', ...extra });
  ev('db-7f9.e1', HIDDEN_EVENTS.replicaSet, { involvedObject: ref('ReplicaSet', 'db-7f9', dbRs.metadata.uid as string) });
  ev('pg.e1', HIDDEN_EVENTS.statefulSet, { involvedObject: ref('StatefulSet', 'pg') });
  ev('agent.e1', HIDDEN_EVENTS.daemonSet, { involvedObject: ref('DaemonSet', 'agent') });
  ev('migrate.e1', HIDDEN_EVENTS.job, { involvedObject: ref('Job', 'migrate') });
  ev('backup.e1', HIDDEN_EVENTS.cronJob, { involvedObject: ref('CronJob', 'backup') });
  ev('db.e1', HIDDEN_EVENTS.deployment, { involvedObject: ref('Deployment', 'db') });
  ev('gone.e1', HIDDEN_EVENTS.goneReplicaSet, { involvedObject: ref('ReplicaSet', 'gone-1') });
  ev('web-5c4.old', HIDDEN_EVENTS.replacedReplicaSet, { involvedObject: ref('ReplicaSet', 'web-5c4', 'a-previous-replicaset-uid') });
  ev('web-canary.e1', HIDDEN_EVENTS.quarantined, { involvedObject: ref('Deployment', 'web-canary') });
  ev('web-1.rel', HIDDEN_EVENTS.relatedWorkload, { involvedObject: ref('Pod', 'web-1'), related: ref('ReplicaSet', 'db-7f9') });
  ev('web-5c4.e1', 'Created pod: web-5c4-abcde', { involvedObject: ref('ReplicaSet', 'web-5c4', webRs.metadata.uid as string) });
  ev('web-report.e1', 'Created job web-report-123', { involvedObject: ref('CronJob', 'web-report') });
  ev('web-svc.e1', 'Ensured load balancer', { involvedObject: ref('Service', 'web') });
  ev('kube-dns-1.e1', 'Created pod: kube-dns-1-xyz', { involvedObject: { kind: 'ReplicaSet', name: 'kube-dns-1', namespace: 'kube-system' } }, 'kube-system');
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

type Result = { text: string; isError: boolean; structured: Record<string, unknown> | undefined };
const get = (kind: string, args: Record<string, unknown> = {}) => w.call('kubectl_get', { connection: 'prod', kind, namespace: 'shop', ...args });
const names = (r: Result) => (r.structured as { data: { items: Obj[] } }).data.items.map((i) => i.metadata.name).sort();
const error = (r: Result) => (r.structured as { error: { code: string; rule_ids: string[] } }).error;

function assertHidden(r: Result, what: Record<string, string> = ALL_HIDDEN): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const [k, m] of Object.entries(what)) assert.ok(!all.includes(m), `leaks ${k}`);
}

describe('deployments under a pod_labels grant', () => {
  test('a list keeps the deployments whose pod template carries the granted labels', async () => {
    const r = await get('deployments');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['web']);
    assert.match(r.text, /registry\.example\/app:1\.0/);
    assertHidden(r);
    assert.match(r.text, /4 deployments .*withheld/);
    for (const n of ['"db"', 'web-canary', 'bare', 'moved']) assert.ok(!r.text.includes(n), `names ${n}`);
  });

  test('a deployment fetched by name is refused when its pod template lies outside the grant', async () => {
    for (const name of ['db', 'bare']) {
      const r = await get('deployments', { name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, new RegExp(`deployment shop/${name}`), name);
      assertHidden(r);
    }
    const q = await get('deployments', { name: 'web-canary' });
    assert.equal(error(q).code, 'WARDEN_DENIED');
    assert.deepEqual(error(q).rule_ids, ['no-quarantined']);
    assertHidden(q);
    const ok = await get('deployments', { name: 'web' });
    assert.equal(ok.isError, false, ok.text);
    assert.equal((ok.structured as { data: Obj }).data.metadata.name, 'web');
  });

  test('the template is judged as read: relabelled into the grant, a deployment shows', async () => {
    const tpl = (server.store.get('deployments', 'shop', 'moved')!.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata;
    assert.equal((await get('deployments', { name: 'moved' })).isError, true);
    tpl.labels = { app: 'web' };
    try {
      const r = await get('deployments', { name: 'moved' });
      assert.equal(r.isError, false, r.text);
      assert.ok(r.text.includes('registry.example/moved:2.0'));
    } finally {
      tpl.labels = { app: 'db' };
    }
  });

  test('judging deployments costs no extra request', async () => {
    const seen = server.requests.length;
    await get('deployments');
    assert.deepEqual(server.requests.slice(seen).map((q) => q.path.split('?')[0]), ['/apis/apps/v1/namespaces/shop/deployments']);
  });

  test('without pod_labels in the grant, every deployment is shown', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'deployments', namespace: 'kube-system' });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['coredns']);
  });
});

describe('events about workload objects under a pod_labels grant', () => {
  test('a list keeps events about workloads in the grant and withholds the rest', async () => {
    const r = await get('events');
    assert.equal(r.isError, false, r.text);
    // web-svc.e1 is about Service web, whose selector (app=web) does not rule out the
    // quarantine=true pods no-quarantined denies (kubernetes-event-objects.test.ts).
    assert.deepEqual(names(r), ['web-1.17a', 'web-5c4.e1', 'web-report.e1']);
    assertHidden(r);
    assert.match(r.text, /11 events .*withheld/);
  });

  test('an event fetched by name is refused when its workload lies outside the grant', async () => {
    for (const [name, why] of [['db-7f9.e1', /ReplicaSet shop\/db-7f9/], ['pg.e1', /StatefulSet shop\/pg/], ['agent.e1', /DaemonSet shop\/agent/],
      ['migrate.e1', /Job shop\/migrate/], ['backup.e1', /CronJob shop\/backup/], ['db.e1', /Deployment shop\/db/], ['web-1.rel', /db-7f9/]] as const) {
      const r = await get('events', { name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(error(r).code, 'WARDEN_DENIED', name);
      assert.match(r.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(r.text, why, name); // what the event is about is not told
      assertHidden(r);
    }
    // A workload gone, or replaced under the same name, has unknown labels: no allow holds, and
    // the refusal names the same rules (none) as one about a present workload outside every allow,
    // not the pod_labels deny that unknown labels would meet (that would tell which is gone).
    const outside = error(await get('events', { name: 'db-7f9.e1' })).rule_ids;
    for (const name of ['gone.e1', 'web-5c4.old']) {
      const q = await get('events', { name });
      assert.equal(error(q).code, 'WARDEN_DENIED', name);
      assert.deepEqual(error(q).rule_ids, outside, name);
      assert.doesNotMatch(q.text, /no-quarantined/, name);
      assertHidden(q);
    }
    // A present workload inside the allow whose pods carry the denied labels: the deny wins.
    const q = await get('events', { name: 'web-canary.e1' });
    assert.deepEqual(error(q).rule_ids, ['no-quarantined']);
    assertHidden(q);
    const ok = await get('events', { name: 'web-5c4.e1' });
    assert.equal(ok.isError, false, ok.text);
  });

  test('only the kinds the events name are read; none when the grant has no pod_labels', async () => {
    let seen = server.requests.length;
    const r = await get('events', { name: 'web-5c4.e1' });
    assert.equal(r.isError, false, r.text);
    const paths = server.requests.slice(seen).map((q) => q.path.split('?')[0]);
    assert.deepEqual(paths, ['/api/v1/namespaces/shop/events/web-5c4.e1', '/apis/apps/v1/namespaces/shop/replicasets']);
    seen = server.requests.length;
    const k = await w.call('kubectl_get', { connection: 'prod', kind: 'events', namespace: 'kube-system' });
    assert.equal(k.isError, false, k.text);
    assert.deepEqual(names(k), ['kube-dns-1.e1']);
    assert.deepEqual(server.requests.slice(seen).map((q) => q.path.split('?')[0]), ['/api/v1/namespaces/kube-system/events']);
  });

  test('when a workload kind cannot be read, the call is refused (fail closed)', async () => {
    const user = server.tokens.get(TOKENS.limited)!.user;
    const before = user.forbidResources;
    user.forbidResources = ['cronjobs'];
    try {
      const r = await w.call('kubectl_get', { connection: 'limited', kind: 'events', namespace: 'shop' });
      assert.equal(r.isError, true, r.text);
      assert.equal(error(r).code, 'WARDEN_BACKEND_ERROR');
      assert.match(r.text, /403/);
      assertHidden(r);
    } finally {
      user.forbidResources = before;
    }
  });

  test('the transcript holds none of the withheld objects or events', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /web-5c4\.e1/);
    for (const [k, m] of Object.entries(ALL_HIDDEN)) assert.ok(!all.includes(m), `transcript leaks ${k}`);
  });
});
