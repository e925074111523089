/**
 * Red team: kubectl_exec's parsed summary (the "Parsed:" line of the approval card, the
 * transcript timeline and `approvals show`) cut a long command at 200 characters without saying
 * so, so the line a reviewer reads first could end before the part that matters. The cut is
 * marked, as the shell summary's is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('execsummary');

test('kubectl_exec: a summary cut at 200 characters says so; a short one is whole', async () => {
  const tool = kubectlExecTool(() => k.connector);
  k.server.store.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' }, containers: [{ name: 'app' }], files: {} });
  const parse = (command: string[]) => tool.parse({ connection: 'prod', namespace: 'shop', pod: 'web-0', container: 'app', command } as never, k.parseCtx);
  const long = await parse(['echo', 'a'.repeat(300), 'TAIL']);
  assert.ok(long.summary.endsWith('…'), `the cut is marked: ${long.summary}`);
  assert.ok(!long.summary.includes('TAIL'));
  const short = await parse(['ls', '-l', '/tmp']);
  assert.equal(short.summary, 'exec shop/web-0[app]: ls -l /tmp');
});
