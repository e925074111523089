/**
 * The process namespace an ephemeral container joins is shared both ways: `kubectl debug
 * --target=app` starts a debug container in app's process namespace, so a kubectl_exec into
 * app sees the debug container's processes (`ps eww` their environment, /proc/PID/root their
 * files). A `containers:` rule judges exec into app as reaching that debug container too;
 * logs of app are app's own output and stay unaffected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('reach-target');

const ONLY_APP = `  - id: app
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], containers: [app] }
    shell: { programs: { cat: {} } }
  - id: app-logs
    effect: allow
    tool: kubectl_logs
    kubernetes: { namespaces: [shop], containers: [app] }
`;

const APP_AND_DEBUGGER = ONLY_APP.replaceAll('containers: [app]', 'containers: [app, debugger]');

/** The namespace granted, the debug container denied by name. */
const DENY_DEBUGGER = `  - id: shop
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop] }
    shell: { programs: { cat: {} } }
  - id: shop-logs
    effect: allow
    tool: kubectl_logs
    kubernetes: { namespaces: [shop] }
  - id: no-debugger
    effect: deny
    tool: [kubectl_exec, kubectl_logs]
    kubernetes: { containers: [debugger] }
`;

/** A pod whose containers share no volume; with `debugged`, `kubectl debug --target=app` has run. */
function addPod(name: string, debugged: boolean) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }], files: { '/app/x': 'x' } });
  if (debugged) debugApp(name);
}

/** What the ephemeralcontainers subresource does (same pod uid): a debug container joins app's processes. */
function debugApp(pod: string) {
  const p = k.server.store.get('pods', 'shop', pod) as unknown as { spec: Record<string, unknown> };
  p.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox', targetContainerName: 'app', env: [{ name: 'DEBUG_TOKEN', value: 't' }] }];
}

const execInput = (pod: string) => ({ connection: 'prod', namespace: 'shop', pod, container: 'app', command: ['cat', '/app/x'] });
const websockets = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;

test('exec into a container a debug container targets: an allow naming only it refuses, nothing runs; logs stay allowed', async () => {
  addPod('tgt-1', true);
  const policy = judgedPolicy(ONLY_APP);
  const tool = kubectlExecTool(() => k.connector);
  const execs = websockets();
  const facts = await tool.parse(execInput('tgt-1') as never, k.parseCtx);
  assert.deepEqual(facts.alsoReaches, ['debugger']);
  const d = policy.decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny', d.reason);
  // Not named: kubectl_get withholds the debug container from this grant.
  assert.doesNotMatch(d.reason, /debugger/);
  assert.match(d.reason, /processes/);
  assert.equal(websockets(), execs, 'no exec was opened');
  assert.equal(k.server.runningIn('shop', 'tgt-1'), 0);
  // A log is app's own output, not a process namespace: unaffected.
  const logs = await kubectlLogsTool(() => k.connector).parse({ connection: 'prod', namespace: 'shop', pod: 'tgt-1', container: 'app' } as never, k.parseCtx);
  assert.deepEqual(logs.alsoReaches, []);
  assert.equal(policy.decide('kubectl_logs', logs).effect, 'allow');
  assert.equal(judgedPolicy(DENY_DEBUGGER).decide('kubectl_logs', logs).effect, 'allow');
});

test('an allow naming the container and the debug container targeting it allows exec, and it runs', async () => {
  addPod('tgt-2', true);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(execInput('tgt-2') as never, k.parseCtx);
  assert.equal(judgedPolicy(APP_AND_DEBUGGER).decide('kubectl_exec', facts).effect, 'allow');
  const out = await tool.execute(execInput('tgt-2') as never, facts, k.ctx);
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
});

test('a deny naming the debug container refuses exec into the container it targets', async () => {
  addPod('tgt-3', true);
  const facts = await kubectlExecTool(() => k.connector).parse(execInput('tgt-3') as never, k.parseCtx);
  const d = judgedPolicy(DENY_DEBUGGER).decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny', d.reason);
  assert.deepEqual(d.ruleIds, ['no-debugger']);
  // Without the debug container the same call is allowed.
  addPod('tgt-4', false);
  const plain = await kubectlExecTool(() => k.connector).parse(execInput('tgt-4') as never, k.parseCtx);
  assert.deepEqual(plain.alsoReaches, []);
  assert.equal(judgedPolicy(DENY_DEBUGGER).decide('kubectl_exec', plain).effect, 'allow');
  assert.equal(judgedPolicy(ONLY_APP).decide('kubectl_exec', plain).effect, 'allow');
});

test('a debug container targeting the container added after the decision: nothing runs', async () => {
  addPod('tgt-5', false);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(execInput('tgt-5') as never, k.parseCtx);
  assert.equal(judgedPolicy(ONLY_APP).decide('kubectl_exec', facts).effect, 'allow');
  debugApp('tgt-5');
  const execs = websockets();
  await assert.rejects(tool.execute(execInput('tgt-5') as never, facts, k.ctx), (e: Error) => {
    assert.match(e.message, /did not when the policy decided.*nothing ran/);
    assert.doesNotMatch(e.message, /debugger/);
    return true;
  });
  assert.equal(websockets(), execs, 'no exec was opened');
  assert.equal(k.server.runningIn('shop', 'tgt-5'), 0);
});

test('a debug container targeting the container added while the command runs: its output is withheld', async () => {
  addPod('tgt-6', false);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(execInput('tgt-6') as never, k.parseCtx);
  k.server.onPodRequest('exec', 'shop', 'tgt-6', () => debugApp('tgt-6'));
  await assert.rejects(tool.execute(execInput('tgt-6') as never, facts, k.ctx), /did not when the policy decided .*the command ran and its output is withheld/);
});
