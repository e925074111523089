/**
 * CORS for the MCP endpoint, so that a browser MCP client (the MCP Inspector's UI, a web agent)
 * can call /mcp from an origin the Host/Origin policy allows (http-guards.ts hostPolicy: this
 * server's own origins, the audience's, `http.allowed_origins`). The allowed origin is echoed,
 * never `*`, and credentials (cookies) are not invited: /mcp authenticates by the Authorization
 * header only. A request from any other origin never gets here: checkHostAndOrigin refuses it
 * with 403 first, preflight included, without any Access-Control-* header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const METHODS = 'POST, GET, DELETE, OPTIONS';
const ALLOW_HEADERS = 'authorization, dpop, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id';
const EXPOSE_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate, dpop-nonce';
/** How long a browser may reuse a preflight answer (seconds). */
const MAX_AGE_S = '600';

/**
 * Mark the response of a request whose Origin passed the origin check as readable by that origin
 * (a 401 challenge too, so the page can read WWW-Authenticate). Nothing for a request without one.
 */
export function allowOrigin(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('vary', 'Origin');
  if (typeof origin !== 'string' || origin === '') return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
}

/**
 * Answer `OPTIONS /mcp` without a token: 204, with the preflight headers when the request came
 * from a (checked, allowed) origin. Call allowOrigin first.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = { allow: METHODS };
  if (typeof req.headers.origin === 'string' && req.headers.origin !== '') {
    Object.assign(headers, { 'access-control-allow-methods': METHODS, 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': MAX_AGE_S });
  }
  res.writeHead(204, headers).end();
}
