/**
 * `warden serve --http`: MCP over Streamable HTTP for many agents, each with its own identity.
 *
 * A connection over http.max_connections is refused before it is read (http-connections.ts).
 * Health probes (/healthz, /readyz; http-health.ts) answer first. Every other request passes, in
 * order: Host/Origin validation (DNS rebinding; Origin compared as scheme, host and port; CORS
 * preflights of /mcp answered next, without a token: http-cors.ts) -> bearer JWT
 * verification (OIDC, 401/403 with RFC 9728 challenges; DPoP proofs when configured: http-dpop.ts) -> per-principal caps on requests in flight
 * and GET streams (429), then server-wide ones (503; http-limits.ts) -> body limit, no JSON-RPC
 * batches -> MCP, each response's buffer bounded for clients that stop reading (http-stream-buffer.ts). 2025-11-25
 * clients get stateful sessions bound to their principal; 2026-07-28 clients are served per
 * request. Tool calls then take the one pipeline like any stdio call. Shutdown stops accepting,
 * lets in-flight calls finish (the pipeline records them), then closes sessions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, isInitializeRequest, type AuthInfo } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { ErrorCode, WardenError } from '../errors.js';
import type { TokenVerifier, VerifiedToken } from '../identity/oidc.js';
import { verifierFromConfig } from './http-verifier.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Principal } from '../tool-api.js';
import { authenticate, resourceInfo, serveResourceMetadata } from './http-auth.js';
import { createDpopGate } from './http-dpop.js';
import { secretsOf } from './store-open.js';
import { readJsonBody, refuse, refuseBatch, refuseNotJsonRpc } from './http-guards.js';
import { checkHostAndOrigin, hostPolicy, originAllowed } from './http-origins.js';
import { HEALTH_PATHS, healthProbes } from './http-health.js';
import { allowOrigin, answerPreflight } from './http-cors.js';
import { createSessionRegistry } from './http-sessions.js';
import { createPrincipalLimits } from './http-limits.js';
import { boundResponseBuffer, streamBufferBound } from './http-stream-buffer.js';
import { dropRefused } from './http-connections.js';
import { createHttpListener } from './http-listener.js';
import { codeErrorBodies } from './http-coded-bodies.js';
import { createConnectionServer, type ConnectionSession, type ServeDeps } from './mcp-server.js';
import type { Runtime } from './runtime.js';
import { log } from './log.js';

/** A Node request handler mounted under a path prefix (e.g. the reviewer UI under /ui). */
export type MountHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of serveOverHttp. */
export interface HttpServeOptions {
  host: string;
  port: number;
  version: string;
  mount?: Record<string, MountHandler>;
  /** How long close() waits for in-flight calls (default 30 s). */
  shutdownTimeoutMs?: number;
  /** Verifier override (tests); default: built from identity.oidc. */
  verifier?: TokenVerifier;
  /** Clock of the DPoP checks, proof iat and server nonces (tests); default Date.now. */
  dpopClock?: () => number;
}

/** A running HTTP server. */
export interface HttpServerHandle {
  /** Base URL, e.g. http://127.0.0.1:8080 (the MCP endpoint is `${url}/mcp`). */
  url: string;
  /** Whether an Origin header names this server (scheme, host, port) or a configured origin; mounts that take cookies ask it. */
  allowsOrigin(origin: string): boolean;
  close(): Promise<void>;
}

const MCP_PATH = '/mcp';

