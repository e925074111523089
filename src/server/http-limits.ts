/**
 * Per-principal caps on what one authenticated identity holds open on the HTTP listener at once:
 * requests in flight (any method but GET: tool calls, tools/list, initialize, pings, unknown
 * methods, and a POST's SSE response while it lasts) and standalone GET streams. Why: sessions
 * are capped and policies limit tool calls, but nothing else bounded one valid token, so one
 * agent could hold hundreds of slow bodies or streams open (sockets, memory, the event loop)
 * and deny the server to every other principal.
 *
 * A slot is taken once the request is authenticated (an unauthenticated request is refused
 * before and never reaches a counter) and given back when its response closes: ended, the
 * client gone mid-body or mid-stream, the server's request timeout, or an error answer. The key
 * is issuer and subject (subjectKey, as the session registry's per-subject cap), so a subject
 * whose tokens vary a claim per login is still one identity. Counters exist only while a
 * principal holds a slot, so their number is bounded by the requests open.
 *
 * Server-wide caps bound the same two counts across all identities (http.max_requests,
 * http.max_streams): many identities, or many valid tokens of distinct subjects, could otherwise
 * hold unbounded requests and streams between them. Checked after an identity's own cap, at the
 * same point; a refusal is 503 WARDEN_UNAVAILABLE with Retry-After. A slot is taken and given back
 * with the identity's, on the same 'close'.
 *
 * Past either request cap a POST may still carry a notification or a response (a cancel, an
 * elicitation answer) in one of a few reply-only slots (REPLY_SLOTS): its body is read, and one
 * that holds a request gets the cap's refusal then.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../tool-api.js';
import { ErrorCode } from '../errors.js';
import { refuse } from './http-guards.js';
import { subjectKey } from './http-sessions.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** What counts against which cap. */
type Kind = 'requests' | 'streams';

interface Held {
  requests: number;
  streams: number;
}

/**
 * POSTs one identity may send past its request cap, each to carry a notification or a response
 * only (REPLY_SLOTS_TOTAL in all). Why: a cancel (`notifications/cancelled`) and the answer to an
 * elicitation are POSTs too, and refused at the cap the client could neither stop the calls that
 * held its slots nor answer the confirmation they waited for.
 */
export const REPLY_SLOTS = 4;
export const REPLY_SLOTS_TOTAL = 64;

/** When a principal's refusals were last logged, and how many were not logged since. */
interface Burst {
  loggedAt: number;
  unlogged: number;
}

/** How often a principal that keeps running into a cap is logged again; why: one line per burst, not per request. */
const LOG_EVERY_MS = 60_000;
/** Retry-After: a request slot frees when any response ends; a stream is held for long. */
const RETRY_AFTER: Record<Kind, string> = { requests: '1', streams: '30' };

/** Key of the server-wide burst in the log bookkeeping (no principal's key is an empty string). */
const SERVER = '';

/** The per-principal and server-wide caps of one listener. */
export interface PrincipalLimits {
  /**
   * Take a slot for this authenticated request, released when `res` closes; false after
   * answering 429 (WARDEN_RATE_LIMITED, Retry-After) when the principal holds its cap, 503
   * (WARDEN_UNAVAILABLE, Retry-After) when all principals together hold the server's, or when
   * the client has already gone (nothing to answer, nothing held).
   */
  admit(req: IncomingMessage, res: ServerResponse, principal: Principal): boolean;
  /**
   * As admit, but a POST over the request caps takes one of the identity's REPLY_SLOTS instead
   * ('replies-only': the caller reads the body and, if it holds a request, calls refuseRequest).
   */
  admitPost(req: IncomingMessage, res: ServerResponse, principal: Principal): boolean | 'replies-only';
  /**
   * A 'replies-only' POST that turned out to hold a request: it takes a request slot if one has
   * come free meanwhile (true), or gets the cap's refusal (false, answered).
   */
  admitRequest(req: IncomingMessage, res: ServerResponse, principal: Principal): boolean;
  /** Slots held (tests, diagnostics): in all, or by one principal. */
  held(principal?: Principal): Held;
}

/**
 * Create the caps: at most `maxRequests` requests in flight and `maxStreams` GET streams per issuer
 * and subject, and `total.requests` and `total.streams` in all (default: unbounded).
 */
