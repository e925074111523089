/**
 * Authentication (bearer tokens, client certificates signed by the test CA) and a tiny RBAC:
 * per user, forbidden resources and namespaces. Answers are real `Status` objects.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** An authenticated user. */
export interface KubeUser {
  name: string;
  groups: string[];
  /** Resources (e.g. 'secrets', 'pods/exec') this user may never touch. */
  forbidResources?: string[];
  /** Namespaces this user may never touch. */
  forbidNamespaces?: string[];
  /** `VERB RESOURCE` pairs this user may not do (e.g. 'list pods': reading one pod still works). */
  forbidVerbs?: string[];
}

/** A bearer token entry. */
export interface TokenEntry {
  user: KubeUser;
  /** Epoch ms after which the token answers 401. */
  expiresAt?: number;
}

/** A Kubernetes Status body. */
export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** Who sent this request, or null (401). */
export function authenticate(req: IncomingMessage, tokens: Map<string, TokenEntry>, certUsers: Map<string, KubeUser>): KubeUser | null {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) {
    const t = tokens.get(h.slice(7).trim());
    if (!t || (t.expiresAt !== undefined && Date.now() > t.expiresAt)) return null;
    return t.user;
  }
  const sock = req.socket as TLSSocket;
  if (sock.authorized) {
    const peer = sock.getPeerCertificate();
    const cn = peer?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (typeof name === 'string') {
      const known = certUsers.get(name);
      const o = peer.subject.O;
      return known ?? { name, groups: Array.isArray(o) ? o : o ? [o] : [] };
    }
  }
  return null;
}

/** The 403 message a real API server writes, or null when allowed. */
export function forbidden(u: KubeUser, verb: string, resource: string, namespace: string | undefined): string | null {
  const base = resource.split('/')[0]!;
  const hit = u.forbidResources?.some((r) => r === resource || r === base) || (namespace !== undefined && u.forbidNamespaces?.includes(namespace)) || u.forbidVerbs?.includes(`${verb} ${resource}`);
  if (!hit) return null;
  const [res, sub] = resource.split('/');
  const group = ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(res!) ? 'apps' : ['jobs', 'cronjobs'].includes(res!) ? 'batch' : '';
  return `${res}${sub ? `/${sub}` : ''} is forbidden: User "${u.name}" cannot ${verb} resource "${res}"${sub ? ` subresource "${sub}"` : ''} in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`;
}
