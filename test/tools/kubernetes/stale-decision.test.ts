/**
 * A decision judged a pod's uid and labels; the call must act on that pod only. Beyond a pod
 * replaced under the same name (exec-recheck.test.ts): kubectl_get of a named pod was not
 * re-checked at all, and labels overwritten on the same pod (same uid) went unnoticed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('stale');

const addPod = (labels: Record<string, string>) =>
  k.server.store.addPod({ namespace: 'shop', name: 'db-0', labels, containers: [{ name: 'app', logs: [{ line: 'secret-ish log', ageSeconds: 5 }] }], files: { '/app/x': 'x' } });
const relabel = (labels: Record<string, string>) => {
  const p = k.server.store.get('pods', 'shop', 'db-0')!;
  (p.metadata as { labels?: Record<string, string> }).labels = labels; // same uid: `kubectl label --overwrite`
};

test('kubectl_get of a named pod: the same pod is returned; a replaced or relabelled one is not', async () => {
  const tool = kubectlGetTool(() => k.connector);
  const input = { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'db-0' };
  addPod({ app: 'web' });
  const ok = await tool.execute(input as never, await tool.parse(input as never, k.parseCtx), k.ctx);
  assert.equal(ok.kind, 'json');

  let decided = await tool.parse(input as never, k.parseCtx);
  assert.deepEqual(decided.podLabels, { app: 'web' });
  k.server.deletePod('shop', 'db-0');
  addPod({ app: 'database' });
  await assert.rejects(tool.execute(input as never, decided, k.ctx), /replaced after the policy decided; nothing is returned/);

  relabel({ app: 'web' });
  decided = await tool.parse(input as never, k.parseCtx);
  relabel({ app: 'database' });
  await assert.rejects(tool.execute(input as never, decided, k.ctx), /labels of pod shop\/db-0 changed after the policy decided/);
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_exec: labels overwritten on the same pod after the decision: nothing runs', async () => {
  const tool = kubectlExecTool(() => k.connector);
  addPod({ app: 'web' });
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app', command: ['cat', '/app/x'] };
  const decided = await tool.parse(input as never, k.parseCtx);
  relabel({ app: 'web', extra: 'x' });
  const execs = k.server.requests.filter((r) => r.upgrade === 'websocket').length;
  await assert.rejects(tool.execute(input as never, decided, k.ctx), /labels of pod shop\/db-0 changed after the policy decided; nothing ran/);
  assert.equal(k.server.requests.filter((r) => r.upgrade === 'websocket').length, execs, 'no exec was opened');
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_logs: labels overwritten on the same pod after the decision: nothing is read', async () => {
  const tool = kubectlLogsTool(() => k.connector);
  addPod({ app: 'web' });
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app' };
  const same = await tool.parse(input as never, k.parseCtx);
  assert.equal((await tool.execute(input as never, same, k.ctx)).kind, 'text');
  const decided = await tool.parse(input as never, k.parseCtx);
  relabel({ app: 'database' });
  await assert.rejects(tool.execute(input as never, decided, k.ctx), /labels of pod shop\/db-0 changed/);
  k.server.deletePod('shop', 'db-0');
});

test('an approval binds the pod it was asked for: a pod replaced under the same name is another call', async () => {
  // The pipeline binds an approval to canonicalArgs (or the input when a tool has none). The
  // retry after `WARDEN_APPROVAL_PENDING` parses afresh: a pod replaced in between (a
  // StatefulSet's db-0 with another image or volume) must not run on the approval of the old one.
  const tools = [kubectlExecTool(() => k.connector), kubectlLogsTool(() => k.connector), kubectlGetTool(() => k.connector)] as const;
  const inputs = [
    { connection: 'prod', namespace: 'shop', pod: 'db-0', command: ['rm', '-rf', '/app/x'] },
    { connection: 'prod', namespace: 'shop', pod: 'db-0' },
    { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'db-0' },
  ];
  const bound = async (i: number) => {
    const tool = tools[i]! as unknown as { parse: (a: never, c: never) => Promise<unknown>; canonicalArgs?: (a: never, f: never) => Record<string, unknown> };
    const facts = await tool.parse(inputs[i] as never, k.parseCtx);
    return JSON.stringify(tool.canonicalArgs?.(inputs[i] as never, facts as never) ?? inputs[i]);
  };
  addPod({ app: 'web' });
  const first = await Promise.all([0, 1, 2].map(bound));
  assert.deepEqual(await Promise.all([0, 1, 2].map(bound)), first, 'the same pod: the same bound call');
  k.server.deletePod('shop', 'db-0');
  addPod({ app: 'web' });
  const after = await Promise.all([0, 1, 2].map(bound));
  for (const i of [0, 1, 2]) assert.notEqual(after[i], first[i], `${String(tools[i]!.name)}: the replaced pod is bound as another call`);
  k.server.deletePod('shop', 'db-0');
});
