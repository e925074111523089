/**
 * A standalone HTTP server for the reviewer UI (`warden demo --serve`; `serve --http` mounts the same UI on its own listener): the UI
 * mounted under /ui, / redirecting to it, nothing else. Prints nothing itself: the caller
 * prints `loginUrl` (a single-use link, valid for 10 minutes, accepted from localhost only).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApprovalReviewApi } from '../approvals/review-api.js';
import type { Principal } from '../tool-api.js';
import { createUiHandler, type UiHandler, type UiStore } from '../ui/index.js';
import { log as defaultLog } from '../server/log.js';
import { checkHostAndOrigin, hostPolicy, originAllowed, type HostPolicy } from '../server/http-origins.js';
import { dropRefused, type ConnectionCap } from '../server/http-connections.js';
import { createHttpListener, type ListenerLimits } from '../server/http-listener.js';
import { DEFAULT_HTTP_LIMITS, parseDuration } from '../config/schema-parts.js';

/** What the standalone UI needs: the runtime's store and approvals (a Runtime fits). */
export interface StandaloneUiDeps {
  store: UiStore;
  approvals?: ApprovalReviewApi;
  verifyToken?: (token: string) => Promise<{ principal: Principal; expiresAt: number }>;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  localPrincipal?: Principal;
}

/** A running UI server. */
export interface StandaloneUi {
  url: string;
  loginUrl: string;
  ui: UiHandler;
  close(): Promise<void>;
}

/**
 * Mount a UI handler on a Node server: /ui/** to the UI, / to /ui/; why: one helper for every
 * host. Every request first passes the Host and Origin check `serve --http` uses (DNS rebinding,
 * and pages of other origins, including another port of this host, are refused).
 */
export function mountUi(server: Server, ui: UiHandler, hosts: HostPolicy, next?: (req: IncomingMessage, res: ServerResponse) => void, connections?: ConnectionCap): void {
  server.on('request', (req, res) => {
    // A request on a connection over the cap was answered 503 already (http-connections.ts).
    if (connections && dropRefused(connections, req, res)) return;
    if (!checkHostAndOrigin(req, res, hosts)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/ui' || path.startsWith('/ui/')) return ui.handler(req, res);
    if (next) return next(req, res);
    if (path === '/') {
      res.writeHead(303, { Location: '/ui/' }).end();
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
}

/** The caps of `serve --http`'s listener at their defaults (http.max_connections, http.request_timeout). */
const DEFAULT_LIMITS: ListenerLimits = { max_connections: DEFAULT_HTTP_LIMITS.max_connections, request_timeout: parseDuration(DEFAULT_HTTP_LIMITS.request_timeout) };

/**
 * Start the UI alone on host:port (port 0 picks one), on the listener `serve --http` uses
 * (http-listener.ts: the connection cap and timeouts, at their defaults unless `limits` says).
 * UI sessions are capped by the UI itself (ui/auth.ts), as under `serve --http`.
 */
export async function startStandaloneUi(deps: StandaloneUiDeps, opts: { host: string; port: number; limits?: Partial<ListenerLimits> }): Promise<StandaloneUi> {
  const { server, connections } = createHttpListener({ ...DEFAULT_LIMITS, ...opts.limits }, deps.log ?? defaultLog);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  const hosts = hostPolicy(opts.host, port, { allowed_hosts: [], allowed_origins: [] }, '');
  const ui = createUiHandler({
    store: deps.store,
    ...(deps.approvals ? { approvals: deps.approvals } : {}),
    ...(deps.verifyToken ? { verifyToken: deps.verifyToken } : {}),
    ...(deps.localPrincipal ? { localPrincipal: deps.localPrincipal } : {}),
    baseUrl: url,
    allowsOrigin: (o) => originAllowed(hosts, o),
    log: deps.log ?? defaultLog,
  });
  mountUi(server, ui, hosts, undefined, connections);
  return {
    url: `${url}/ui/`,
    loginUrl: ui.loginUrl(),
    ui,
    async close() {
      ui.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
