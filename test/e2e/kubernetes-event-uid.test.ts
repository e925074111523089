/**
 * Under a `pod_labels` grant an event is judged by the exact object it is about, not by
 * whichever object carries that name now: a reference with a uid is judged by the object with
 * that uid (gone or replaced: unknown labels, withheld), and a reference without a uid cannot
 * say which object it was about (an event about a deleted `db-0` would otherwise be judged by a
 * new `db-0` in the grant), so it is withheld too. Both shapes (`involvedObject`, `regarding`),
 * pods and workloads. Through `warden serve` and the test API server; what is withheld must be
 * absent from the whole answer and from the transcript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const POLICY = `
rules:
  - id: web-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, kinds: [pods, events] }
  - id: system-events
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [kube-system], kinds: [events] }
`;

/** Messages of events that must be withheld. */
const HIDDEN = {
  oldDb: 'old-db-0-secret-env-UID1a',
  oldDbRegarding: 'old-db-0-regarding-UID1b',
  noUidDb: 'db-0-no-uid-UID1c',
  noUidDbRegarding: 'db-0-no-uid-regarding-UID1d',
  noUidWeb: 'web-0-no-uid-UID1e',
  staleWeb: 'web-0-stale-uid-UID1f',
  oldRs: 'old-rs-db-image-UID2a',
  noUidRs: 'rs-no-uid-UID2b',
  noUidJob: 'job-no-uid-UID2c',
  staleDeploy: 'deploy-stale-uid-UID2d',
  noUidRelated: 'related-no-uid-UID2e',
};

/** Messages of events about objects in the grant, named with their uid. */
const SHOWN = {
  web: 'web-0-with-uid-OK1',
  webRegarding: 'web-0-regarding-with-uid-OK2',
  newDb: 'new-db-0-with-uid-OK3',
  newRs: 'new-rs-with-uid-OK4',
  job: 'job-with-uid-OK5',
  deploy: 'deploy-with-uid-OK6',
};

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

type Obj = { metadata: { name: string } };
type Result = { text: string; isError: boolean; structured: Record<string, unknown> | undefined };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const s = server.store;
  const uidOf = (o: { metadata: Record<string, unknown> }) => o.metadata.uid as string;
  const template = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'app', image: `registry.example/${labels.app}:1.0` }] } });
  const web0 = uidOf(s.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' }, containers: [{ name: 'app' }] }));
  const oldDb0 = uidOf(s.addPod({ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, containers: [{ name: 'app' }] }));
  const oldRs = uidOf(s.put('replicasets', { metadata: { name: 'api-7f9', namespace: 'shop' }, spec: { template: template({ app: 'db' }) } }));
  const job = uidOf(s.put('jobs', { metadata: { name: 'report', namespace: 'shop' }, spec: { template: template({ app: 'web' }) } }));
  const deploy = uidOf(s.put('deployments', { metadata: { name: 'front', namespace: 'shop' }, spec: { template: template({ app: 'web' }) } }));

  const ref = (kind: string, name: string, uid?: string) => ({ kind, name, namespace: 'shop', ...(uid ? { uid } : {}) });
  const ev = (name: string, message: string, extra: Record<string, unknown>, namespace = 'shop') =>
    s.put('events', { metadata: { name, namespace }, reason: 'Test', message, type: 'Warning', ...extra });
  // Events about the first db-0 (app=db, outside the grant) and the first api-7f9 (app=db).
  ev('db-0.old', HIDDEN.oldDb, { involvedObject: ref('Pod', 'db-0', oldDb0) });
  ev('db-0.old-regarding', HIDDEN.oldDbRegarding, { regarding: ref('Pod', 'db-0', oldDb0) });
  ev('db-0.nouid', HIDDEN.noUidDb, { involvedObject: ref('Pod', 'db-0') });
  ev('db-0.nouid-regarding', HIDDEN.noUidDbRegarding, { regarding: ref('Pod', 'db-0') });
  ev('api-7f9.old', HIDDEN.oldRs, { involvedObject: ref('ReplicaSet', 'api-7f9', oldRs) });
  ev('api-7f9.nouid', HIDDEN.noUidRs, { involvedObject: ref('ReplicaSet', 'api-7f9') });
  // db-0 and api-7f9 are deleted and made again under the same names, now inside the grant.
  s.delete('pods', 'shop', 'db-0');
  s.delete('replicasets', 'shop', 'api-7f9');
  const newDb0 = uidOf(s.addPod({ namespace: 'shop', name: 'db-0', labels: { app: 'web' }, containers: [{ name: 'app' }] }));
  const newRs = uidOf(s.put('replicasets', { metadata: { name: 'api-7f9', namespace: 'shop' }, spec: { template: template({ app: 'web' }) } }));
  assert.notEqual(newDb0, oldDb0);
  ev('db-0.new', SHOWN.newDb, { involvedObject: ref('Pod', 'db-0', newDb0) });
  ev('api-7f9.new', SHOWN.newRs, { involvedObject: ref('ReplicaSet', 'api-7f9', newRs) });
  ev('web-0.uid', SHOWN.web, { involvedObject: ref('Pod', 'web-0', web0) });
  ev('web-0.regarding', SHOWN.webRegarding, { regarding: ref('Pod', 'web-0', web0) });
  ev('web-0.nouid', HIDDEN.noUidWeb, { involvedObject: ref('Pod', 'web-0') });
  ev('web-0.stale', HIDDEN.staleWeb, { involvedObject: ref('Pod', 'web-0', 'a-previous-web-0-uid') });
  ev('web-0.related', HIDDEN.noUidRelated, { involvedObject: ref('Pod', 'web-0', web0), related: ref('Pod', 'db-0') });
  ev('report.uid', SHOWN.job, { involvedObject: ref('Job', 'report', job) });
  ev('report.nouid', HIDDEN.noUidJob, { involvedObject: ref('Job', 'report') });
  ev('front.uid', SHOWN.deploy, { involvedObject: ref('Deployment', 'front', deploy) });
  ev('front.stale', HIDDEN.staleDeploy, { involvedObject: ref('Deployment', 'front', 'a-previous-deployment-uid') });
  ev('coredns-1.nouid', 'Started container coredns', { involvedObject: { kind: 'Pod', name: 'coredns-1', namespace: 'kube-system' } }, 'kube-system');
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const events = (args: Record<string, unknown> = {}): Promise<Result> => w.call('kubectl_get', { connection: 'prod', kind: 'events', namespace: 'shop', ...args });
const names = (r: Result) => (r.structured as { data: { items: Obj[] } }).data.items.map((i) => i.metadata.name);

function assertHidden(r: Result): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `leaks the ${k} event`);
}