/** Serve the runtime over Streamable HTTP. Default bind is loopback; the caller closes the runtime. */
export async function serveOverHttp(rt: Runtime, opts: HttpServeOptions): Promise<HttpServerHandle> {
  const verifier = opts.verifier ?? verifierFromConfig(rt);
  // DPoP proofs (identity.oidc.dpop): null unless configured; refuses to start without a URL proofs can name, or with a nonce_key it cannot resolve.
  const dpop = await createDpopGate(verifier, MCP_PATH, { resolveSecret: (ref) => secretsOf(rt.config).resolve(ref), ...(opts.dpopClock ? { now: opts.dpopClock } : {}) });
  const host = opts.host || '127.0.0.1';
  const maxBody = rt.config.http.max_body_bytes;

  // In-flight tool calls, so that shutdown can wait for them.
  let inflight = 0;
  let idleWaiters: (() => void)[] = [];
  const pipeline: Pipeline = {
    stages: rt.pipeline.stages,
    listTools: (p) => rt.pipeline.listTools(p),
    async handle(req) {
      inflight++;
      try {
        return await rt.pipeline.handle(req);
      } finally {
        if (--inflight === 0) {
          const w = idleWaiters;
          idleWaiters = [];
          w.forEach((f) => f());
        }
      }
    },
  };
  const deps: ServeDeps = { pipeline, store: rt.store, version: opts.version, structuredContent: rt.config.responses.structured_content, log };
  const sessions = createSessionRegistry(deps, { maxBodyBytes: maxBody, maxLifetimeMs: rt.config.http.session_max_lifetime });

  // 2026-07-28 (per-request) traffic: one server instance per request, bound to that request's principal.
  const modern = createMcpHandler(
    (ctx) => {
      const extra = ctx.authInfo?.extra as { principal?: Principal; conns?: ConnectionSession[] } | undefined;
      if (!extra?.principal || !extra.conns) throw new WardenError(ErrorCode.UNAUTHENTICATED, 'no authenticated principal for this request');
      const conn = createConnectionServer(deps, extra.principal, 'http', { perRequest: true });
      extra.conns.push(conn);
      return conn.server;
    },
    { legacy: 'reject', maxRequestBodySize: maxBody, onerror: (e) => log('debug', 'mcp http (2026) request error', { message: e.message }) },
  );
  const modernNode = toNodeHandler(modern, { maxRequestBodySize: maxBody, onerror: (e) => log('warn', 'mcp http handler error', { message: e.message }) });

  // Baseline headers, the connection cap and bounded header/request times (http-listener.ts).
  const { server, connections } = createHttpListener(rt.config.http, log);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${urlHost}:${addr.port}`;
  const resource = resourceInfo(verifier, url, MCP_PATH);
  const hosts = hostPolicy(host, addr.port, rt.config.http, resource.resource);
  const mounts = Object.entries(opts.mount ?? {}).map(([prefix, h]) => [prefix.replace(/\/+$/, ''), h] as const);

  let closing = false;
  const health = healthProbes({ closing: () => closing, store: rt.store });
  const conf = rt.config.http;
  const streamBuffer = streamBufferBound(rt.config);
  if (streamBuffer.raisedFor) log('info', `http.max_stream_buffer raised to ${streamBuffer.bytes} bytes so that a whole answer of ${streamBuffer.raisedFor} is never cut off`, { configured: conf.max_stream_buffer });
  const limits = createPrincipalLimits({ maxRequests: conf.max_requests_per_principal, maxStreams: conf.max_streams_per_principal, total: { requests: conf.max_requests, streams: conf.max_streams }, log });
  let activePosts = 0;
  let postWaiters: (() => void)[] = [];

  async function serveMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every JSON-RPC error body of this response carries a WARDEN_* code, the SDK's own too (http-coded-bodies.ts).
    codeErrorBodies(res, (msg, data) => log('debug', msg, data));
    const verified = await authenticate(req, res, verifier, resource, log, dpop);
    // Counted from here, before the body is read: a slow body holds its principal's slot, no other's.
    // Past the cap a POST may still bring a notification or response (a cancel, an elicitation answer).
    const admitted = verified ? (req.method === 'POST' ? limits.admitPost(req, res, verified.principal) : limits.admit(req, res, verified.principal)) : false;
    if (!verified || !admitted) return;
    const principal = verified.principal;
    // A backlog its client takes nothing of for request_timeout is a client gone quiet (http-stream-buffer.ts).
    boundResponseBuffer(res, streamBuffer.bytes, conf.request_timeout, (why) =>
      log('warn', why.reason === 'buffer' ? 'http stream closed: its client is not reading and Warden would buffer more than it may' : 'http stream closed: its client took nothing of its answer for http.request_timeout', {
        subject: principal.subject,
        method: req.method,
        buffered: why.buffered,
        ...(why.reason === 'buffer' ? { limit: streamBuffer.bytes } : { stalled_ms: why.stallMs }),
        remote: req.socket.remoteAddress,
      }),
    );
    const body = req.method === 'POST' ? await readJsonBody(req, res, maxBody) : { ok: true as const, body: undefined };
    if (!body.ok || refuseBatch(res, body.body) || refuseNotJsonRpc(res, body.body)) return;
    if (admitted === 'replies-only' && holdsRequest(body.body) && !limits.admitRequest(req, res, principal)) return;
    const auth = authInfo(verified, resource.resource);
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string' && sid.length) {
      const r = await sessions.route(sid, req, res, body.body, principal, verified.expiresAt);
      if (r === 'unknown') refuse(res, 404, 'Session not found');
      else if (r === 'expired') {
        log('info', 'http request refused: the session reached http.session_max_lifetime', { subject: principal.subject });
        refuse(res, 404, `${ErrorCode.SESSION_EXPIRED}: this MCP session reached its maximum lifetime (http.session_max_lifetime); initialize a new session`);
      }
      else if (r === 'foreign') {
        log('warn', 'http request refused: session belongs to another principal', { subject: principal.subject });
        refuse(res, 403, 'Forbidden: this session belongs to another principal');
      }
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(body.body)) {
      await sessions.open(req, res, body.body, principal);
      return;
    }
    // Anything else without a session: the per-request (2026-07-28) leg, which rejects
    // 2025-era messages that lack a session with a protocol-version error.
    const conns = (auth.extra as { conns: ConnectionSession[] }).conns;
    res.once('close', () => void Promise.all(conns.map((c) => c.close())));
    await modernNode(req, res, body.body);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (dropRefused(connections, req, res)) return;
    const path = (req.url ?? '/').split('?')[0]!;
    if (HEALTH_PATHS.has(path)) {
      void health(path, req, res);
      return;
    }
    if (!checkHostAndOrigin(req, res, hosts)) return;
    // The Origin, if any, passed the check: a browser client may read every /mcp answer.
    if (path === MCP_PATH) allowOrigin(req, res);
    if (closing) {
      refuse(res, 503, `${ErrorCode.UNAVAILABLE}: the server is shutting down; retry shortly (another replica, or this one once restarted)`, { connection: 'close', 'retry-after': '5' });
      return;
    }
    if (serveResourceMetadata(resource, path, req, res)) return;
    for (const [prefix, h] of mounts) {
      if (path === prefix || path.startsWith(prefix + '/')) return h(req, res);
    }
    if (path !== MCP_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    // A CORS preflight carries no token (browsers never send one): answered before authentication.
    if (req.method === 'OPTIONS') return answerPreflight(req, res);
    const counted = req.method === 'POST';
    if (counted) {
      activePosts++;
      res.once('close', () => {
        if (--activePosts === 0) {
          const w = postWaiters;
          postWaiters = [];
          w.forEach((f) => f());
        }
      });
    }
    serveMcp(req, res).catch((e: unknown) => {
      log('error', 'http request failed', { message: (e as Error).message });
      refuse(res, 500, 'Internal error');
    });
  });

  log('info', 'warden serving MCP over Streamable HTTP', { url: `${url}${MCP_PATH}`, issuer: verifier.options.issuer, policy_version: rt.policy().version });

  return {
    url,
    allowsOrigin: (o) => originAllowed(hosts, o),
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((r) => setTimeout(r, opts.shutdownTimeoutMs ?? 30_000).unref());
      const drained = Promise.all([
        inflight === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)),
        activePosts === 0 ? Promise.resolve() : new Promise<void>((r) => postWaiters.push(r)),
      ]);
      await Promise.race([drained, deadline]);
      if (inflight > 0) log('warn', 'shutdown deadline reached with calls still running', { inflight });
      await sessions.closeAll();
      await modern.close().catch(() => undefined);
      server.closeAllConnections();
      await stopped;
      log('info', 'warden http server stopped', { url });
    },
  };
}

/** Whether a POSTed message asks for an answer (a JSON-RPC request), or could: anything but a notification or a response. */
function holdsRequest(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return true;
  const m = body as Record<string, unknown>;
  if (typeof m.method === 'string') return 'id' in m;
  return !('result' in m || 'error' in m);
}

/** What the SDK handlers see of the authentication: never the token itself. */
function authInfo(v: VerifiedToken, resource: string): AuthInfo {
  return {
    token: '[verified bearer token withheld]',
    clientId: v.clientId ?? v.principal.subject,
    scopes: v.scopes,
    expiresAt: v.expiresAt,
    ...(/^https?:\/\//i.test(resource) ? { resource: new URL(resource) } : {}),
    extra: { principal: v.principal, conns: [] as ConnectionSession[] },
  };
}
