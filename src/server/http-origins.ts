/**
 * Host and Origin validation in front of every HTTP route (DNS-rebinding and cross-origin
 * protection): which names and origins a listener answers, checked per request. Why apart from
 * http-guards.ts: one concern, shared by the MCP endpoint and the reviewer UI.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { localhostAllowedHostnames, validateHostHeader } from '@modelcontextprotocol/server';
import { parseOriginEntry } from '../config/allowed-origins.js';
import { refuse } from './http-guards.js';

/** What a request may name: hostnames in Host, full origins in Origin. */
export interface HostPolicy {
  /** Hostnames (any port: a proxy may forward its own name without ours); DNS-rebinding protection. */
  hosts: string[];
  /** Origins (scheme://host[:port], as URL normalises them) a browser request may come from. */
  origins: string[];
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function hostnameOf(v: string): string {
  if (v.includes('://')) {
    try {
      return new URL(v).hostname;
    } catch {
      return v;
    }
  }
  return v;
}

/** `scheme://host:port` normalised (default ports dropped, names lower-cased); null when not an http(s) origin. */
function normalOrigin(v: string): string | null {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** The names a browser can use to reach a listener bound to `bindHost` (none for a wildcard bind). */
function ownNames(bindHost: string): string[] {
  const h = bindHost.replace(/^\[|\]$/g, '');
  if (h === '' || h === '0.0.0.0' || h === '::') return [];
  const literal = isIP(h) === 6 ? `[${h}]` : h;
  if (h === 'localhost') return ['localhost', '127.0.0.1', '[::1]'];
  // localhost reaches 127.0.0.1 or ::1; another loopback address is only reached by itself.
  if (h === '::1' || h === '127.0.0.1') return ['localhost', literal];
  return [literal];
}

/**
 * Host defaults: localhost names when bound to loopback; the bound address itself when it is a
 * specific address; the resource URI's host (the public name behind a proxy); plus configured ones.
 * Origins are full origins, never bare hostnames: another port of the same host is another site's
 * page as far as this server is concerned (it shares the reviewer's cookies, which are not
 * port-scoped), so it is refused. Allowed: this listener's own origins (http, the bound address
 * and `port`), the resource URI's origin (https behind a TLS proxy), and `allowed_origins`; a bare
 * hostname there stands for that host on this server's own scheme and port (the listener's, and
 * the public resource's).
 */
export function hostPolicy(bindHost: string, port: number, conf: { allowed_hosts: string[]; allowed_origins: string[] }, resource: string): HostPolicy {
  const hosts = new Set(conf.allowed_hosts.map(hostnameOf));
  if (isLoopback(bindHost)) localhostAllowedHostnames().forEach((h) => hosts.add(h));
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  if (!wildcard) hosts.add(isIP(bindHost) === 6 ? `[${bindHost}]` : bindHost);
  const publicUrl = /^https?:\/\//i.test(resource) ? safeUrl(resource) : null;
  if (publicUrl) hosts.add(publicUrl.hostname);

  // The (scheme, port) pairs this server answers on: the listener, and the public resource URI.
  const own: { scheme: string; port: string }[] = [{ scheme: 'http:', port: String(port) }];
  if (publicUrl) own.push({ scheme: publicUrl.protocol, port: publicUrl.port });
  const at = (name: string, o: { scheme: string; port: string }) => normalOrigin(`${o.scheme}//${name}${o.port ? `:${o.port}` : ''}`);
  const origins = new Set<string>();
  const add = (o: string | null) => void (o && origins.add(o));
  ownNames(bindHost).forEach((n) => add(at(n, own[0]!)));
  if (publicUrl) add(publicUrl.origin);
  for (const entry of conf.allowed_origins) {
    const e = parseOriginEntry(entry);
    // The config loader refuses other entries; should one get here anyway, it allows nothing.
    if (e?.kind === 'origin') add(e.origin);
    else if (e?.kind === 'hostname') own.forEach((o) => add(at(e.hostname, o)));
  }
  return { hosts: [...hosts], origins: [...origins] };
}

function safeUrl(v: string): URL | null {
  try {
    return new URL(v);
  } catch {
    return null;
  }
}

/**
 * Whether an Origin header may proceed: absent or empty (not a browser; what else that request
 * needs is its route's business), or an http(s) origin equal, as a whole, to an allowed one.
 * `null`, unparsable values and other schemes are refused, and so is anything but
 * `scheme://host[:port]` (case and a default port are normalised): URL would read
 * `https://x@app.example.com/p` or a trailing slash as the allowed origin, and CORS echoes the
 * header, so what is echoed must be an origin, not a URL that contains one.
 */
export function originAllowed(policy: HostPolicy, header: string | undefined): boolean {
  if (header === undefined || header === '') return true;
  if (!ORIGIN_SHAPE.test(header)) return false;
  const o = normalOrigin(header);
  return o !== null && o !== 'null' && policy.origins.includes(o);
}

/** An origin as sent: scheme, `://`, host and optional port; no userinfo, path, query, list or space. */
const ORIGIN_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9a-f:.]+\]|[^/?#@\s,[\]:]+)(?::[0-9]{1,5})?$/i;

/** Check Host and Origin; answers 403 and returns false when refused. */
export function checkHostAndOrigin(req: IncomingMessage, res: ServerResponse, policy: HostPolicy): boolean {
  const host = validateHostHeader(req.headers.host, policy.hosts);
  if (!host.ok) {
    refuse(res, 403, `Forbidden: ${host.message}`);
    return false;
  }
  const origin = req.headers.origin;
  if (!originAllowed(policy, origin)) {
    refuse(res, 403, `Forbidden: Origin ${JSON.stringify(String(origin).slice(0, 200))} is not this server's (scheme, host and port are compared)`);
    return false;
  }
  return true;
}
