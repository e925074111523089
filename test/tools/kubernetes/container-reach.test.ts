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
  // app itself is refused here too: debug-app targets it, so its processes are in app's view
  // (container-reach-target.test.ts); naming debug-app as well allows it.
  const app = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'dbg-3', container: 'app', command: ['ls', '/'] } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', app).effect, 'deny');
  assert.equal(judgedPolicy(ONLY_APP.replaceAll('[app, debugger]', '[app, debugger, debug-app]')).decide('kubectl_exec', app).effect, 'allow');
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

/**
 * A volume two containers mount carries what one writes to the other: a vault-agent sidecar
 * renders secrets into an emptyDir the app mounts (`cat /vault/secrets/db` from the app).
 */
function addVaultPod(name: string, volumes: Record<string, unknown>[], mounts: Record<string, { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[]>) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }], files: { '/app/x': 'x', '/vault/secrets/db': 'postgres://payments:hunter2@db' } });
  const p = k.server.store.get('pods', 'shop', name) as unknown as { spec: { volumes?: unknown[]; containers: Record<string, unknown>[] } };
  p.spec.volumes = volumes;
  for (const c of p.spec.containers) if (mounts[c.name as string]) c.volumeMounts = mounts[c.name as string];
}

const VAULT_MOUNTS = {
  app: [{ name: 'vault-secrets', mountPath: '/vault/secrets', readOnly: true }],
  'vault-agent': [{ name: 'vault-secrets', mountPath: '/vault/secrets' }],
};

test('a volume shared with a withheld container: exec into the allowed one is refused, nothing runs; logs stay allowed', async () => {
  addVaultPod('vol-1', [{ name: 'vault-secrets', emptyDir: { medium: 'Memory' } }], VAULT_MOUNTS);
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod: 'vol-1', container: 'app', command: ['cat', '/vault/secrets/db'] };
  const execs = k.server.requests.filter((r) => r.upgrade === 'websocket').length;
  const facts = await tool.parse(input as never, k.parseCtx);
  const d = policy.decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny', d.reason);
  // Neither the withheld container nor the volume that names what it does is in the reason.
  assert.doesNotMatch(d.reason, /vault/);
  assert.match(d.reason, /volume/);
  // A deny naming the sidecar refuses it too.
  const denied = judgedPolicy(DENY_SIDECAR).decide('kubectl_exec', facts);
  assert.equal(denied.effect, 'deny');
  assert.deepEqual(denied.ruleIds, ['no-vault']);
  assert.equal(k.server.requests.filter((r) => r.upgrade === 'websocket').length, execs, 'no exec was opened');
  assert.equal(k.server.runningIn('shop', 'vol-1'), 0);
  // Logs of app read what app wrote, not the volume: unaffected.
  const logs = await kubectlLogsTool(() => k.connector).parse({ connection: 'prod', namespace: 'shop', pod: 'vol-1', container: 'app' } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_logs', logs).effect, 'allow');
  assert.equal(judgedPolicy(DENY_SIDECAR).decide('kubectl_logs', logs).effect, 'allow');
});

test('any shared volume reaches: secret and projected volumes, subPath, init and ephemeral containers', async () => {
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const decide = async (pod: string) =>
    policy.decide('kubectl_exec', await tool.parse({ connection: 'prod', namespace: 'shop', pod, container: 'app', command: ['ls', '/'] } as never, k.parseCtx));
  addVaultPod('vol-2', [{ name: 'creds', secret: { secretName: 'db-creds' } }], {
    app: [{ name: 'creds', mountPath: '/creds', subPath: 'user' }],
    'vault-agent': [{ name: 'creds', mountPath: '/creds', subPath: 'password' }],
  });
  assert.equal((await decide('vol-2')).effect, 'deny');
  addVaultPod('vol-3', [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }], { app: [{ name: 'tok', mountPath: '/t' }] });
  const p3 = k.server.store.get('pods', 'shop', 'vol-3') as unknown as { spec: Record<string, unknown> };
  p3.spec.initContainers = [{ name: 'vault-init', image: 'vault', volumeMounts: [{ name: 'tok', mountPath: '/t' }] }];
  assert.equal((await decide('vol-3')).effect, 'deny');
  addVaultPod('vol-4', [{ name: 'scratch', emptyDir: {} }], { app: [{ name: 'scratch', mountPath: '/s' }] });
  const p4 = k.server.store.get('pods', 'shop', 'vol-4') as unknown as { spec: Record<string, unknown> };
  p4.spec.ephemeralContainers = [{ name: 'vault-debug', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }];
  assert.equal((await decide('vol-4')).effect, 'deny');
  // The volume reaches the same way from the other side: the ephemeral container reaches app.
  const dbg = await tool.parse({ connection: 'prod', namespace: 'shop', pod: 'vol-4', container: 'vault-debug', command: ['ls', '/'] } as never, k.parseCtx);
  assert.deepEqual(dbg.alsoReaches, ['app']);
});

