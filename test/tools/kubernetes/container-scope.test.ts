/**
 * `containers:` limits what kubectl_get shows of a pod: under a grant that names containers,
 * the other containers (spec and status alike) are withheld and a note says how many; a grant
 * without `containers:` shows them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { judgedGet, judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('containers');

type Pod = { spec: { containers: { name: string }[]; initContainers?: { name: string }[] }; status: { containerStatuses: { name: string }[]; initContainerStatuses?: { name: string }[] } };
const names = (xs: { name: string }[] | undefined) => (xs ?? []).map((c) => c.name);

async function get(rules: string, input: Record<string, unknown>) {
  const out = await judgedGet(k, rules, input);
  assert.equal(out.kind, 'json');
  return out as { data: unknown; notes?: string[] };
}

const ONLY_APP = `  - id: app-only
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
`;

test('a named pod under a containers: grant shows only those containers, with a count', async () => {
  k.server.store.addPod({
    namespace: 'shop', name: 'web-2', labels: { app: 'web' },
    containers: [{ name: 'app' }, { name: 'vault-agent', env: { VAULT_ROLE: 'payments-admin' } }],
  });
  const p = k.server.store.get('pods', 'shop', 'web-2') as unknown as Pod;
  p.spec.initContainers = [{ name: 'vault-init' }];
  p.status.initContainerStatuses = [{ name: 'vault-init' }];
  const out = await get(ONLY_APP, { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-2' });
  const pod = out.data as Pod;
  assert.deepEqual(names(pod.spec.containers), ['app']);
  assert.deepEqual(names(pod.spec.initContainers), []);
  assert.deepEqual(names(pod.status.containerStatuses), ['app']);
  assert.deepEqual(names(pod.status.initContainerStatuses), []);
  assert.doesNotMatch(JSON.stringify(out.data), /vault|payments-admin/);
  assert.ok(out.notes?.some((n) => /2 containers of pod shop\/web-2 .*withheld/.test(n)), JSON.stringify(out.notes));

  // A grant without containers: shows every container, and says nothing.
  const all = await get(`  - id: all
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web } }
`, { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-2' });
  assert.deepEqual(names((all.data as Pod).spec.containers), ['app', 'vault-agent']);
  assert.ok(!all.notes?.some((n) => /container/.test(n)));
});

test('a pod list under a containers: grant: every pod loses the other containers', async () => {
  const out = await get(ONLY_APP, { connection: 'prod', kind: 'pods', namespace: 'shop', label_selector: 'app=web' });
  const items = (out.data as { items: Pod[] }).items;
  assert.ok(items.length >= 1);
  for (const p of items) assert.deepEqual(names(p.spec.containers), ['app']);
  assert.ok(out.notes?.some((n) => /containers .*withheld/.test(n)), JSON.stringify(out.notes));
});

test('a deployment under a containers: grant: its pod template shows only those containers', async () => {
  k.server.store.put('deployments', {
    metadata: { name: 'pay', namespace: 'shop', labels: { app: 'web' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'pay:1' }, { name: 'vault-agent', image: 'vault:1', args: ['-role=payments-admin'] }] } } },
  });
  const out = await get(ONLY_APP.replace('pod_labels: { app: web }, ', 'pod_labels: { app: web }, kinds: [deployments], '), { connection: 'prod', kind: 'deployments', namespace: 'shop', name: 'pay' });
  const d = out.data as { spec: { template: { spec: { containers: { name: string }[] } } } };
  assert.deepEqual(names(d.spec.template.spec.containers), ['app']);
  assert.doesNotMatch(JSON.stringify(out.data), /vault|payments-admin/);
  assert.ok(out.notes?.some((n) => /1 container of deployment pod template shop\/pay lies .*withheld/.test(n)), JSON.stringify(out.notes));
});

test('a withheld container leaves no trace of its name: volumes, annotations, conditions, eviction, ephemeral targets', async () => {
  k.server.store.addPod({
    namespace: 'shop', name: 'web-3', labels: { app: 'web' },
    annotations: {
      'kubectl.kubernetes.io/default-container': 'vault-agent',
      'container.apparmor.security.beta.kubernetes.io/vault-agent': 'runtime/default',
      'container.seccomp.security.alpha.kubernetes.io/vault-agent': 'runtime/default',
      'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default',
      team: 'payments',
    },
    containers: [{ name: 'app' }, { name: 'vault-agent' }],
  });
  const p = k.server.store.get('pods', 'shop', 'web-3') as unknown as Record<string, any>;
  p.spec.containers[0].volumeMounts = [{ name: 'shared', mountPath: '/s' }];
  p.spec.containers[1].volumeMounts = [{ name: 'shared', mountPath: '/s' }, { name: 'vault-token', mountPath: '/v' }];
  p.spec.volumes = [{ name: 'shared', emptyDir: {} }, { name: 'vault-token', secret: { secretName: 'vault-agent-token' } }, { name: 'spare', emptyDir: {} }];
  p.spec.ephemeralContainers = [{ name: 'debugger', targetContainerName: 'vault-agent' }, { name: 'debugger-2', targetContainerName: 'app' }];
  p.status.ephemeralContainerStatuses = [{ name: 'debugger' }, { name: 'debugger-2' }];
  p.status.conditions = [
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app vault-agent]' },
    { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [vault-agent]' },
  ];
  p.status.reason = 'Evicted';
  p.status.message = 'The node was low on resource: memory. Container vault-agent was using 512Mi, which exceeds its request of 0.';
  const out = await get(ONLY_APP.replace('containers: [app]', 'containers: [app, debugger, debugger-2]'), { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-3' });
  const pod = out.data as Record<string, any>;
  assert.doesNotMatch(JSON.stringify(out.data), /vault/);
  assert.deepEqual(pod.spec.volumes.map((v: { name: string }) => v.name), ['shared', 'spare']);
  assert.deepEqual(names(pod.spec.ephemeralContainers), ['debugger-2']);
  assert.deepEqual(names(pod.status.ephemeralContainerStatuses), ['debugger-2']);
  assert.deepEqual(Object.keys(pod.metadata.annotations).sort(), ['container.apparmor.security.beta.kubernetes.io/app', 'team']);
  assert.equal(pod.status.conditions[0].message, 'containers with unready status: [app]');
  assert.equal(pod.status.conditions[1].message, 'containers with unready status: []');
  assert.equal(pod.status.message, undefined);
  assert.ok(out.notes?.some((n) => /2 containers of pod shop\/web-3 .*withheld/.test(n)), JSON.stringify(out.notes));
});

test('events about a withheld container (fieldPath spec.containers{NAME}) are withheld under the same grant', async () => {
  const ev = (name: string, fieldPath: string, message: string) => k.server.store.put('events', {
    metadata: { name, namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: k.server.store.get('pods', 'shop', 'web-1')!.metadata.uid, fieldPath }, reason: 'Started', message, type: 'Normal',
  });
  ev('web-1.side', 'spec.containers{sidecar}', 'Started container sidecar');
  ev('web-1.init', 'spec.initContainers{sidecar-init}', 'Started container sidecar-init');
  ev('web-1.app', 'spec.containers{app}', 'Started container app');
  const list = { connection: 'prod', kind: 'events', namespace: 'shop' };
  const byLabels = await get(ONLY_APP, list);
  const noLabels = await get(ONLY_APP.replace('pod_labels: { app: web }, ', ''), list);
  for (const out of [byLabels, noLabels]) {
    const items = (out.data as { items: { metadata: { name: string } }[] }).items.map((e) => e.metadata.name);
    assert.ok(items.includes('web-1.app'), JSON.stringify(items));
    assert.doesNotMatch(JSON.stringify(out.data), /sidecar/);
    assert.ok(out.notes?.some((n) => /2 events .*withheld/.test(n)), JSON.stringify(out.notes));
  }
  // Named: refused in the words of an absent event.
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlGetTool(() => k.connector);
  const input = { connection: 'prod', kind: 'events', namespace: 'shop', name: 'web-1.side' };
  const facts = await tool.parse(input as never, k.parseCtx);
  await assert.rejects(tool.execute(input as never, facts, policy.ctx(k.ctx, 'kubectl_get')), /is not among the events this grant reaches/);
  // Another allow without containers: shows them.
  const all = await get(`${ONLY_APP}  - id: all
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web } }
`, list);
  assert.match(JSON.stringify(all.data), /sidecar/);
});
