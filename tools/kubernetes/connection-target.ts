/**
 * Where a kubernetes connection reaches, as its `kubeconfig:` secret resolves here: a digest of
 * the chosen context's cluster (server URL, CA identity, TLS server name, skip-verify, proxy) and
 * of who Warden is there (the kubeconfig user's name, its auth kind, an impersonated user or a
 * basic-auth username). Why: `kubeconfig: file:/etc/warden/kube.yaml` names no cluster, the file
 * does, so an approval given while it pointed at staging must not run the call on a restart (or a
 * replica of the shared store) where it points at production. No credential is in it, nor a
 * digest of one (token, password, client key, exec arguments): a rotated token is the same
 * target. The context's namespace is left out: every kube tool names its namespace (or none, all).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Cluster, User } from '@kubernetes/client-node';
import { ErrorCode, WardenError } from '../../src/tool-api.js';

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** How the kubeconfig user authenticates, by kind only (never the credential). */
export function authKind(u: User | null): string {
  if (!u) return 'none';
  const kinds: string[] = [];
  if (u.exec) kinds.push('exec');
  if (u.authProvider) kinds.push('auth-provider');
  if (u.token) kinds.push('token'); // token-file is read into token by the client library
  if (u.certData || u.certFile) kinds.push('client-certificate');
  if (u.username) kinds.push('basic');
  return kinds.length ? kinds.join('+') : 'none';
}

/** The CA the connection trusts: a digest of its data or of the file's contents (a CA is public). */
async function caIdentity(name: string, c: Cluster): Promise<string | null> {
  if (c.caData) return `data:${sha256(c.caData.replace(/\s+/g, ''))}`;
  if (!c.caFile) return null;
  try {
    return `file:${c.caFile}:${sha256(await readFile(c.caFile))}`;
  } catch {
    throw new WardenError(ErrorCode.CONFIG, `connection ${name}: the kubeconfig's certificate-authority file cannot be read, so an approval cannot be bound to the cluster it reaches`, {
      reason: 'unreadable certificate authority',
    });
  }
}

/** A proxy URL without the password in its user info (no digest of a secret); one that does not parse stays as it is. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

/** The target digest of the current context of a loaded kubeconfig, for connection `name`. */
export async function kubeTarget(name: string, cluster: Cluster, user: User | null): Promise<string> {
  const v = {
    server: cluster.server,
    ca: await caIdentity(name, cluster),
    tlsServerName: cluster.tlsServerName ?? null,
    skipTLSVerify: cluster.skipTLSVerify === true,
    proxy: cluster.proxyUrl ? withoutPassword(cluster.proxyUrl) : null,
    user: user?.name ?? null,
    auth: authKind(user),
    impersonate: user?.impersonateUser ?? null,
    username: user?.username ?? null,
  };
  return `sha256:${sha256(JSON.stringify(v))}`;
}
