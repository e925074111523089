/**
 * A KubeConnector straight to a test API server, as the tool-level tests (no Warden process)
 * build it: a kubeconfig file with the good token, the `prod` connection, and an ExecContext for
 * a plain stdio principal. Why one place: four test files built the same connection by hand.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../../src/config/secrets.js';
import type { ExecContext } from '../../../src/tool-api.js';
import type { KubernetesConnection } from '../../../tools/kubernetes/config.js';
import { KubeConnector } from '../../../tools/kubernetes/connector.js';
import type { KubeApiServer } from './index.js';
import { TOKENS } from './warden-setup.js';

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
