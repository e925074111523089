/**
 * kubectl_get and kubectl_exec agree on an ephemeral container: get shows it only when it shows
 * every container whose processes it shares, the containers exec into it is judged as reaching
 * (container-reach.ts). Both ways: up a target chain (dbg-2 targets dbg-1, which targets app),
 * and across the target (dbg-1 and dbg-2 both target app, so each sees the other's processes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('scope-reach');

type Named = { name: string }[] | undefined;
const names = (xs: Named) => (xs ?? []).map((c) => c.name);

/** get and exec granted for these containers of the shop namespace. */
const grant = (containers: string[]) => `  - id: get
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], containers: [${containers.join(', ')}] }
  - id: exec
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], containers: [${containers.join(', ')}] }
    shell: { programs: { ls: {} } }
`;

function addPod(name: string, ephemeral: { name: string; targetContainerName: string }[]) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }] });
  const p = k.server.store.get('pods', 'shop', name) as unknown as { spec: Record<string, unknown>; status: Record<string, unknown> };
  p.spec.ephemeralContainers = ephemeral.map((e) => ({ ...e, image: 'busybox' }));
  p.status.ephemeralContainerStatuses = ephemeral.map((e) => ({ name: e.name }));
}

/** What get shows of the pod's ephemeral containers (spec and status), and which exec is allowed, under `containers`. */
async function both(pod: string, containers: string[]) {
  const policy = judgedPolicy(grant(containers));
  const get = kubectlGetTool(() => k.connector);
  const input = { connection: 'prod', kind: 'pods', namespace: 'shop', name: pod };
  const facts = await get.parse(input as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_get', facts).effect, 'allow');
  const out = (await get.execute(input as never, facts, policy.ctx(k.ctx, 'kubectl_get'))) as { data: { spec: { ephemeralContainers?: Named }; status: { ephemeralContainerStatuses?: Named } } };
  const exec = kubectlExecTool(() => k.connector);
  const execAllowed: string[] = [];
  for (const c of containers) {
    const f = await exec.parse({ connection: 'prod', namespace: 'shop', pod, container: c, command: ['ls'] } as never, k.parseCtx);
    if (policy.decide('kubectl_exec', f).effect === 'allow') execAllowed.push(c);
  }
  return { spec: names(out.data.spec.ephemeralContainers), status: names(out.data.status.ephemeralContainerStatuses), execAllowed };
}

test('up a target chain: an ephemeral container whose target targets a withheld container is withheld, as exec into it is refused', async () => {
  addPod('chain', [{ name: 'dbg-1', targetContainerName: 'vault-agent' }, { name: 'dbg-2', targetContainerName: 'dbg-1' }]);
  const r = await both('chain', ['app', 'dbg-1', 'dbg-2']);
  assert.deepEqual(r.spec, []);
  assert.deepEqual(r.status, []);
  assert.deepEqual(r.execAllowed, ['app']);
});

test('across a target: an ephemeral container shares processes with every other one targeting the same container', async () => {
  addPod('siblings', [{ name: 'dbg-1', targetContainerName: 'app' }, { name: 'dbg-2', targetContainerName: 'app' }]);
  // dbg-2 is outside the grant: dbg-1 sees its processes (through app), so neither is shown,
  // exec into dbg-1 is refused, and exec into app too (both ways); app itself stays shown.
  const r = await both('siblings', ['app', 'dbg-1']);
  assert.deepEqual(r.spec, []);
  assert.deepEqual(r.status, []);
  assert.deepEqual(r.execAllowed, []);
  // The whole process namespace granted: both shown, exec allowed into each.
  const all = await both('siblings', ['app', 'dbg-1', 'dbg-2']);
  assert.deepEqual(all.spec, ['dbg-1', 'dbg-2']);
  assert.deepEqual(all.execAllowed, ['app', 'dbg-1', 'dbg-2']);
});
