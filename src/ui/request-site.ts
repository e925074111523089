/**
 * Where a UI request comes from, as the browser says (Origin, Fetch Metadata), and what such a
 * request may do. Why one module: SameSite does not separate ports, so a page on another port of
 * this host is same-site with the UI and the browser sends the reviewer's SameSite=Strict cookie
 * with its requests; these checks, not the cookie, keep that page out.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Same-origin POSTs only; why: SameSite ignores ports, so a page on another port of this host
 * sends the reviewer's cookie. The Origin must be one the host serves (scheme, host and port, as
 * `allowsOrigin` says); a browser's Sec-Fetch-Site, when sent, must say same-origin. A POST
 * that carries the session cookie must name its Origin (every browser does on POST; a missing or
 * `null` one is refused); the token login, which carries no cookie yet, may come without one from
 * a non-browser client.
 */
export function sameOrigin(req: IncomingMessage, allowsOrigin: (origin: string) => boolean, cookieAuth: boolean): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return !cookieAuth;
  return origin !== 'null' && allowsOrigin(origin);
}

/**
 * Fetch Metadata resource isolation for every UI request: one the browser marks as coming from
 * another origin (`Sec-Fetch-Site` same-site or cross-site) is served only as a top-level page
 * load (a followed link: `Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`, GET), and never
 * the live stream. Why: a page on another port of this host is same-site, so its `<img>`,
 * `<script>` or no-cors `fetch` of a UI URL carries the reviewer's cookie and needs no Origin:
 * Warden ran it with the reviewer's authority (each `/ui/events` one of the session's 8 live
 * streams, held open by a browser without opaque-response blocking), and the timing or load/error
 * events of a searched list or a session page tell that page what transcripts hold. Requests without Fetch
 * Metadata (non-browser clients, old browsers) pass: the cookie, the CSRF token and the Origin
 * check of POSTs still apply. `Sec-Fetch-Site: none` is the reviewer typing a URL or opening the
 * printed login link.
 */
export function servedToSite(req: IncomingMessage, path: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return true;
  const dest = req.headers['sec-fetch-dest'];
  return req.method === 'GET' && req.headers['sec-fetch-mode'] === 'navigate' && (dest === undefined || dest === 'document') && path !== '/events';
}
