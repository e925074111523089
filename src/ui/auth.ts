/**
 * Reviewer sessions: a random id in an HttpOnly SameSite=Strict cookie, a CSRF token per
 * session, and single-use, short-lived login links for localhost. Nothing is persisted: a
 * restart logs everyone out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../tool-api.js';

/** The session cookie name. */
export const COOKIE = 'warden_ui';

/** One logged-in reviewer. */
export interface UiSession {
  principal: Principal;
  csrf: string;
  expires: number;
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

/** Sessions and login links; why: one place decides who is logged in. */
export class UiAuth {
  private readonly sessions = new Map<string, UiSession>();
  private readonly links = new Map<string, number>();

  constructor(
    private readonly sessionTtlMs: number,
    private readonly linkTtlMs: number,
  ) {}

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

  /** Start a session (ending no later than `notAfterMs`: a token's expiry) and return its cookie value. */
  start(principal: Principal, now = Date.now(), notAfterMs = Infinity): { sid: string; expires: number } {
    this.sweep(now);
    const sid = token();
    const expires = Math.min(now + this.sessionTtlMs, notAfterMs);
    this.sessions.set(digest(sid), { principal, csrf: token(), expires });
    return { sid, expires };
  }

  /** The session of a request, if its cookie names a live one. */
  get(req: IncomingMessage, now = Date.now()): UiSession | null {
    const sid = cookieOf(req, COOKIE);
    if (!sid) return null;
    const s = this.sessions.get(digest(sid));
    if (!s || s.expires <= now) return null;
    return s;
  }

  /** Whether a session (as `get` returned it) is still live: not logged out, not expired. */
  live(s: UiSession, now = Date.now()): boolean {
    if (s.expires <= now) return false;
    for (const v of this.sessions.values()) if (v === s) return true;
    return false;
  }

  /** End the session of a request. */
  end(req: IncomingMessage): void {
    const sid = cookieOf(req, COOKIE);
    if (sid) this.sessions.delete(digest(sid));
  }

  private sweep(now: number): void {
    for (const [k, v] of this.links) if (v <= now) this.links.delete(k);
    for (const [k, v] of this.sessions) if (v.expires <= now) this.sessions.delete(k);
  }
}

/** Read one cookie. */
export function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The Set-Cookie value for a session (Secure when served over https). */
export function sessionCookie(sid: string, secure: boolean, maxAgeS: number): string {
  return `${COOKIE}=${sid}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that clears the session cookie. */
export function clearCookie(secure: boolean): string {
  return `${COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
