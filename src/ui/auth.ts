/**
 * Reviewer sessions: a random id in an HttpOnly SameSite=Strict cookie, a CSRF token per
 * session, and single-use, short-lived login links for localhost. Nothing is persisted: a
 * restart logs everyone out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../tool-api.js';
import { ErrorCode, WardenError } from '../errors.js';

/** The session cookie name. */
export const COOKIE = 'warden_ui';

/** One logged-in reviewer. */
export interface UiSession {
  principal: Principal;
  csrf: string;
  expires: number;
  /**
   * What this reviewer just decided, said once by the next approvals page (and then dropped).
   * Why in the session, not the URL: `?done=approved` was a claim anyone could put in a link.
   */
  decided?: string;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Headers a reverse proxy adds: their presence means the peer address is the proxy's, not the client's. */
const FORWARDED = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip'] as const;

/** A Host header naming this machine: localhost, 127.0.0.0/8 or [::1], with an optional port. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * Whether a request comes from this machine; why: one-time links are for localhost only. Behind
 * a reverse proxy on the same host (the TLS setup `serve --http` supports) every client's socket
 * is 127.0.0.1, and a link that leaked from the startup log would sign in anyone who reaches the
 * proxy: so the request must also carry no forwarding header and name a loopback Host, as the
 * printed link does.
 */
export function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  if (!(a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'))) return false;
  if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return false;
  return FORWARDED.every((h) => req.headers[h] === undefined);
}

/** Equal strings in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * UI sessions one identity (auth method, issuer, subject) may hold: a sign-in past it ends that
 * identity's oldest. Why: each sign-in made a session kept for its whole term (8 h), so one
 * reviewer's script signing in without sending its cookie back grew memory without bound.
 */
export const MAX_UI_SESSIONS_PER_IDENTITY = 16;
/** UI sessions in all (default); when all are taken a new identity's sign-in is refused (WARDEN_UNAVAILABLE). */
export const MAX_UI_SESSIONS = 10_000;

/** The identity a UI session counts against. */
function identityOf(p: Principal): string {
  return JSON.stringify([p.authMethod, typeof p.claims.iss === 'string' ? p.claims.iss : '', p.subject]);
}

/** Sessions and login links; why: one place decides who is logged in. */
export class UiAuth {
  private readonly sessions = new Map<string, UiSession>();
  private readonly links = new Map<string, number>();
  /** Each session's key in `sessions`, so that ending or checking one is not a scan of all. */
  private readonly keys = new WeakMap<UiSession, string>();
  /** Each session's identity (identityOf), computed once at sign-in. */
  private readonly owners = new WeakMap<UiSession, string>();

  constructor(
    private readonly sessionTtlMs: number,
    private readonly linkTtlMs: number,
    private readonly maxSessions = MAX_UI_SESSIONS,
  ) {}

  /** Sessions held (tests, diagnostics). */
  size(): number {
    return this.sessions.size;
  }

  /** A new one-time login token (stored hashed). */
  newLink(now = Date.now()): string {
    this.sweep(now);
    const t = token();
    this.links.set(digest(t), now + this.linkTtlMs);
    return t;
  }

  /** Consume a login token: true once, within its lifetime. */
  useLink(t: string, now = Date.now()): boolean {
    const k = digest(t);
    const exp = this.links.get(k);
    this.links.delete(k);
    return exp !== undefined && exp > now;
  }

  /**
   * Start a session (ending no later than `notAfterMs`: a token's expiry) and return its cookie
   * value. Past MAX_UI_SESSIONS_PER_IDENTITY the identity's oldest session ends; when all `maxSessions`
   * are taken by others, throws WARDEN_UNAVAILABLE (never ends another identity's session).
   */
  start(principal: Principal, now = Date.now(), notAfterMs = Infinity): { sid: string; expires: number } {
    this.sweep(now);
    const who = identityOf(principal);
    // Oldest first: a Map iterates in insertion order.
    const own = [...this.sessions].filter(([, v]) => this.owners.get(v) === who);
    if (own.length >= MAX_UI_SESSIONS_PER_IDENTITY) this.sessions.delete(own[0]![0]);
    else if (this.sessions.size >= this.maxSessions) {
      throw new WardenError(ErrorCode.UNAVAILABLE, `the reviewer UI holds as many sessions as it may (${this.maxSessions}); retry later`);
    }
    const sid = token();
    const expires = Math.min(now + this.sessionTtlMs, notAfterMs);
    const s: UiSession = { principal, csrf: token(), expires };
    const key = digest(sid);
    this.sessions.set(key, s);
    this.keys.set(s, key);
    this.owners.set(s, who);
    return { sid, expires };
  }

  /**
   * The session of a request: the one live session its cookies name. Why every value and not the
   * first: cookies do not separate ports, so a page on another port of this host can set
   * `warden_ui` with a longer Path (`/ui/sessions`), which the browser sends first; reading the
   * first value signed the reviewer out of those pages for good (signing in again did not help).
   * Two live sessions in one request (someone's own session tossed in beside the reviewer's) are
   * none: Warden does not guess on whose behalf a request acts.
   */
  get(req: IncomingMessage, now = Date.now()): UiSession | null {
    let found: UiSession | null = null;
    for (const sid of cookiesOf(req, COOKIE)) {
      const s = this.sessions.get(digest(sid));
      if (!s || s.expires <= now || s === found) continue;
      if (found) return null;
      found = s;
    }
    return found;
  }

  /** Whether a session (as `get` returned it) is still live: not logged out, not expired. */
  live(s: UiSession, now = Date.now()): boolean {
    if (s.expires <= now) return false;
    const key = this.keys.get(s);
    return key !== undefined && this.sessions.get(key) === s;
  }

  /** End the session of a request (the one `get` returns). */
  end(req: IncomingMessage): void {
    const s = this.get(req);
    const key = s ? this.keys.get(s) : undefined;
    if (key !== undefined && this.sessions.get(key) === s) this.sessions.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, v] of this.links) if (v <= now) this.links.delete(k);
    for (const [k, v] of this.sessions) if (v.expires <= now) this.sessions.delete(k);
  }
}

/** Every value of one cookie, in the order sent (a browser may send several: one per Path). */
export function cookiesOf(req: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** The Set-Cookie value for a session (Secure when served over https). */
export function sessionCookie(sid: string, secure: boolean, maxAgeS: number): string {
  return `${COOKIE}=${sid}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that clears the session cookie. */
export function clearCookie(secure: boolean): string {
  return `${COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
