/**
 * A KubeConnector straight to a test API server, as the tool-level tests (no Warden process)
 * build it: a kubeconfig file with the good token, the `prod` connection, and an ExecContext for
 * a plain stdio principal. Why one place: four test files built the same connection by hand.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../../src/config/secrets.js';
import type { ExecContext } from '../../../src/tool-api.js';
import type { KubernetesConnection } from '../../../tools/kubernetes/config.js';
import { KubeConnector } from '../../../tools/kubernetes/connector.js';
import type { KubeApiServer } from './index.js';
import { startTestCluster, TOKENS } from './warden-setup.js';

/** The connector, a context for its tools, and the cleanup of both. */
export interface TestConnector {
  connector: KubeConnector;
  ctx: ExecContext;
  close(): Promise<void>;
}

/** Connect to `server` with the good token (kubeconfig written to a fresh folder named after `prefix`). */
export function testConnector(server: KubeApiServer, prefix: string): TestConnector {
  const dir = mkdtempSync(join(tmpdir(), `warden-${prefix}-`));
  writeFileSync(join(dir, 'kube.yaml'), server.kubeconfig({ token: TOKENS.good }), { mode: 0o600 });
  const conn: KubernetesConnection = {
    name: 'prod', type: 'kubernetes', kubeconfig: `file:${join(dir, 'kube.yaml')}`, context: 'test',
    request_timeout: 3000, exec_timeout: 3000, max_bytes: 65536, exec_protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
  };
  const connector = new KubeConnector(conn, createSecretResolver(dir));
  const ctx = { connection: connector.conn, principal: { subject: 'a', groups: [], claims: {}, authMethod: 'stdio' }, limits: { timeoutMs: 3000, maxRows: 10, maxBytes: 65536 } } as unknown as ExecContext;
  return {
    connector,
    ctx,
    async close() {
      await connector.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What testCluster hands a test file: filled in by its `before` hook. */
export interface TestCluster extends Omit<TestConnector, 'close'> {
  server: KubeApiServer;
  /** A parse-time context of the same principal and connection (podFacts and the tools' parse). */
  parseCtx: never;
}

/**
 * Register a `before` that starts the standard test cluster and connects to it, and an `after`
 * that stops both; why: the tool-level Kubernetes tests each repeated these hooks.
 */
export function testCluster(prefix: string): TestCluster {
  const k = {} as TestCluster;
  let conn: TestConnector | undefined;
  before(async () => {
    k.server = await startTestCluster();
    conn = testConnector(k.server, prefix);
    k.connector = conn.connector;
    k.ctx = conn.ctx;
    k.parseCtx = { principal: conn.ctx.principal, connection: conn.connector.conn } as never;
  });
  after(async () => {
    await conn?.close();
    await k.server?.stop();
  });
  return k;
}
