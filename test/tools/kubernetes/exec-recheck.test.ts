/**
 * kubectl_exec runs only in the pod the policy decided on: a pod deleted and recreated under the
 * same name between parse (labels looked up, policy decided, maybe an approval wait) and execute
 * gets a new uid, and the command must not run in it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../../src/config/secrets.js';
import { KubeConnector } from '../../../tools/kubernetes/connector.js';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import type { KubernetesConnection } from '../../../tools/kubernetes/config.js';
import { startTestCluster, TOKENS } from '../../support/kube-apiserver/warden-setup.js';
import type { KubeApiServer } from '../../support/kube-apiserver/index.js';
import type { ExecContext } from '../../../src/tool-api.js';

let server: KubeApiServer;
let dir: string;
let connector: KubeConnector;

before(async () => {
  server = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'warden-recheck-'));
  writeFileSync(join(dir, 'kube.yaml'), server.kubeconfig({ token: TOKENS.good }), { mode: 0o600 });
  const conn: KubernetesConnection = {
    name: 'prod', type: 'kubernetes', kubeconfig: `file:${join(dir, 'kube.yaml')}`, context: 'test',
    request_timeout: 3000, exec_timeout: 3000, max_bytes: 65536, exec_protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
  };
  connector = new KubeConnector(conn, createSecretResolver(dir));
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (labels: Record<string, string>) => ({ namespace: 'shop', name: 'db-0', labels, containers: [{ name: 'app' }], files: { '/app/x': 'x' } });

test('a pod replaced after the decision: nothing runs; the same pod still runs', async () => {
  const tool = kubectlExecTool(() => connector);
  server.store.addPod(pod({ app: 'web' }));
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app', command: ['cat', '/app/x'] };
  const ctx = { connection: connector.conn, principal: { subject: 'a', groups: [], claims: {}, authMethod: 'stdio' }, limits: { timeoutMs: 3000, maxRows: 10, maxBytes: 65536 } } as unknown as ExecContext;
  const parseCtx = { principal: ctx.principal, connection: connector.conn } as never;

  const same = await tool.parse(input as never, parseCtx);
  const ok = await tool.execute(input as never, same, ctx);
  assert.equal(ok.kind, 'text');
  assert.equal(ok.kind === 'text' ? ok.streams.stdout : null, 'x');

  const decided = await tool.parse(input as never, parseCtx);
  server.deletePod('shop', 'db-0');
  server.store.addPod(pod({ app: 'database' })); // same name, new uid, other labels
  await assert.rejects(tool.execute(input as never, decided, ctx), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'WARDEN_BACKEND_ERROR');
    assert.match(e.message, /replaced after the policy decided; nothing ran/);
    return true;
  });
  assert.equal(server.runningIn('shop', 'db-0'), 0);
});

test('kubectl_logs: a pod replaced after the decision is not read', async () => {
  const { kubectlLogsTool } = await import('../../../tools/kubernetes/kubectl-logs.js');
  const tool = kubectlLogsTool(() => connector);
  server.store.addPod(pod({ app: 'web' }));
  const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app' };
  const ctx = { connection: connector.conn, principal: { subject: 'a', groups: [], claims: {}, authMethod: 'stdio' }, limits: { timeoutMs: 3000, maxRows: 10, maxBytes: 65536 } } as unknown as ExecContext;
  const parseCtx = { principal: ctx.principal, connection: connector.conn } as never;
  const same = await tool.parse(input as never, parseCtx);
  const ok = await tool.execute(input as never, same, ctx);
  assert.equal(ok.kind, 'text');
  const decided = await tool.parse(input as never, parseCtx);
  server.deletePod('shop', 'db-0');
  server.store.addPod(pod({ app: 'database' }));
  await assert.rejects(tool.execute(input as never, decided, ctx), /replaced after the policy decided; nothing ran/);
});
