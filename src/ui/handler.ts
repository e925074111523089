/**
 * The reviewer web UI as one Node request handler, mounted under /ui. Server-rendered pages,
 * strict CSP (no inline script or style), HttpOnly SameSite=Strict session cookie, CSRF token
 * and this server's Origin (scheme, host and port) on every POST, other origins' subresource
 * requests refused (Fetch Metadata, request-site.ts), live updates over Server-Sent Events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ErrorCode, WardenError } from '../errors.js';
import { setBaselineHeaders } from '../http-headers.js';
import type { Principal } from '../tool-api.js';
import { CSS, JS } from './assets.js';
import { clearCookie, isLoopback, sameSecret, sessionCookie, UiAuth, type UiSession } from './auth.js';
import { approvalsBody, approvalsQueue, decidedLine } from './approvals-page.js';
import type { ApprovalView } from '../approvals/review-api.js';
import { message, page } from './layout.js';
import { loginPage } from './login-page.js';
import { sessionBody, timeline } from './session-page.js';
import { argsBody, resultBody } from './call-pages.js';
import { listQuery, sessionsBody, sessionsTable } from './sessions-page.js';
import { LiveFeed } from './live.js';
import { ReadGate } from './read-gate.js';
import { sameOrigin, servedToSite } from './request-site.js';
import type { UiDeps, UiHandler } from './types.js';

/** The Content-Security-Policy of every UI response; why: transcript text can never run as script. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const MAX_BODY = 16 * 1024;
const idParam = z.string().min(1).max(200);
const decisionForm = z.object({ csrf: z.string().min(1).max(100), comment: z.string().max(500).optional(), decision: z.string().optional() }).strip();
const loginForm = z.object({ token: z.string().trim().min(1).max(16 * 1024) }).strip();
// The approvals page's requester filter: a subject as the CLI's `--requester` takes it, bounded,
// with no control characters (no subject a token or stdio gives carries one); blank: every requester.
const requesterQuery = z
  .string()
  .max(256, 'a requester is at most 256 characters')
  .regex(/^[^\p{Cc}]*$/u, 'a requester holds no control characters')
  .transform((v) => v.trim() || undefined)
  .optional();
const pageQuery = z.object({ after: z.coerce.number().int().min(0).optional(), page: z.coerce.number().int().min(1).max(1_000_000).optional(), fragment: z.string().optional() }).strip();

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// The baseline every Warden response carries (set again here: the handler may be mounted on a
// server that is not Warden's own), with the UI's page CSP in place of the baseline's.
function headers(res: ServerResponse, type: string): void {
  setBaselineHeaders(res);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Security-Policy', CSP);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void {
  headers(res, type);
  res.statusCode = status;
  res.end(body);
}

function redirect(res: ServerResponse, to: string, cookie?: string): void {
  headers(res, 'text/plain; charset=utf-8');
  if (cookie) res.setHeader('Set-Cookie', cookie);
  res.statusCode = 303;
  res.setHeader('Location', to);
  res.end();
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'expected a form post');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'form too large');
    chunks.push(c as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function parse<T extends z.ZodType>(schema: T, v: unknown): z.infer<T> {
  const r = schema.safeParse(v);
  if (!r.success) throw new HttpError(400, 'invalid request: ' + r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return r.data;
}

/** A decoded path segment; why: decodeURIComponent throws on a malformed escape (`%E0%A4%A`), which was a 500. */
function pathSegment(v: string | undefined): string {
  try {
    return decodeURIComponent(v ?? '');
  } catch {
    throw new HttpError(400, 'invalid request: the path holds a malformed percent-escape');
  }
}

