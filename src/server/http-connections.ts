/**
 * A cap on the connections the HTTP listener holds open at once (http.max_connections). Why:
 * every other cap counts requests once they are authenticated; a connection is taken before
 * anything is known of its client, and one that trickles its headers (slowloris) or sends nothing
 * is held until the headers timeout. Nothing bounded their number, so one unauthenticated client
 * could hold sockets (file descriptors) until the process reached its descriptor limit, and then
 * Warden could open no backend connection, no transcript file, and answered nobody.
 *
 * Past the cap a new connection is answered at once, before anything of it is read: a bare
 * `503 Service Unavailable` with the baseline security headers, Retry-After, Connection: close
 * and a JSON-RPC error WARDEN_UNAVAILABLE, then closed; its request (if it sends one) is never
 * served. Refusals are logged once a minute, with the number refused since. Connections already
 * held (keep-alive clients, running calls, open streams) are not touched.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.js';
import { BASELINE_HEADERS } from '../http-headers.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** How often a burst of refusals is logged again. */
const LOG_EVERY_MS = 60_000;

/** The cap of one listener. */
export interface ConnectionCap {
  /** True for a request that arrived on a refused connection (already answered): serve nothing. */
  refused(req: IncomingMessage): boolean;
  /** Connections held (tests, diagnostics). */
  open(): number;
}

/**
 * Cap `server`'s open connections at `max`. Registered before Node's own connection listener
 * runs its parser on the socket, so the refusal is the first (and only) thing written to it.
 */
export function capConnections(server: Server, max: number, log: Log): ConnectionCap {
  let open = 0;
  const refusedSockets = new WeakSet<Socket>();
  let loggedAt = -Infinity;
  let unlogged = 0;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    error: { code: -32000, message: `${ErrorCode.UNAVAILABLE}: this server holds as many open connections as it may (${max}, http.max_connections); retry shortly` },
    id: null,
  });
  const head = ['HTTP/1.1 503 Service Unavailable', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Retry-After: 5', 'Connection: close', ...Object.entries(BASELINE_HEADERS).map(([k, v]) => `${k}: ${v}`)];
  const refusal = `${head.join('\r\n')}\r\n\r\n${body}`;

  server.prependListener('connection', (socket: Socket) => {
    if (open >= max) {
      refusedSockets.add(socket);
      const now = Date.now();
      if (now - loggedAt >= LOG_EVERY_MS) {
        log('warn', 'http connection refused: the server holds as many open connections as it may', { limit: max, remote: socket.remoteAddress, ...(unlogged ? { refused_since_last_logged: unlogged } : {}) });
        loggedAt = now;
        unlogged = 0;
      } else unlogged++;
      socket.on('error', () => undefined);
      socket.end(refusal);
      // A client that does not read its refusal holds nothing for long.
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    open++;
    socket.once('close', () => open--);
  });

  return {
    refused: (req) => refusedSockets.has(req.socket),
    open: () => open,
  };
}

/** Drop a request that arrived on a refused connection; true when dropped. */
export function dropRefused(cap: ConnectionCap, req: IncomingMessage, res: ServerResponse): boolean {
  if (!cap.refused(req)) return false;
  res.destroy();
  return true;
}
