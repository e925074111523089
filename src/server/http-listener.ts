/**
 * The HTTP listener every Warden server binds: `serve --http` (MCP and the mounted reviewer UI)
 * and `demo --serve` (the reviewer UI alone). Why one: the demo's listener was a bare
 * createServer, with none of the caps `serve --http` got (open connections, header and request
 * timeouts), so one client could hold any number of its sockets.
 */
import { createServer, type Server } from 'node:http';
import { answerClientErrors, WardenResponse } from '../http-headers.js';
import { capConnections, type ConnectionCap } from './http-connections.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** The `http:` settings a listener takes (warden.yaml; DEFAULT_HTTP_LIMITS where there is none). */
export interface ListenerLimits {
  /** ms a client may take to send a whole request. */
  request_timeout: number;
  max_connections: number;
}

/**
 * A server whose responses carry the baseline security headers (Node's own 400/408/431 too),
 * whose open connections are capped before anything of them is read (http-connections.ts: the
 * caller drops requests of refused connections with dropRefused), and whose slow or stalled
 * clients cannot hold sockets: bounded header and request times, idle keep-alive. Node enforces
 * the first two only when it checks its connections, so it checks four times per headers timeout
 * (every 2.5 s at the default 10 s): at Node's 30 s a trickled connection was held up to 40 s.
 */
export function createHttpListener(limits: ListenerLimits, log: Log): { server: Server; connections: ConnectionCap } {
  const headersTimeout = Math.min(10_000, limits.request_timeout);
  const server = createServer({
    ServerResponse: WardenResponse,
    headersTimeout,
    requestTimeout: limits.request_timeout,
    connectionsCheckingInterval: Math.max(250, Math.floor(headersTimeout / 4)),
    keepAliveTimeout: 5_000,
  });
  answerClientErrors(server);
  const connections = capConnections(server, limits.max_connections, log);
  return { server, connections };
}
