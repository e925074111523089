/**
 * Request guards in front of every HTTP route: Host and Origin validation (DNS-rebinding and
 * cross-site protection) and a bounded body reader. They answer refusals themselves.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { localhostAllowedHostnames, localhostAllowedOrigins, validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';

/** The hostnames a request may name in Host and Origin. */
export interface HostPolicy {
  hosts: string[];
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

/**
 * Defaults: localhost names when bound to loopback; the bound address itself when it is a
 * specific address; the resource URI's host (the public name behind a proxy); plus configured ones.
 */
export function hostPolicy(bindHost: string, conf: { allowed_hosts: string[]; allowed_origins: string[] }, resource: string): HostPolicy {
  const hosts = new Set(conf.allowed_hosts.map(hostnameOf));
  const origins = new Set(conf.allowed_origins.map(hostnameOf));
  if (isLoopback(bindHost)) {
    localhostAllowedHostnames().forEach((h) => hosts.add(h));
    localhostAllowedOrigins().forEach((h) => origins.add(h));
  }
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  if (!wildcard) hosts.add(isIP(bindHost) === 6 ? `[${bindHost}]` : bindHost);
  if (/^https?:\/\//i.test(resource)) {
    try {
      const u = new URL(resource);
      hosts.add(u.hostname);
      origins.add(u.hostname);
    } catch {
      /* not a URL: nothing to add */
    }
  }
  return { hosts: [...hosts], origins: [...origins] };
}

/** Check Host and Origin; answers 403 and returns false when refused. */
export function checkHostAndOrigin(req: IncomingMessage, res: ServerResponse, policy: HostPolicy): boolean {
  const host = validateHostHeader(req.headers.host, policy.hosts);
  if (!host.ok) {
    refuse(res, 403, `Forbidden: ${host.message}`);
    return false;
  }
  const origin = validateOriginHeader(typeof req.headers.origin === 'string' ? req.headers.origin : undefined, policy.origins);
  if (!origin.ok) {
    refuse(res, 403, `Forbidden: ${origin.message}`);
    return false;
  }
  return true;
}

/** Answer with a JSON-RPC error body (what MCP clients expect from the endpoint). */
export function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: status === 404 ? -32001 : -32000, message }, id: null }));
}

/** The deepest JSON nesting a request may carry; MCP messages need a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/** True when brackets outside strings nest deeper than `max` (checked before parsing). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Read and parse a JSON body up to `max` bytes; answers 413/415/400 and returns undefined when refused. */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<{ ok: true; body: unknown } | { ok: false }> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    refuse(res, 415, 'Unsupported Media Type: Content-Type must be application/json', { connection: 'close' });
    return { ok: false };
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    refuse(res, 413, `Payload Too Large: the limit is ${max} bytes`, { connection: 'close' });
    return { ok: false };
  }
  const raw = await new Promise<Buffer | 'too-large' | 'error'>((resolveBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.resume(); // drain without keeping it; the response closes the connection
        resolveBody('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolveBody(Buffer.concat(chunks)));
    req.once('error', () => resolveBody('error'));
  });
  if (raw === 'too-large') {
    refuse(res, 413, `Payload Too Large: the limit is ${max} bytes`, { connection: 'close' });
    return { ok: false };
  }
  if (raw === 'error') {
    refuse(res, 400, 'Bad Request: the body could not be read');
    return { ok: false };
  }
  const text = raw.toString('utf8');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    refuse(res, 400, `Bad Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return { ok: false };
  }
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
    }
    return { ok: false };
  }
}
