/**
 * Events about a pod or a workload object without a `fieldPath` may still name a container in
 * their text: the kubelet's `Evicted` (`Container vault-agent was using 512Mi`), a ReplicaSet's
 * `FailedCreate` (the admission error quoting the template's container). Under a grant limited
 * by `containers:` such an event is withheld when its text names a container the grant does
 * not reach, as the pod's own status message is (container-traces.ts); one naming only reached
 * containers, or none, is shown. Found: both were shown under `containers: [app]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('container-event-text');

const ONLY_APP = `  - id: app-only
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [vault], kinds: [events], containers: [app] }
`;
const EVERY = `  - id: every
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [vault], kinds: [events] }
`;

type Ref = { kind: string; name: string; namespace: string; uid: string; apiVersion?: string };
const event = (name: string, about: Ref, reason: string, message: string) =>
  k.server.store.put('events', { metadata: { name, namespace: 'vault' }, involvedObject: about, reason, message, type: 'Warning' });

async function names(rules: string) {
  const out = await judgedGet(k, rules, { connection: 'prod', kind: 'events', namespace: 'vault' });
  assert.equal(out.kind, 'json');
  const o = out as { data: { items: { metadata: { name: string } }[] }; notes?: string[] };
  return { names: o.data.items.map((e) => e.metadata.name).sort(), text: JSON.stringify(o.data), notes: o.notes ?? [] };
}

test('pod and ReplicaSet events whose text names a withheld container are withheld under a containers: grant', async () => {
  k.server.store.addPod({ namespace: 'vault', name: 'pay-1', labels: { app: 'pay' }, containers: [{ name: 'app' }, { name: 'vault-agent' }] });
  const pod = k.server.store.get('pods', 'vault', 'pay-1')!;
  const podRef = { kind: 'Pod', name: 'pay-1', namespace: 'vault', uid: pod.metadata.uid as string };
  const rs = k.server.store.put('replicasets', {
    metadata: { name: 'pay-5c4', namespace: 'vault' },
    spec: { selector: { matchLabels: { app: 'pay' } }, template: { metadata: { labels: { app: 'pay' } }, spec: { containers: [{ name: 'app' }, { name: 'vault-agent' }] } } },
  });
  const rsRef = { kind: 'ReplicaSet', apiVersion: 'apps/v1', name: 'pay-5c4', namespace: 'vault', uid: rs.metadata.uid as string };
  event('pay-1.evicted', podRef, 'Evicted', 'The node was low on resource: memory. Container vault-agent was using 512Mi, which exceeds its request of 0.');
  event('pay-1.scheduled', podRef, 'Scheduled', 'Successfully assigned vault/pay-1 to node-1');
  event('pay-1.app-oom', podRef, 'Evicted', 'The node was low on resource: memory. Container app was using 900Mi, which exceeds its request of 0.');
  event('pay-5c4.failed', rsRef, 'FailedCreate', 'Error creating: pods "pay-5c4-x" is forbidden: failed quota: container vault-agent must specify limits.memory');
  event('pay-5c4.created', rsRef, 'SuccessfulCreate', 'Created pod: pay-5c4-x');

  const scoped = await names(ONLY_APP);
  assert.deepEqual(scoped.names, ['pay-1.app-oom', 'pay-1.scheduled', 'pay-5c4.created']);
  assert.doesNotMatch(scoped.text, /vault-agent/);
  assert.ok(scoped.notes.some((n) => /2 events .*withheld/.test(n)), JSON.stringify(scoped.notes));

  // A grant of every container sees them all.
  const whole = await names(EVERY);
  assert.deepEqual(whole.names, ['pay-1.app-oom', 'pay-1.evicted', 'pay-1.scheduled', 'pay-5c4.created', 'pay-5c4.failed']);
});

test('an event naming a container of a pod that no longer exists is withheld under a containers: grant', async () => {
  event('gone-1.evicted', { kind: 'Pod', name: 'gone-1', namespace: 'vault', uid: 'a-deleted-uid' }, 'Evicted', 'Container vault-agent was using 512Mi');
  const scoped = await names(ONLY_APP);
  assert.ok(!scoped.names.includes('gone-1.evicted'), JSON.stringify(scoped.names));
  assert.ok((await names(EVERY)).names.includes('gone-1.evicted'));
});
