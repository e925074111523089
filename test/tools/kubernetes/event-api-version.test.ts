/**
 * An event names its object by apiVersion and kind: a kind `Pod` (or Deployment, Service, Node,
 * ...) of another API group is a custom resource, not the built-in object of the same name, and
 * is judged as any kind Warden cannot tell the pods of (unknown labels: withheld under a
 * pod_labels grant). A reference without apiVersion is the built-in kind (kubelet names its
 * Node so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('event-api-version');

/** Events of shop, about pods labelled app=web (web-1 is one). */
const WEB = `  - id: web
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, kinds: [events] }
`;

async function get(input: Record<string, unknown>) {
  return judgedGet(k, WEB, input);
}

test('an event about a custom resource of kind Pod (Deployment, Service, Node) is not judged by the built-in object of that name', async () => {
  const ev = (name: string, ref: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    k.server.store.put('events', { metadata: { name, namespace: 'shop' }, involvedObject: { namespace: 'shop', ...ref }, reason: 'Synced', message: `message of ${name}`, type: 'Normal', ...extra });
  const uid = (resource: string, name: string) => k.server.store.get(resource, 'shop', name)!.metadata.uid;
  ev('core-pod', { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: uid('pods', 'web-1') });
  ev('bare-pod', { kind: 'Pod', name: 'web-1', uid: uid('pods', 'web-1') });
  ev('core-deploy', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: uid('deployments', 'web') });
  ev('core-node', { apiVersion: 'v1', kind: 'Node', name: 'node-1', namespace: '' }, { reason: 'NodeReady' });
  ev('crd-pod', { apiVersion: 'example.com/v1', kind: 'Pod', name: 'web-1' });
  ev('crd-pod-v1alpha', { apiVersion: 'v1alpha1', kind: 'Pod', name: 'web-1' });
  ev('crd-deploy', { apiVersion: 'example.com/v1', kind: 'Deployment', name: 'web' });
  ev('crd-service', { apiVersion: 'example.com/v1', kind: 'Service', name: 'web' });
  ev('crd-node', { apiVersion: 'example.com/v1', kind: 'Node', name: 'node-1' }, { reason: 'NodeReady' });
  const out = await get({ connection: 'prod', kind: 'events', namespace: 'shop' });
  const names = (out.kind === 'json' ? (out.data as { items: { metadata: { name: string } }[] }).items : []).map((e) => e.metadata.name);
  for (const shown of ['core-pod', 'bare-pod', 'core-deploy', 'core-node']) assert.ok(names.includes(shown), `${shown} shown: ${names.join(' ')}`);
  for (const hidden of ['crd-pod', 'crd-pod-v1alpha', 'crd-deploy', 'crd-service', 'crd-node']) assert.ok(!names.includes(hidden), `${hidden} withheld`);
  assert.doesNotMatch(JSON.stringify(out), /message of crd-/);
  // Named: refused in the words of an absent event.
  await assert.rejects(get({ connection: 'prod', kind: 'events', namespace: 'shop', name: 'crd-pod' }), /is not among the events this grant reaches/);
});