export function createPrincipalLimits(opts: { maxRequests: number; maxStreams: number; total?: Held; log: Log }): PrincipalLimits {
  const counts = new Map<string, Held>();
  const all: Held = { requests: 0, streams: 0 };
  const server: Record<Kind, number> = { requests: opts.total?.requests ?? Infinity, streams: opts.total?.streams ?? Infinity };
  // An entry goes once its principal holds nothing and its log window has passed, or in the sweep
  // below: so it holds at most the identities refused within the last window.
  const bursts = new Map<string, Burst>();
  const limit: Record<Kind, number> = { requests: opts.maxRequests, streams: opts.maxStreams };

  const refused = (key: string, kind: Kind, principal: Principal, req: IncomingMessage) => {
    const now = Date.now();
    const whole = key === SERVER;
    const b = bursts.get(key);
    if (b && now - b.loggedAt < LOG_EVERY_MS) {
      b.unlogged++;
      return;
    }
    if (bursts.size >= 1024) for (const [k, v] of bursts) if (now - v.loggedAt >= LOG_EVERY_MS) bursts.delete(k);
    // Never the token: the subject and issuer name the principal.
    opts.log('warn', `http ${kind === 'requests' ? 'request' : 'stream'} refused: ${whole ? 'the server' : 'the principal'} holds as many open as it may`, {
      subject: principal.subject,
      issuer: typeof principal.claims.iss === 'string' ? principal.claims.iss : undefined,
      limit: whole ? server[kind] : limit[kind],
      kind,
      remote: req.socket.remoteAddress,
      ...(b?.unlogged ? { refused_since_last_logged: b.unlogged } : {}),
    });
    bursts.set(key, { loggedAt: now, unlogged: 0 });
  };

  const forget = (key: string) => {
    counts.delete(key);
    const b = bursts.get(key);
    if (b && Date.now() - b.loggedAt >= LOG_EVERY_MS) bursts.delete(key);
  };

  // Reply-only slots in use, per identity key and in all (an entry only while one is held).
  const replies = new Map<string, number>();
  let allReplies = 0;

  /** Which cap a request of `kind` would run into, if any: the identity's (429) first, then the server's (503). */
  const full = (key: string, kind: Kind): 'principal' | 'server' | null => {
    if ((counts.get(key)?.[kind] ?? 0) >= limit[kind]) return 'principal';
    return all[kind] >= server[kind] ? 'server' : null;
  };

  const refuseAt = (which: 'principal' | 'server', key: string, kind: Kind, principal: Principal, req: IncomingMessage, res: ServerResponse) => {
    if (which === 'principal') {
      refused(key, kind, principal, req);
      const what = kind === 'requests' ? `requests in flight (${limit.requests}, http.max_requests_per_principal)` : `open GET streams (${limit.streams}, http.max_streams_per_principal)`;
      // Connection: close, so that a refused request's unread (perhaps never-ending) body holds no socket.
      refuse(res, 429, `${ErrorCode.RATE_LIMITED}: this identity (issuer and subject) holds as many ${what} as it may; retry when one has ended`, { 'retry-after': RETRY_AFTER[kind], connection: 'close' });
      return;
    }
    refused(SERVER, kind, principal, req);
    const what = kind === 'requests' ? `requests in flight (${server.requests}, http.max_requests)` : `open GET streams (${server.streams}, http.max_streams)`;
    refuse(res, 503, `${ErrorCode.UNAVAILABLE}: this server holds as many ${what} as it may, across all identities; retry when one has ended`, { 'retry-after': RETRY_AFTER[kind], connection: 'close' });
  };

  const take = (key: string, kind: Kind, res: ServerResponse) => {
    const held = counts.get(key) ?? { requests: 0, streams: 0 };
    held[kind]++;
    all[kind]++;
    counts.set(key, held);
    let released = false;
    // 'close' fires once the response has ended or its connection is gone (abort, timeout, error).
    res.once('close', () => {
      if (released) return;
      released = true;
      held[kind]--;
      all[kind]--;
      if (held.requests === 0 && held.streams === 0 && counts.get(key) === held) forget(key);
    });
  };

  const admit = (req: IncomingMessage, res: ServerResponse, principal: Principal, spare: boolean): boolean | 'replies-only' => {
    // The client left during authentication: its 'close' has fired, a slot would never be released.
    if (res.closed || res.destroyed) return false;
    const key = subjectKey(principal);
    const kind: Kind = req.method === 'GET' ? 'streams' : 'requests';
    const which = full(key, kind);
    if (which === null) {
      take(key, kind, res);
      return true;
    }
    const mine = replies.get(key) ?? 0;
    if (!spare || kind !== 'requests' || mine >= REPLY_SLOTS || allReplies >= REPLY_SLOTS_TOTAL) {
      refuseAt(which, key, kind, principal, req, res);
      return false;
    }
    replies.set(key, mine + 1);
    allReplies++;
    res.once('close', () => {
      allReplies--;
      const n = (replies.get(key) ?? 1) - 1;
      if (n > 0) replies.set(key, n);
      else replies.delete(key);
    });
    return 'replies-only';
  };

  return {
    admit: (req, res, principal) => admit(req, res, principal, false) === true,
    admitPost: (req, res, principal) => admit(req, res, principal, true),
    admitRequest(req, res, principal) {
      if (res.closed || res.destroyed) return false;
      const key = subjectKey(principal);
      const which = full(key, 'requests');
      if (which === null) {
        take(key, 'requests', res);
        return true;
      }
      refuseAt(which, key, 'requests', principal, req, res);
      return false;
    },
    held(principal) {
      if (principal) return { ...(counts.get(subjectKey(principal)) ?? { requests: 0, streams: 0 }) };
      return { ...all };
    },
  };
}
