/**
 * The window after the last re-read: the exec and log APIs take a pod name, never a uid, so a
 * pod replaced (or relabelled) between Warden's check and its request answers in place of the
 * judged one. The test API server swaps the pod exactly when the exec or log request arrives;
 * what came back must be withheld, after one more read of the pod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { kubectlLogsTool } from '../../../tools/kubernetes/kubectl-logs.js';
import { TOKENS } from '../../support/kube-apiserver/warden-setup.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('swap');

const OTHER = 'OTHER-POD-DATA-5e1c';
const judged = () =>
  k.server.store.addPod({ namespace: 'shop', name: 'db-0', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'judged pod log', ageSeconds: 5 }] }], files: { '/app/x': 'judged' } });
/** Delete and recreate under the same name: a new uid, other labels, other content. */
const swap = () => {
  k.server.deletePod('shop', 'db-0');
  k.server.store.addPod({ namespace: 'shop', name: 'db-0', labels: { app: 'database' }, containers: [{ name: 'app', logs: [{ line: OTHER, ageSeconds: 5 }] }], files: { '/app/x': OTHER } });
};
/** `kubectl label --overwrite`: the same pod (same uid), other labels. */
const relabel = () => {
  const p = k.server.store.get('pods', 'shop', 'db-0')!;
  (p.metadata as { labels?: Record<string, string> }).labels = { app: 'database' };
};
const podReads = () => k.server.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/shop/pods/db-0').length;
const execs = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;
const execInput = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app', command: ['cat', '/app/x'] };
const logsInput = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app' };
const withheld = (re: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
  assert.match(e.message, re);
  assert.ok(!e.message.includes(OTHER), 'the withheld output is not in the error');
  return true;
};

test('kubectl_exec: the same pod: the output is returned, after one read of the pod once the stream ended', async () => {
  const tool = kubectlExecTool(() => k.connector);
  judged();
  const decided = await tool.parse(execInput as never, k.parseCtx);
  const reads = podReads();
  const r = await tool.execute(execInput as never, decided, k.ctx);
  assert.equal(r.kind === 'text' ? r.streams.stdout : null, 'judged');
  assert.equal(podReads() - reads, 2, 'one read before the exec, one after');
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_exec: a pod replaced when the exec request arrives: the command ran, its output is withheld', async () => {
  const tool = kubectlExecTool(() => k.connector);
  judged();
  const decided = await tool.parse(execInput as never, k.parseCtx);
  k.server.onPodRequest('exec', 'shop', 'db-0', swap);
  const opened = execs();
  await assert.rejects(tool.execute(execInput as never, decided, k.ctx), withheld(/pod shop\/db-0 was deleted or replaced after the policy decided; the command ran and may have run in a pod the policy did not judge, so its output is withheld/));
  assert.equal(execs() - opened, 1, 'the exec reached the replacement: the swap was in the window');
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_exec: a pod relabelled (same uid) when the exec request arrives: its output is withheld', async () => {
  const tool = kubectlExecTool(() => k.connector);
  judged();
  const decided = await tool.parse(execInput as never, k.parseCtx);
  k.server.onPodRequest('exec', 'shop', 'db-0', relabel);
  await assert.rejects(tool.execute(execInput as never, decided, k.ctx), withheld(/the labels of pod shop\/db-0 changed after the policy decided; the command ran and its output is withheld/));
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_exec: a pod deleted when the exec request arrives: a not-found answer, as before', async () => {
  const tool = kubectlExecTool(() => k.connector);
  judged();
  const decided = await tool.parse(execInput as never, k.parseCtx);
  k.server.onPodRequest('exec', 'shop', 'db-0', () => k.server.deletePod('shop', 'db-0'));
  await assert.rejects(tool.execute(execInput as never, decided, k.ctx), /db-0 was deleted/);
});

test('kubectl_logs: the same pod: the log is returned, after one read of the pod once it was read', async () => {
  const tool = kubectlLogsTool(() => k.connector);
  judged();
  const decided = await tool.parse(logsInput as never, k.parseCtx);
  const reads = podReads();
  const r = await tool.execute(logsInput as never, decided, k.ctx);
  assert.equal(r.kind === 'text' ? r.streams.log : null, 'judged pod log\n');
  assert.equal(podReads() - reads, 2, 'one read before the log, one after');
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_logs: a pod replaced when the log request arrives: the log is withheld', async () => {
  const tool = kubectlLogsTool(() => k.connector);
  judged();
  const decided = await tool.parse(logsInput as never, k.parseCtx);
  k.server.onPodRequest('log', 'shop', 'db-0', swap);
  await assert.rejects(tool.execute(logsInput as never, decided, k.ctx), withheld(/pod shop\/db-0 was deleted or replaced after the policy decided; the log read may be from a pod the policy did not judge and is withheld/));
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_logs: a pod relabelled (same uid) when the log request arrives: the log is withheld', async () => {
  const tool = kubectlLogsTool(() => k.connector);
  judged();
  const decided = await tool.parse(logsInput as never, k.parseCtx);
  k.server.onPodRequest('log', 'shop', 'db-0', relabel);
  await assert.rejects(tool.execute(logsInput as never, decided, k.ctx), withheld(/the labels of pod shop\/db-0 changed after the policy decided; the log read is withheld/));
  k.server.deletePod('shop', 'db-0');
});

test('kubectl_exec: a pod that cannot be read once the stream ended: its output is withheld (fail closed)', async () => {
  const tool = kubectlExecTool(() => k.connector);
  judged();
  const decided = await tool.parse(execInput as never, k.parseCtx);
  const user = k.server.tokens.get(TOKENS.good)!.user;
  k.server.onPodRequest('exec', 'shop', 'db-0', () => (user.forbidResources = ['pods'])); // RBAC changed under the running exec
  try {
    await assert.rejects(tool.execute(execInput as never, decided, k.ctx), withheld(/pod shop\/db-0 could not be read again after the command ran to confirm it is the one the policy decided on \(403 Forbidden\); the command ran and its output is withheld/));
  } finally {
    delete user.forbidResources;
    k.server.deletePod('shop', 'db-0');
  }
});
