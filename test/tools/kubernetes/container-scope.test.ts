/**
 * `containers:` limits what kubectl_get shows of a pod: under a grant that names containers,
 * the other containers (spec and status alike) are withheld and a note says how many; a grant
 * without `containers:` shows them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('containers');

type Pod = { spec: { containers: { name: string }[]; initContainers?: { name: string }[] }; status: { containerStatuses: { name: string }[]; initContainerStatuses?: { name: string }[] } };
const names = (xs: { name: string }[] | undefined) => (xs ?? []).map((c) => c.name);

async function get(rules: string, input: Record<string, unknown>) {
  const policy = judgedPolicy(rules);
  const tool = kubectlGetTool(() => k.connector);
  const facts = await tool.parse(input as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_get', facts).effect, 'allow');
  const out = await tool.execute(input as never, facts, policy.ctx(k.ctx, 'kubectl_get'));
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
