/**
 * The security headers every HTTP response Warden writes carries (leaf: imported by the server's
 * listeners and by the UI, which both answer HTTP). Why: the MCP endpoint's refusals (Host,
 * Origin, body size, token) and health answers are read by browsers too (a page that points a
 * frame or a tab at Warden), so none of them may be sniffed into HTML, framed, cached or given a
 * Referer; the UI only loosens the CSP for its own script and stylesheet. The bare replies Node
 * writes to the socket itself (400/408/413/431, for a request it cannot parse or that took too
 * long) carry them too: answerClientErrors below.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** The baseline headers; the CSP allows nothing (no Warden answer but a UI page is a document). */
export const BASELINE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a form
  // POST, and the UI refuses a POST whose Origin is not this server's.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

const ENTRIES = Object.entries(BASELINE_HEADERS);

/** Set the baseline headers on a response (a handler may replace one, e.g. the UI's CSP, before writing). */
export function setBaselineHeaders(res: ServerResponse): void {
  for (const [k, v] of ENTRIES) res.setHeader(k, v);
}

/**
 * `no-cache` in a Cache-Control a route or library writes becomes `no-store`. Why: the MCP SDK
 * answers with `no-cache, no-transform` (event streams), which lets a browser or proxy keep the
 * answer (query results) on disk and only revalidate it. A deliberate lifetime (the public
 * resource metadata's `max-age=300`) is left as written.
 */
function noStore(headers: OutgoingHttpHeaders): void {
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (k.toLowerCase() === 'cache-control' && typeof v === 'string' && /\bno-cache\b/i.test(v) && !/\bno-store\b/i.test(v)) headers[k] = v.replace(/\bno-cache\b/i, 'no-store');
  }
}

/**
 * The response class of Warden's listeners (`createServer({ ServerResponse: WardenResponse })`):
 * the one place the baseline is set, at construction, before any route, guard or library (the
 * MCP SDK, a health probe, a mount) writes. A route's own headers still take precedence for the
 * same name (a UI page's CSP, the resource metadata's cache lifetime), except that `no-cache`
 * is written as `no-store` (noStore above).
 */
export class WardenResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  constructor(req: Request) {
    super(req);
    setBaselineHeaders(this);
  }

  override writeHead(status: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const h = typeof reason === 'string' ? headers : reason;
    if (h && !Array.isArray(h)) noStore(h);
    return typeof reason === 'string' ? super.writeHead(status, reason, headers) : super.writeHead(status, reason);
  }
}

/** Node's own status lines for a request it refused before any route saw it (lib/_http_server.js). */
const BARE_STATUS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};
const BARE_HEADERS = ENTRIES.map(([k, v]) => `${k}: ${v}\r\n`).join('');

/**
 * Answer what Node's HTTP parser refuses (malformed request line or headers, headers over the
 * size limit, headers or body too slow) with Node's own status and no body, as Node's default
 * does, but with the baseline headers: without a 'clientError' listener Node writes a bare
 * `HTTP/1.1 400 Bad Request` with no nosniff, CSP or no-store. Like Node, nothing is written when a
 * response on that socket has already begun (it would corrupt it), and the socket is destroyed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // `_httpMessage`: the socket's in-flight response, the field Node's own handler reads.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent && err.code !== 'ECONNRESET') {
      socket.write(`HTTP/1.1 ${BARE_STATUS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n${BARE_HEADERS}\r\n`);
    }
    socket.destroy(err);
  });
}