test('containers that share no volume: exec into the allowed one runs', async () => {
  addVaultPod('vol-5', [{ name: 'app-data', emptyDir: {} }, { name: 'vault-secrets', emptyDir: {} }], {
    app: [{ name: 'app-data', mountPath: '/data' }],
    'vault-agent': [{ name: 'vault-secrets', mountPath: '/vault/secrets' }],
  });
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod: 'vol-5', container: 'app', command: ['cat', '/app/x'] };
  const facts = await tool.parse(input as never, k.parseCtx);
  assert.deepEqual(facts.alsoReaches, []);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
  assert.equal(judgedPolicy(DENY_SIDECAR).decide('kubectl_exec', facts).effect, 'allow');
  const out = await tool.execute(input as never, facts, k.ctx);
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
});

test('an allow naming every container sharing the volume allows exec', async () => {
  addVaultPod('vol-6', [{ name: 'vault-secrets', emptyDir: {} }], VAULT_MOUNTS);
  const policy = judgedPolicy(`  - id: both
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], containers: [app, vault-agent] }
    shell: { programs: { cat: {} } }
`);
  const facts = await kubectlExecTool(() => k.connector).parse({ connection: 'prod', namespace: 'shop', pod: 'vol-6', container: 'app', command: ['cat', '/app/x'] } as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
});

test('an ephemeral container added after the decision that mounts the same volume: nothing runs', async () => {
  addVaultPod('vol-7', [{ name: 'scratch', emptyDir: {} }], { app: [{ name: 'scratch', mountPath: '/s' }] });
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod: 'vol-7', container: 'app', command: ['cat', '/app/x'] };
  const facts = await tool.parse(input as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
  // Same pod uid: the ephemeralcontainers subresource adds one mounting `scratch`.
  const p = k.server.store.get('pods', 'shop', 'vol-7') as unknown as { spec: Record<string, unknown> };
  p.spec.ephemeralContainers = [{ name: 'vault-debug', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }];
  const execs = k.server.requests.filter((r) => r.upgrade === 'websocket').length;
  await assert.rejects(tool.execute(input as never, facts, k.ctx), (e: Error) => {
    assert.match(e.message, /did not when the policy decided.*nothing ran/);
    assert.doesNotMatch(e.message, /vault/);
    return true;
  });
  assert.equal(k.server.requests.filter((r) => r.upgrade === 'websocket').length, execs, 'no exec was opened');
});

test('an ephemeral container mounting the same volume added while the command runs: its output is withheld', async () => {
  addVaultPod('vol-8', [{ name: 'scratch', emptyDir: {} }], { app: [{ name: 'scratch', mountPath: '/s' }] });
  const tool = kubectlExecTool(() => k.connector);
  const input = { connection: 'prod', namespace: 'shop', pod: 'vol-8', container: 'app', command: ['cat', '/app/x'] };
  const facts = await tool.parse(input as never, k.parseCtx);
  k.server.onPodRequest('exec', 'shop', 'vol-8', () => {
    const p = k.server.store.get('pods', 'shop', 'vol-8') as unknown as { spec: Record<string, unknown> };
    p.spec.ephemeralContainers = [{ name: 'vault-debug', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }];
  });
  await assert.rejects(tool.execute(input as never, facts, k.ctx), /did not when the policy decided .*the command ran and its output is withheld/);
});
