/**
 * One test API server with the standard cluster plus a Warden config folder whose
 * connections reach it with different credentials: `prod` (token), `certs` (client
 * certificate), `expired` (an expired token: 401), `limited` (RBAC forbids secrets and
 * kube-system: 403) and `down` (nothing listens: unreachable).
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeWardenDir, type WardenDir } from '../warden-process.js';
import { seedCluster } from './fixtures.js';
import { startKubeApiServer, type KubeApiServer } from './index.js';

/** Tokens the server knows. */
export const TOKENS = { good: 'tok-warden-good-0123456789', expired: 'tok-warden-expired-0123456789', limited: 'tok-warden-limited-0123456789' };

/** A port on loopback with nothing listening. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Start the server and seed it. */
export async function startTestCluster(): Promise<KubeApiServer> {
  const s = await startKubeApiServer({
    tokens: {
      [TOKENS.good]: { user: { name: 'system:serviceaccount:warden:warden', groups: ['system:serviceaccounts'] } },
      [TOKENS.expired]: { user: { name: 'old-warden', groups: [] }, expiresAt: Date.now() - 60_000 },
      [TOKENS.limited]: { user: { name: 'limited-warden', groups: [], forbidResources: ['secrets'], forbidNamespaces: ['kube-system'] } },
    },
  });
  seedCluster(s.store);
  return s;
}

/** Connection entries for warden.yaml (kubeconfig files written into the folder). */
export async function writeKubeconfigs(s: KubeApiServer, dir: string, extra = ''): Promise<string> {
  const cert = s.pki.clientCert('warden-cert', ['warden']);
  const files: Record<string, string> = {
    'kube-prod.yaml': s.kubeconfig({ token: TOKENS.good }),
    'kube-certs.yaml': s.kubeconfig(cert, { context: 'certs' }),
    'kube-expired.yaml': s.kubeconfig({ token: TOKENS.expired }),
    'kube-limited.yaml': s.kubeconfig({ token: TOKENS.limited }),
    'kube-down.yaml': s.kubeconfig({ token: TOKENS.good }, { server: `https://127.0.0.1:${await deadPort()}` }),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  const conn = (name: string, file: string, ctx: string) =>
    `  ${name}:\n    type: kubernetes\n    kubeconfig: file:${file}\n    context: ${ctx}\n    exec_timeout: 3s\n    request_timeout: 3s\n    max_bytes: 65536\n${extra}`;
  return [
    conn('prod', 'kube-prod.yaml', 'test'),
    conn('certs', 'kube-certs.yaml', 'certs'),
    conn('expired', 'kube-expired.yaml', 'test'),
    conn('limited', 'kube-limited.yaml', 'test'),
    conn('down', 'kube-down.yaml', 'test'),
  ].join('');
}

/**
 * An allow rule `id` for group sre: kubectl_exec in the app container of shop's app=web pods,
 * pipelines allowed, each of `programs` granted on `paths`.
 */
export function webPodShellRule(id: string, programs: readonly string[], paths: readonly string[]): string {
  return `  - id: ${id}
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
    shell:
      pipelines: true
      programs:
${programs.map((p) => `        ${p}: { paths: [${paths.join(', ')}] }\n`).join('')}`;
}

/**
 * Rules letting group sre exec in and read the logs of container `app` of the shop pods labelled
 * app: `app`, and `extra` rules after them. Why: the Secret-encoding e2e tests (long, spaced,
 * separated) each wrote these out.
 */
export function execAndLogsPolicy(app: string, extra = ''): string {
  const scope = `kubernetes: { namespaces: [shop], pod_labels: { app: ${app} }, containers: [app] }`;
  return `
rules:
  - id: sre-any-command
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    ${scope}
  - id: sre-logs
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_logs
    ${scope}
${extra}`;
}

/** The baseline policy of shared/corpus/kubernetes.yaml in Warden's policy language. */
export const BASELINE_POLICY = `
masking:
  detectors: [email, credit_card, us_ssn, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: sre-pods
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
    shell:
      pipelines: true
      programs:
        ls: { paths: [/app, /var/log] }
        cat: { paths: [/app, /var/log] }
        env: {}
        ps: { paths: [/app, /var/log] }
        df: { paths: [/app, /var/log] }
  - id: sre-slow
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
    shell: { programs: { sleep: {} } }
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: [kubectl_get, kubectl_logs]
    kubernetes: { namespaces: [shop, kube-system], kinds: [pods, deployments, services, configmaps, events, secrets], reveal_secret_keys: [username] }
  - id: sre-cluster
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes: { kinds: [nodes, namespaces], verbs: [get, list] }
  - id: no-kube-system-exec
    effect: deny
    tool: kubectl_exec
    kubernetes: { namespaces: [kube-system] }
    reason: Nobody execs into kube-system.
`;

/** Server, folder and config for a Warden run against the test cluster. */
export async function setupWardenKube(policy = BASELINE_POLICY, subject = 'sam', groups = ['sre']): Promise<{ server: KubeApiServer; dir: WardenDir }> {
  const server = await startTestCluster();
  const dir = writeWardenDir('', { 'base.yaml': policy });
  const conns = await writeKubeconfigs(server, dir.dir);
  writeFileSync(
    dir.configPath,
    `transcripts: { store: sqlite:warden.db }\nresponses: { structured_content: true }\nidentity: { stdio: { subject: ${subject}, groups: [${groups.join(', ')}] } }\nconnections:\n${conns}policies: [policies/*.yaml]\n`,
  );
  return { server, dir };
}
