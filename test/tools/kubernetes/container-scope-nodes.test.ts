/**
 * A grant limited by `containers:` (without pod_labels) reaches some containers of a pod, not
 * every one, so what shows every container of every pod without saying which is withheld as it
 * is under pod_labels: a Node's `status.images` (the images of the containers it runs) and its
 * volumes, and events about a Node that are not about its own state (ImageGCFailed, SystemOOM).
 * Found: `kubectl_get nodes` under `containers: [app]` showed the image of a withheld sidecar.
 * A grant without `containers:` (and without pod_labels) still sees the node whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('container-nodes');

const ONLY_APP = `  - id: app-only
    effect: allow
    tool: kubectl_get
    kubernetes: { kinds: [pods, nodes, events], containers: [app] }
`;
const EVERY = `  - id: every
    effect: allow
    tool: kubectl_get
    kubernetes: { kinds: [pods, nodes, events] }
`;
const DENY_VAULT = `${EVERY}  - id: no-vault
    effect: deny
    tool: kubectl_get
    kubernetes: { containers: [vault-agent] }
`;

function addNode(): void {
  k.server.store.put('nodes', {
    metadata: { name: 'node-c1' },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      images: [{ names: ['registry.example/app:1'] }, { names: ['registry.example/vault-agent:payments-admin'] }],
      volumesInUse: ['kubernetes.io/csi/vault-token'],
      nodeInfo: { kubeletVersion: 'v1.30.0' },
    },
  });
}

async function json(rules: string, input: Record<string, unknown>) {
  const out = await judgedGet(k, rules, input);
  assert.equal(out.kind, 'json');
  return out as { data: unknown; notes?: string[] };
}

test('a node under a containers: grant loses the images and volumes of its pods, named or listed', async () => {
  addNode();
  const named = await json(ONLY_APP, { connection: 'prod', kind: 'nodes', name: 'node-c1' });
  assert.doesNotMatch(JSON.stringify(named.data), /vault/, 'the withheld container\'s image is shown on its node');
  const status = (named.data as { status: Record<string, unknown> }).status;
  assert.equal(status.images, undefined);
  assert.equal(status.volumesInUse, undefined);
  assert.deepEqual(status.nodeInfo, { kubeletVersion: 'v1.30.0' });
  assert.ok(named.notes?.some((n) => /status\.images.*withheld.*containers/.test(n)), JSON.stringify(named.notes));
  const listed = await json(ONLY_APP, { connection: 'prod', kind: 'nodes' });
  assert.doesNotMatch(JSON.stringify(listed.data), /vault/);
});

test('a deny naming containers strips the node too; a grant of every container sees it whole', async () => {
  addNode();
  const denied = await json(DENY_VAULT, { connection: 'prod', kind: 'nodes', name: 'node-c1' });
  assert.doesNotMatch(JSON.stringify(denied.data), /vault/);
  const whole = await json(EVERY, { connection: 'prod', kind: 'nodes', name: 'node-c1' });
  assert.match(JSON.stringify(whole.data), /vault-agent:payments-admin/);
  assert.ok(!whole.notes?.length, JSON.stringify(whole.notes));
});

test('events about a node that may show its pods\' containers are withheld under a containers: grant', async () => {
  k.server.store.put('events', {
    metadata: { name: 'node-c1.gc', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node-c1' },
    reason: 'ImageGCFailed', message: 'failed to remove image registry.example/vault-agent:payments-admin', type: 'Warning',
  });
  k.server.store.put('events', {
    metadata: { name: 'node-c1.ready', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node-c1' },
    reason: 'NodeReady', message: 'Node node-c1 status is now: NodeReady', type: 'Normal',
  });
  const list = { connection: 'prod', kind: 'events', namespace: 'default' };
  const out = await json(ONLY_APP, list);
  const names = (out.data as { items: { metadata: { name: string } }[] }).items.map((e) => e.metadata.name);
  assert.ok(names.includes('node-c1.ready'), JSON.stringify(names));
  assert.doesNotMatch(JSON.stringify(out.data), /vault/);
  assert.ok(out.notes?.some((n) => /1 event .*withheld/.test(n)), JSON.stringify(out.notes));
  const whole = await json(EVERY, list);
  assert.match(JSON.stringify(whole.data), /vault-agent/);
});
