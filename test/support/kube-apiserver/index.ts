/**
 * Start the test Kubernetes API server on a random loopback port and write kubeconfigs for
 * it. See server.ts for what it speaks; store.ts for the fixtures; exec-runner.ts for how
 * exec runs argv in a pod's fixture directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { KubeUser, TokenEntry } from './auth.js';
import { generatePki, type TestPki } from './certs.js';
import type { RunningExec } from './exec-runner.js';
import { createKubeHttpsServer, type RequestRecord } from './server.js';
import { Store } from './store.js';

export type { KubeUser, TokenEntry } from './auth.js';
export type { PodFixture, ContainerFixture, KObject } from './store.js';
export type { RequestRecord } from './server.js';

/** A running test API server. */
export interface KubeApiServer {
  url: string;
  port: number;
  pki: TestPki;
  store: Store;
  requests: RequestRecord[];
  tokens: Map<string, TokenEntry>;
  /** Subprotocols the exec endpoint accepts, in preference order. */
  execProtocols: string[];
  /** A kubeconfig for a token or a client certificate (context name `test` unless given). */
  kubeconfig(auth: { token: string } | { cert: string; key: string }, o?: { context?: string; server?: string; caData?: string }): string;
  /** Delete a pod; its running execs are killed as the kubelet would (SIGKILL, exit 137). */
  deletePod(namespace: string, name: string): void;
  /**
   * Run `fn` once when the next exec (or log) request for this pod arrives, before the server
   * reads the pod. Why: a test can replace or relabel the pod in the window between Warden's
   * last check and its request, deterministically.
   */
  onPodRequest(sub: 'exec' | 'log', namespace: string, name: string, fn: () => void): void;
  /** Execs running now in a pod. */
  runningIn(namespace: string, name: string): number;
  stop(): Promise<void>;
}

/** Start a server. Tokens map a bearer token to a user (optionally expiring). */
export async function startKubeApiServer(o: { tokens?: Record<string, TokenEntry>; certUsers?: KubeUser[] } = {}): Promise<KubeApiServer> {
  const root = mkdtempSync(join(tmpdir(), 'kube-apiserver-'));
  const pki = generatePki(root);
  const store = new Store(root);
  const requests: RequestRecord[] = [];
  const tokens = new Map(Object.entries(o.tokens ?? {}));
  const certUsers = new Map((o.certUsers ?? []).map((u) => [u.name, u]));
  const running = new Map<string, Set<RunningExec>>();
  const podHooks = new Map<string, () => void>();
  const api: Partial<KubeApiServer> = { execProtocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'] };
  const server = createKubeHttpsServer({ pki, store, tokens, certUsers, requests, running, podHooks, execProtocols: () => api.execProtocols! });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return Object.assign(api, {
    url,
    port,
    pki,
    store,
    requests,
    tokens,
    kubeconfig(auth: { token: string } | { cert: string; key: string }, k: { context?: string; server?: string; caData?: string } = {}) {
      const ctx = k.context ?? 'test';
      const user = 'token' in auth
        ? `    token: ${auth.token}\n`
        : `    client-certificate-data: ${b64(auth.cert)}\n    client-key-data: ${b64(auth.key)}\n`;
      return `apiVersion: v1
kind: Config
clusters:
- name: test-cluster
  cluster:
    server: ${k.server ?? url}
    certificate-authority-data: ${k.caData ?? b64(pki.caCert)}
users:
- name: test-user
  user:
${user}contexts:
- name: ${ctx}
  context:
    cluster: test-cluster
    user: test-user
current-context: ${ctx}
`;
    },
    deletePod(namespace: string, name: string) {
      store.delete('pods', namespace, name);
      for (const r of running.get(`${namespace}/${name}`) ?? []) r.kill();
    },
    onPodRequest(sub: 'exec' | 'log', namespace: string, name: string, fn: () => void) {
      podHooks.set(`${sub} ${namespace}/${name}`, fn);
    },
    runningIn(namespace: string, name: string) {
      return running.get(`${namespace}/${name}`)?.size ?? 0;
    },
    async stop() {
      for (const set of running.values()) for (const r of set) r.kill();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  }) as KubeApiServer;
}