/** Build the UI handler; why: `serve --http` and `demo --serve` mount the same pages. */
export function createUiHandler(deps: UiDeps): UiHandler {
  const sessionTtl = deps.sessionTtlMs ?? 8 * 3600_000;
  const auth = new UiAuth(sessionTtl, deps.loginLinkTtlMs ?? 10 * 60_000);
  const secure = deps.secureCookies ?? deps.baseUrl.startsWith('https:');
  const base = deps.baseUrl.replace(/\/+$/, '');
  const local: Principal = deps.localPrincipal ?? { subject: 'local-reviewer', groups: [], claims: {}, authMethod: 'local' };
  const live = new LiveFeed(deps, deps.pollMs ?? 1000);
  const reads = new ReadGate();
  const withApprovals = { approvals: deps.approvals !== undefined };
  const noLink = deps.localLogin === 'refuse';

  function login(req: IncomingMessage, res: ServerResponse, p: Principal, notAfterMs = Infinity): void {
    const now = Date.now();
    // A new sign-in replaces the session this browser held: it ends on the server too, not only in
    // the browser's cookie jar (a copy of the old cookie would otherwise stay good for hours).
    auth.end(req);
    let started: { sid: string; expires: number };
    try {
      started = auth.start(p, now, notAfterMs);
    } catch (e) {
      // Every session taken (by other identities: each holds at most its own cap): coded, retried later.
      if (e instanceof WardenError && e.code === ErrorCode.UNAVAILABLE) {
        deps.log('warn', 'UI sign-in refused: the UI holds as many sessions as it may', { subject: p.subject });
        res.setHeader('Retry-After', '60');
        throw new HttpError(503, `${e.code}: ${e.message}`);
      }
      throw e;
    }
    const { sid, expires } = started;
    deps.log('info', 'reviewer signed in to the UI', { subject: p.subject, method: p.authMethod });
    redirect(res, '/ui/', sessionCookie(sid, secure, Math.max(0, Math.floor((expires - now) / 1000))));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const path = url.pathname.replace(/^\/ui(?=\/|$)/, '') || '/';
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    // Another origin's subresource (a page on another port of this host sends the cookie): refused.
    if (!servedToSite(req, path)) throw new HttpError(403, 'cross-site request refused: open the UI from its own pages or a link');
    if (method === 'GET' && path === '/static/app.css') return send(res, 200, CSS, 'text/css; charset=utf-8');
    if (method === 'GET' && path === '/static/app.js') return send(res, 200, JS, 'text/javascript; charset=utf-8');
    if (path === '/login') {
      if (method === 'POST') {
        if (!sameOrigin(req, (o) => deps.allowsOrigin(o), false)) throw new HttpError(403, 'cross-site request refused');
        if (!deps.verifyToken) return send(res, 401, loginPage({ oidc: false, error: 'OIDC sign-in is not configured' }));
        const { token } = parse(loginForm, await readForm(req));
        let v: { principal: Principal; expiresAt: number };
        try {
          v = await deps.verifyToken(token);
        } catch (e) {
          // A valid token without the required scope is a 403, as on the MCP endpoint; so is a
          // valid token of a principal who reviews nothing; anything else a 401.
          if (e instanceof WardenError && e.details.reason === 'insufficient_scope') {
            deps.log('warn', 'UI sign-in refused: insufficient scope', { missing: e.details.missing });
            return send(res, 403, loginPage({ oidc: true, error: 'The token lacks the scope this server requires.' }));
          }
          if (e instanceof WardenError && e.details.reason === 'not_a_reviewer') {
            deps.log('warn', 'UI sign-in refused: not a reviewer', { subject: e.details.subject });
            return send(res, 403, loginPage({ oidc: true, error: 'This identity is not a reviewer here.' }));
          }
          return send(res, 401, loginPage({ oidc: true, error: 'The token was not accepted.' }));
        }
        return login(req, res, v.principal, v.expiresAt * 1000);
      }
      const t = url.searchParams.get('token');
      if (t !== null && noLink) {
        deps.log('warn', 'UI one-time login link refused: local login is turned off');
        return send(res, 403, loginPage({ oidc: !!deps.verifyToken, noLink, error: `${ErrorCode.UNAUTHENTICATED}: one-time login links are turned off here (ui.local_login: refuse, or approvals.cli_as: refuse); sign in with a token` }));
      }
      if (t !== null) {
        if (isLoopback(req) && auth.useLink(t)) return login(req, res, local);
        return send(res, 401, loginPage({ oidc: !!deps.verifyToken, error: 'This login link is invalid, used or expired.' }));
      }
      return send(res, 200, loginPage({ oidc: !!deps.verifyToken, noLink }));
    }
    const s = auth.get(req);
    if (s && deps.stillReviewer && !deps.stillReviewer(s.principal)) {
      auth.end(req);
      deps.log('warn', 'UI session ended: no longer a reviewer under the current policy', { subject: s.principal.subject });
      res.setHeader('Set-Cookie', clearCookie(secure));
      return send(res, 403, loginPage({ oidc: !!deps.verifyToken, error: 'This identity no longer reviews anything here; the session has ended.' }));
    }
    if (!s) {
      if (method === 'GET' && !query.fragment && path !== '/events') return redirect(res, '/ui/login');
      throw new HttpError(401, 'sign in first');
    }
    if (method === 'POST') return post(req, res, s, path);
    if (method !== 'GET') throw new HttpError(405, 'method not allowed');
    if (path === '/events') return get(req, res, s, path, query);
    // Every page and fragment reads the transcripts: one at a time, capped (read-gate.ts).
    try {
      return await reads.run(JSON.stringify([s.principal.authMethod, s.principal.claims.iss ?? '', s.principal.subject]), () => get(req, res, s, path, query));
    } catch (e) {
      if (!(e instanceof WardenError && e.code === ErrorCode.RATE_LIMITED)) throw e;
      deps.log('warn', 'UI read refused: too many transcript reads in progress', { subject: s.principal.subject });
      res.setHeader('Retry-After', '1');
      throw new HttpError(429, `${e.code}: ${e.message}`);
    }
  }

  async function post(req: IncomingMessage, res: ServerResponse, s: UiSession, path: string): Promise<void> {
    if (!sameOrigin(req, (o) => deps.allowsOrigin(o), true)) throw new HttpError(403, 'cross-origin request refused: this form must be posted from this server\'s own pages');
    const form = parse(decisionForm, await readForm(req));
    if (!sameSecret(form.csrf, s.csrf)) throw new HttpError(403, 'invalid CSRF token; reload the page');
    if (path === '/logout') {
      auth.end(req);
      return redirect(res, '/ui/login', clearCookie(secure));
    }
    const m = /^\/approvals\/([^/]+)\/(approve|deny)$/.exec(path);
    if (!m || !deps.approvals) throw new HttpError(404, 'not found');
    const id = parse(idParam, pathSegment(m[1]));
    const comment = form.comment?.trim() || undefined;
    let view: ApprovalView;
    try {
      view = m[2] === 'approve' ? await deps.approvals.approve(id, s.principal, comment) : await deps.approvals.deny(id, s.principal, comment);
    } catch (e) {
      if (e instanceof WardenError) throw new HttpError(403, `${e.code}: ${e.message}`);
      throw e;
    }
    deps.log('info', 'approval decided in the UI', { approval: id, decision: m[2], reviewer: s.principal.subject });
    live.poke();
    // The confirmation is this decision's, kept in this session for the next approvals page: the
    // redirect carries no claim of its own that a link could forge.
    s.decided = decidedLine(view, m[2] === 'approve' ? 'approve' : 'deny');
    return redirect(res, '/ui/approvals');
  }

  async function get(req: IncomingMessage, res: ServerResponse, s: UiSession, path: string, query: Record<string, string>): Promise<void> {
    if (path === '/events') {
      // The stream ends when the session does (logout, expiry, no longer a reviewer): checked every tick.
      const owner = { key: s, alive: () => auth.live(s) && (!deps.stillReviewer || deps.stillReviewer(s.principal)) };
      if (!live.subscribe(req, res, owner, (r) => headers(r, 'text/event-stream; charset=utf-8'))) throw new HttpError(429, 'too many live-update streams open; close some tabs');
      return;
    }
    if (path === '/' || path === '') {
      const q = parse(listQuery, query);
      if (q.fragment) return send(res, 200, (await sessionsTable(deps.store, q)).value);
      return send(res, 200, page('Sessions', s, await sessionsBody(deps.store, q), withApprovals));
    }
    const pq = parse(pageQuery, { after: query.after, page: query.page, fragment: query.fragment });
    let m = /^\/sessions\/([^/]+)$/.exec(path);
    if (m) {
      const session = await deps.store.sessionInfo(parse(idParam, pathSegment(m[1])));
      if (!session) throw new HttpError(404, 'no such session');
      if (pq.fragment) return send(res, 200, (await timeline(deps.store, session, pq.after ?? 0)).value);
      return send(res, 200, page(`Session ${session.id}`, s, await sessionBody(deps.store, session, pq.after ?? 0), withApprovals));
    }
    // A call's full result or complete arguments: the same session checks as the session page.
    m = /^\/calls\/([^/]+)\/(result|args)$/.exec(path);
    if (m) {
      const c = await deps.store.getCall(parse(idParam, pathSegment(m[1])));
      if (!c) throw new HttpError(404, 'no such call');
      const body = m[2] === 'args' ? argsBody(c, pq.page ?? 1) : resultBody(c, pq.page ?? 1);
      return send(res, 200, page(m[2] === 'args' ? 'Arguments' : 'Result', s, body, withApprovals));
    }
    if (path === '/approvals' && deps.approvals) {
      const requester = parse(requesterQuery, query.requester);
      // One request alone (`?id=ID`): where a call too long for a queue card is drawn whole and decided.
      const only = query.id === undefined ? undefined : parse(idParam, query.id);
      if (pq.fragment) return send(res, 200, (await approvalsQueue(deps.approvals, s.csrf, s.principal, requester, only)).value);
      // Said once: taken from the session before the page renders.
      const decided = s.decided;
      delete s.decided;
      return send(res, 200, page('Approvals', s, await approvalsBody(deps.approvals, s.csrf, s.principal, decided, requester, only), withApprovals));
    }
    throw new HttpError(404, 'not found');
  }

  return {
    handler(req, res) {
      route(req, res).catch((e: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const status = e instanceof HttpError ? e.status : e instanceof WardenError && e.code === ErrorCode.INVALID_INPUT ? 400 : 500;
        const text = e instanceof HttpError || status === 400 ? (e as Error).message : 'internal error';
        if (status === 500) deps.log('error', 'ui request failed', { message: (e as Error)?.message });
        const s = auth.get(req);
        send(res, status, page('Error', s, message(status === 404 ? 'Not found' : 'Request refused', text), withApprovals));
      });
    },
    loginUrl() {
      if (noLink) throw new WardenError(ErrorCode.UNAUTHENTICATED, 'one-time login links are turned off (ui.local_login: refuse, or approvals.cli_as: refuse)');
      return `${base}/ui/login?token=${auth.newLink()}`;
    },
    close() {
      live.close();
    },
  };
}
