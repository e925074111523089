/**
 * A kubectl_exec its client cancels is recorded as the client's cancel (WARDEN_CANCELLED, as
 * query_database and ssh_run), never as WARDEN_TIMEOUT: found by the MCP-surface red team, the
 * transcript read a timeout (the API server slow) for a call the agent itself stopped. The exec
 * stream was opened (the command may have run), so it is no NOTHING_SENT cancel: approvals it
 * spent are not given back. Real exec over the test API server's WebSocket, a real process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { NOTHING_SENT } from '../../../src/errors.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';
import { pollUntil } from '../../support/sshd.js';

const k = testCluster('exec-cancel');

test('a kubectl_exec cancelled while its command runs is WARDEN_CANCELLED, not sent-nothing; a neighbour runs to its end', async () => {
  const tool = kubectlExecTool(() => k.connector);
  k.server.store.addPod({ namespace: 'shop', name: 'sleeper-0', labels: { app: 'web' }, containers: [{ name: 'app' }], files: { '/app/x': 'x' } });
  const input = (command: string[]) => ({ connection: 'prod', namespace: 'shop', pod: 'sleeper-0', container: 'app', command });
  const facts = await tool.parse(input(['sleep', '30']) as never, k.parseCtx);
  const ac = new AbortController();
  const running = tool.execute(input(['sleep', '30']) as never, facts, { ...k.ctx, signal: ac.signal });
  running.catch(() => undefined);
  assert.equal(await pollUntil(() => k.server.runningIn('shop', 'sleeper-0') > 0, 10_000), true, 'the command started');
  ac.abort();
  await assert.rejects(running, (e: Error & { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(e.code, 'WARDEN_CANCELLED', e.message);
    assert.match(e.message, /cancelled/);
    assert.equal(e.details?.[NOTHING_SENT], undefined, 'the stream was open: something may have run');
    return true;
  });
  assert.equal(await pollUntil(() => k.server.runningIn('shop', 'sleeper-0') === 0, 10_000), true, 'the command is gone');
  const ok = await tool.execute(input(['cat', '/app/x']) as never, await tool.parse(input(['cat', '/app/x']) as never, k.parseCtx), { ...k.ctx, signal: new AbortController().signal });
  assert.equal(ok.kind === 'text' ? ok.streams.stdout : null, 'x');
});
