/**
 * What a container reaches beyond itself: an ephemeral container (`kubectl debug --target=X`)
 * shares X's process namespace (its /proc, its environment through `ps eww`, its filesystem
 * through /proc/1/root), and in a pod with `shareProcessNamespace: true` every container sees
 * every other's processes. A `containers:` grant or deny judges those containers too, as
 * kubectl_get withholds an ephemeral container whose target it withholds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('reach');

/** A grant of the namespace with the sidecar denied (the shape where the target was missed). */
const DENY_SIDECAR = `  - id: shop
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop] }
    shell: { programs: { ls: {}, cat: {} } }
  - id: shop-logs
    effect: allow
    tool: kubectl_logs
    kubernetes: { namespaces: [shop] }
  - id: no-vault
    effect: deny
    tool: [kubectl_exec, kubectl_logs]
    kubernetes: { containers: [vault-agent] }
`;

const ONLY_APP = `  - id: app
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], containers: [app, debugger] }
    shell: { programs: { ls: {}, cat: {} } }
  - id: app-logs
    effect: allow
    tool: kubectl_logs
    kubernetes: { namespaces: [shop], containers: [app, debugger] }
`;

function addDebuggedPod(name: string, extra: Record<string, unknown> = {}) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent', env: { VAULT_ROLE: 'payments-admin' } }], files: { '/app/x': 'x' } });
  const p = k.server.store.get('pods', 'shop', name) as unknown as { spec: Record<string, unknown> };
  p.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox', targetContainerName: 'vault-agent' }, { name: 'debug-app', image: 'busybox', targetContainerName: 'app' }];
  Object.assign(p.spec, extra);
}

test('exec into an ephemeral container targeting a denied container is denied', async () => {
  addDebuggedPod('dbg-1');
  const policy = judgedPolicy(DENY_SIDECAR);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-1', container: 'debugger', command: ['ls', '/'] } as never, k.parseCtx);
  const d = policy.decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny', d.reason);
  assert.deepEqual(d.ruleIds, ['no-vault']);
  // The one targeting an allowed container still runs.
  const ok = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-1', container: 'debug-app', command: ['cat', '/app/x'] } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', ok).effect, 'allow');
  const out = await tool.execute({ connection: 'prod', namespace: 'shop', pod: 'dbg-1', container: 'debug-app', command: ['cat', '/app/x'] } as never, ok, k.ctx);
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
});

test('logs of an ephemeral container targeting a denied container are denied', async () => {
  addDebuggedPod('dbg-2');
  const policy = judgedPolicy(DENY_SIDECAR);
  const tool = kubectlLogsTool(() => k.connector);
  const facts = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-2', container: 'debugger' } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_logs', facts).effect, 'deny');
  const app = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-2', container: 'app' } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_logs', app).effect, 'allow');
});

test('an allow naming the ephemeral container but not its target does not reach the target', async () => {
  addDebuggedPod('dbg-3');
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-3', container: 'debugger', command: ['ls', '/'] } as never, k.parseCtx);
  const d = policy.decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny');
  // The reason does not name the container kubectl_get would withhold.
  assert.doesNotMatch(d.reason, /vault-agent/);
  const app = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-3', container: 'app', command: ['ls', '/'] } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', app).effect, 'allow');
});

test('shareProcessNamespace: exec into any container reaches every container; logs do not', async () => {
  addDebuggedPod('shared-1', { shareProcessNamespace: true, ephemeralContainers: [] });
  for (const rules of [DENY_SIDECAR, ONLY_APP]) {
    const policy = judgedPolicy(rules);
    const exec = await kubectlExecTool(() => k.connector).parse({ connection: 'prod', namespace: 'shop', pod: 'shared-1', container: 'app', command: ['ls', '/'] } as never, k.parseCtx);
    const d = policy.decide('kubectl_exec', exec);
    assert.equal(d.effect, 'deny', rules);
    assert.doesNotMatch(d.reason, /vault-agent/);
    const logs = await kubectlLogsTool(() => k.connector).parse({ connection: 'prod', namespace: 'shop', pod: 'shared-1', container: 'app' } as never, k.parseCtx);
    assert.equal(policy.decide('kubectl_logs', logs).effect, 'allow');
  }
});

test('a container the pod did not have when the policy decided is refused before anything runs', async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'dbg-4', labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }], files: { '/app/x': 'x' } });
  const policy = judgedPolicy(DENY_SIDECAR);
  const tool = kubectlExecTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod: 'dbg-4', container: 'debugger', command: ['ls', '/'] };
  const facts = await tool.parse(input as never, k.parseCtx);
  // Judged on a container of unknown reach: a containers: deny counts it (presumed).
  assert.notEqual(policy.decide('kubectl_exec', facts).effect, 'allow');
  // Added in between (same pod uid): still refused at execute.
  const p = k.server.store.get('pods', 'shop', 'dbg-4') as unknown as { spec: Record<string, unknown> };
  p.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox', targetContainerName: 'vault-agent' }];
  await assert.rejects(tool.execute(input as never, facts, k.ctx), /not a container of pod shop\/dbg-4/);
  assert.equal(k.server.runningIn('shop', 'dbg-4'), 0);
});
