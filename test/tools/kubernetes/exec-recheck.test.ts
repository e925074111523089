/**
 * kubectl_exec runs only in the pod the policy decided on: a pod deleted and recreated under the
 * same name between parse (labels looked up, policy decided, maybe an approval wait) and execute
 * gets a new uid, and the command must not run in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('recheck');

const pod = (labels: Record<string, string>) => ({ namespace: 'shop', name: 'db-0', labels, containers: [{ name: 'app' }], files: { '/app/x': 'x' } });

test('a pod replaced after the decision: nothing runs; the same pod still runs', async () => {
  const tool = kubectlExecTool(() => k.connector);
  k.server.store.addPod(pod({ app: 'web' }));
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app', command: ['cat', '/app/x'] };

  const same = await tool.parse(input as never, k.parseCtx);
  const ok = await tool.execute(input as never, same, k.ctx);
  assert.equal(ok.kind, 'text');
  assert.equal(ok.kind === 'text' ? ok.streams.stdout : null, 'x');

  const decided = await tool.parse(input as never, k.parseCtx);
  k.server.deletePod('shop', 'db-0');
  k.server.store.addPod(pod({ app: 'database' })); // same name, new uid, other labels
  await assert.rejects(tool.execute(input as never, decided, k.ctx), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
    assert.match(e.message, /replaced after the policy decided; nothing ran/);
    return true;
  });
  assert.equal(k.server.runningIn('shop', 'db-0'), 0);
});

test('kubectl_logs: a pod replaced after the decision is not read', async () => {
  const { kubectlLogsTool } = await import('../../../tools/kubernetes/kubectl-logs.js');
  const tool = kubectlLogsTool(() => k.connector);
  k.server.store.addPod(pod({ app: 'web' }));
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app' };
  const same = await tool.parse(input as never, k.parseCtx);
  const ok = await tool.execute(input as never, same, k.ctx);
  assert.equal(ok.kind, 'text');
  const decided = await tool.parse(input as never, k.parseCtx);
  k.server.deletePod('shop', 'db-0');
  k.server.store.addPod(pod({ app: 'database' }));
  await assert.rejects(tool.execute(input as never, decided, k.ctx), /replaced after the policy decided; nothing ran/);
});
