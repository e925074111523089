/**
 * A grant limited to pods with some labels (`pod_labels`) must not show, through events, what
 * it hides as pods: an event about a pod is returned only when the policy would allow the same
 * call for that pod's labels (read from the API server when the events are read). Events about
 * other objects: kubernetes-event-objects.test.ts. Through `warden serve` and the test
 * API server; what is withheld must be absent from the whole answer and from the transcript.
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
  - id: system-events
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { namespaces: [kube-system], kinds: [events] }
  - id: no-quarantined
    effect: deny
    tool: kubectl_get
    kubernetes: { kinds: [events], pod_labels: { quarantine: "true" } }
    reason: Quarantined pods are off limits.
`;

/** Messages of events that must be withheld from this principal. */
const HIDDEN = {
  db: 'db-probe-failed-MK1x9',
  quarantined: 'quarantined-pod-MK2b7',
  ghost: 'deleted-pod-MK3c5',
  oldPod: 'previous-pod-same-name-MK4d3',
  related: 'preempted-by-db-MK5e1',
  noObject: 'no-involved-object-MK6f8',
};

/** The message of an event about db-2, a pod the relabel test moves into the grant and back. */
const RELABELLED = 'shown-only-while-relabelled-MK7g2';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

type Obj = { metadata: { name: string }; message?: string };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.addPod({ namespace: 'shop', name: 'web-2', labels: { app: 'web', quarantine: 'true' }, containers: [{ name: 'app' }] });
  const web1 = server.store.get('pods', 'shop', 'web-1')!.metadata.uid as string;
  // A reference carries the uid of the pod of that name (as a real recorder's does) unless one is given.
  const pod = (name: string, uid?: string, ns = 'shop') => ({ kind: 'Pod', name, namespace: ns, uid: uid ?? server.store.get('pods', ns, name)?.metadata.uid });
  const ev = (name: string, message: string, extra: Record<string, unknown>, namespace = 'shop') =>
    server.store.put('events', { metadata: { name, namespace }, reason: 'Test', message, type: 'Warning', ...extra });
  ev('db-1.a1', `Liveness probe failed: ${HIDDEN.db}`, { involvedObject: pod('db-1') });
  ev('web-2.b1', HIDDEN.quarantined, { involvedObject: pod('web-2') });
  ev('ghost-1.c1', HIDDEN.ghost, { involvedObject: pod('ghost-1') });
  ev('web-1.old', HIDDEN.oldPod, { involvedObject: pod('web-1', 'a-previous-pod-uid') });
  ev('web-1.rel', HIDDEN.related, { involvedObject: pod('web-1', web1), related: pod('db-1') });
  ev('noobj.e1', HIDDEN.noObject, {});
  ev('web-1.uid', 'Pulled image registry.example/app:1.0', { involvedObject: pod('web-1', web1) });
  ev('web.deploy', 'Scaled up replica set web-abc to 1', { involvedObject: { kind: 'Deployment', name: 'web', namespace: 'shop', uid: server.store.get('deployments', 'shop', 'web')!.metadata.uid } });
  server.store.addPod({ namespace: 'shop', name: 'db-2', labels: { app: 'db' }, containers: [{ name: 'app' }] });
  ev('db-2.r1', RELABELLED, { involvedObject: pod('db-2') });
  ev('coredns-1.k1', 'Started container coredns', { involvedObject: pod('coredns-1', undefined, 'kube-system') }, 'kube-system');
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const events = (args: Record<string, unknown> = {}) => w.call('kubectl_get', { connection: 'prod', kind: 'events', namespace: 'shop', ...args });
const names = (r: { structured: Record<string, unknown> | undefined }) => (r.structured as { data: { items: Obj[] } }).data.items.map((i) => i.metadata.name).sort();
const code = (r: { structured: Record<string, unknown> | undefined }) => (r.structured as { error: { code: string } }).error.code;

function assertHidden(r: { text: string; structured: Record<string, unknown> | undefined }): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `leaks the ${k} event`);
}

describe('events under a pod_labels grant', () => {
  test('a list keeps events about pods in the grant and about other objects, and withholds the rest', async () => {
    const r = await events();
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['web-1.17a', 'web-1.uid', 'web.deploy']);
    assertHidden(r);
    assert.ok(!r.text.includes(RELABELLED));
    assert.match(r.text, /7 events .*withheld/);
  });

  test('an event fetched by name is refused when its pod lies outside the grant', async () => {
    for (const name of ['db-1.a1', 'ghost-1.c1', 'web-1.old', 'web-1.rel', 'noobj.e1']) {
      const r = await events({ name });
      assert.equal(r.isError, true, `${name}: ${r.text}`);
      assert.equal(code(r), 'WARDEN_DENIED', name);
      assert.ok(r.text.includes(`event shop/${name} is not among the events this grant reaches (absent, or outside the grant)`), name);
      assertHidden(r);
    }
    const q = await events({ name: 'web-2.b1' });
    assert.equal(code(q), 'WARDEN_DENIED');
    assert.deepEqual((q.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['no-quarantined']);
    assertHidden(q);
    const ok = await events({ name: 'web-1.17a' });
    assert.equal(ok.isError, false, ok.text);
    assert.equal((ok.structured as { data: Obj }).data.metadata.name, 'web-1.17a');
  });

  test('labels are read when the events are: a pod relabelled into the grant shows its events', async () => {
    const db = server.store.get('pods', 'shop', 'db-2')!.metadata as { labels?: Record<string, string> };
    db.labels = { app: 'web' };
    try {
      const r = await events();
      assert.equal(r.isError, false, r.text);
      assert.deepEqual(names(r), ['db-2.r1', 'web-1.17a', 'web-1.uid', 'web.deploy']);
      assert.ok(r.text.includes(RELABELLED));
      assertHidden(r);
    } finally {
      db.labels = { app: 'db' };
    }
    const again = await events();
    assert.ok(!again.text.includes(RELABELLED) && !JSON.stringify(again.structured).includes(RELABELLED));
  });

  test('without pod_labels in the grant, events about any pod are shown', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'events', namespace: 'kube-system' });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['coredns-1.k1']);
  });

  test('when pod labels cannot be read, the call is refused (fail closed)', async () => {
    const user = server.tokens.get(TOKENS.limited)!.user;
    const before = user.forbidResources;
    user.forbidResources = ['pods'];
    try {
      const r = await w.call('kubectl_get', { connection: 'limited', kind: 'events', namespace: 'shop' });
      assert.equal(r.isError, true, r.text);
      assert.equal(code(r), 'WARDEN_BACKEND_ERROR');
      assert.match(r.text, /403/);
      assertHidden(r);
    } finally {
      user.forbidResources = before;
    }
  });

  test('the transcript holds none of the withheld events', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /web-1\.17a/);
    for (const [k, m] of Object.entries(HIDDEN)) assert.ok(!all.includes(m), `transcript leaks the ${k} event`);
  });
});