describe('events are judged by the uid of the object they are about', () => {
  test('a list shows events naming an object in the grant by its uid, and withholds stale and uid-less ones', async () => {
    const r = await events();
    assert.equal(r.isError, false, r.text);
    const got = names(r);
    for (const n of ['db-0.new', 'api-7f9.new', 'web-0.uid', 'web-0.regarding', 'report.uid', 'front.uid']) assert.ok(got.includes(n), `${n} missing: ${got.join(', ')}`);
    for (const n of ['db-0.old', 'db-0.old-regarding', 'db-0.nouid', 'db-0.nouid-regarding', 'api-7f9.old', 'api-7f9.nouid', 'web-0.nouid', 'web-0.stale', 'web-0.related', 'report.nouid', 'front.stale']) {
      assert.ok(!got.includes(n), `${n} shown`);
    }
    for (const m of Object.values(SHOWN)) assert.ok(r.text.includes(m) || JSON.stringify(r.structured).includes(m), m);
    assertHidden(r);
  });

  test('an event fetched by name whose reference has no uid, or another uid, is refused as an absent one', async () => {
    for (const name of ['db-0.old', 'db-0.nouid', 'db-0.nouid-regarding', 'web-0.nouid', 'web-0.stale', 'api-7f9.nouid', 'report.nouid', 'front.stale']) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal((r.structured as { error: { code: string } }).error.code, 'WARDEN_DENIED', name);
      assert.ok(r.text.includes(`event shop/${name} is not among the events this grant reaches`), `${name}: ${r.text}`);
      assertHidden(r);
    }
    const ok = await events({ name: 'db-0.new' });
    assert.equal(ok.isError, false, ok.text);
    assert.ok(JSON.stringify(ok.structured).includes(SHOWN.newDb));
  });

  test('without pod_labels in the grant, an event without a uid follows the call', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'events', namespace: 'kube-system' });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['coredns-1.nouid']);
  });

  test('the transcript holds none of the withheld events', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.ok(all.includes(SHOWN.newDb));
    for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `transcript leaks the ${k} event`);
  });
});
