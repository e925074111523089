/**
 * A refusal must not tell an agent whether an object outside its grant exists: naming a pod
 * (or a deployment, service or event) that does not exist and naming one that exists outside
 * the grant get the same agent-visible answer, code and text alike (the name aside).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('oracle');

const policy = judgedPolicy(`  - id: web-pods
    effect: allow
    tool: [kubectl_exec, kubectl_logs, kubectl_get]
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
`);

/** The tools that look up a pod by name, each with its input for a pod of namespace shop. */
function namedPodTools() {
  return [
    { tool: kubectlExecTool(() => k.connector), name: 'kubectl_exec', input: (pod: string) => ({ connection: 'prod', namespace: 'shop', pod, command: ['ls', '/app'] }) },
    { tool: kubectlLogsTool(() => k.connector), name: 'kubectl_logs', input: (pod: string) => ({ connection: 'prod', namespace: 'shop', pod }) },
    { tool: kubectlGetTool(() => k.connector), name: 'kubectl_get', input: (pod: string) => ({ connection: 'prod', kind: 'pods', namespace: 'shop', name: pod }) },
  ];
}

/** The agent-visible refusal with the name the agent gave replaced. */
const seen = (code: string, message: string, ruleIds: string[], name: string) => JSON.stringify({ code, message: message.replaceAll(name, '<name>'), ruleIds });

test('a named pod: absent and present outside the grant are refused alike (exec, logs, get)', async () => {
  // db-1 exists in shop labelled app=db; ghost-9 does not exist.
  for (const t of namedPodTools()) {
    const answers = [];
    for (const pod of ['ghost-9', 'db-1']) {
      const facts = await t.tool.parse(t.input(pod) as never, k.parseCtx);
      const d = policy.decide(t.name, facts);
      assert.equal(d.effect, 'deny', `${t.name} ${pod}`);
      answers.push(seen('WARDEN_DENIED', d.reason, d.ruleIds, pod));
    }
    assert.equal(answers[0], answers[1], t.name);
    assert.doesNotMatch(answers[0]!, /not found|does not carry|container/, t.name);
  }
});

test('a named deployment, service or event: absent and present outside the grant are refused alike', async () => {
  k.server.store.put('deployments', {
    metadata: { name: 'db', namespace: 'shop', labels: { app: 'db' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'app', image: 'db:1' }] } } },
  });
  k.server.store.put('services', { metadata: { name: 'db', namespace: 'shop' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } });
  k.server.store.put('events', { metadata: { name: 'db', namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'db-1', namespace: 'shop', uid: k.server.store.get('pods', 'shop', 'db-1')!.metadata.uid }, reason: 'Started', message: 'Started container app', type: 'Normal' });
  const tool = kubectlGetTool(() => k.connector);
  const ctx = policy.ctx(k.ctx, 'kubectl_get');
  for (const kind of ['deployments', 'services', 'events']) {
    const answers = [];
    for (const name of ['ghost', 'db']) {
      const input = { connection: 'prod', kind, namespace: 'shop', name };
      const facts = await tool.parse(input as never, k.parseCtx);
      assert.equal(policy.decide('kubectl_get', facts).effect, 'allow', 'judged item by item when read');
      const e = await tool.execute(input as never, facts, ctx).then(() => null, (err: Error & { code: string; details: { ruleIds?: string[] } }) => err);
      assert.ok(e, `${kind} ${name} is refused`);
      answers.push(seen(e.code, e.message, e.details.ruleIds ?? [], name));
    }
    assert.equal(answers[0], answers[1], kind);
    assert.match(answers[0]!, /WARDEN_DENIED/, kind);
  }
});

const withDeny = judgedPolicy(`  - id: web-pods
    effect: allow
    tool: [kubectl_exec, kubectl_logs, kubectl_get]
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
  - id: no-secret-tier
    effect: deny
    tool: [kubectl_exec, kubectl_logs, kubectl_get]
    kubernetes: { pod_labels: { tier: secret } }
`);

test('allow and deny on pod labels: an absent pod is refused as a present one outside the allow is, not by the deny', async () => {
  // db-1 exists labelled app=db (outside the allow, not matching the deny); ghost-9 does not exist.
  k.server.store.addPod({ namespace: 'shop', name: 'vault-1', labels: { app: 'web', tier: 'secret' }, containers: [{ name: 'app' }] });
  for (const t of namedPodTools()) {
    const answers = [];
    for (const pod of ['ghost-9', 'db-1']) {
      const facts = await t.tool.parse(t.input(pod) as never, k.parseCtx);
      const d = withDeny.decide(t.name, facts);
      assert.equal(d.effect, 'deny', `${t.name} ${pod}`);
      answers.push(seen('WARDEN_DENIED', d.reason, d.ruleIds, pod) + JSON.stringify(d.alternatives));
    }
    assert.equal(answers[0], answers[1], t.name);
    assert.doesNotMatch(answers[0]!, /no-secret-tier/, t.name);
    // Deny still wins: a present pod inside the allow that carries the denied labels.
    const facts = await t.tool.parse(t.input('vault-1') as never, k.parseCtx);
    const d = withDeny.decide(t.name, facts);
    assert.equal(d.effect, 'deny', t.name);
    assert.deepEqual(d.ruleIds, ['no-secret-tier'], t.name);
  }
});

test('allow and deny on pod labels: a named deployment, service or event absent and present outside the allow are refused alike', async () => {
  const tool = kubectlGetTool(() => k.connector);
  const ctx = withDeny.ctx(k.ctx, 'kubectl_get');
  for (const kind of ['deployments', 'services', 'events']) {
    const answers = [];
    for (const name of ['ghost', 'db']) {
      const input = { connection: 'prod', kind, namespace: 'shop', name };
      const facts = await tool.parse(input as never, k.parseCtx);
      const e = await tool.execute(input as never, facts, ctx).then(() => null, (err: Error & { code: string; details: { ruleIds?: string[] } }) => err);
      assert.ok(e, `${kind} ${name} is refused`);
      answers.push(seen(e.code, e.message, e.details.ruleIds ?? [], name));
    }
    assert.equal(answers[0], answers[1], kind);
    assert.doesNotMatch(answers[0]!, /no-secret-tier/, kind);
  }
});
