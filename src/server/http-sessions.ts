/**
 * Stateful (2025-11-25) MCP sessions over HTTP, each bound to the principal that opened it.
 * A session id is a capability only together with a token of the same principal: presented with
 * another principal's token it is refused (403), so a leaked or guessed id cannot be hijacked.
 * "The same principal" is everything a policy decision reads: the session's tool calls are decided
 * for the principal that opened it, so a token that differs in groups or claims is another one.
 * Caps: per principal, per issuer and subject (however its claims vary), and in all.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { Principal } from '../tool-api.js';
import { canonicalJson } from '../recorder/canonical-json.js';
import { claimValues, readsAsNames } from '../policy/who.js';
import { actorLinks, actorNamesForDeny } from '../policy/actors.js';
import { ErrorCode } from '../errors.js';
import { endAtExpiry } from './http-expiry.js';
import { refuse } from './http-guards.js';
import { trackRequestIds, type RequestIds } from './http-request-ids.js';
import { createConnectionServer, type ConnectionSession, type ServeDeps } from './mcp-server.js';

/** One live session. */
interface HttpSession {
  transport: NodeStreamableHTTPServerTransport;
  conn: ConnectionSession;
  /** JSON-RPC request ids in flight (http-request-ids.ts). */
  ids: RequestIds;
  owner: string;
  /** subjectKey of the owner. */
  subject: string;
  lastSeen: number;
  /** When its initialize registered it (ms); it ends at `opened + maxLifetimeMs`. */
  opened: number;
}

// The verifier hands out the same principal object for a token it has seen (its verified-token
// cache), so a session's requests hash it once, not once per request.
const fingerprints = new WeakMap<Principal, string>();

/**
 * Who may use a session: issuer, subject, groups and claims, since `who.claims` rules decide on
 * a principal's top-level claims (strings, numbers, lists of them) (policy/engine.ts whoMatches; a review found a
 * CI job of the same subject and groups but another repository running calls under the grant of
 * the job that opened the session), and the actor chain (`act`) as `who:` reads it (policy/actors.ts:
 * a token of agent-x acting for alice must not ride a session alice opened acting directly, nor
 * one agent-y opened for her). Per-token claims (exp, jti, ...) are not on the principal
 * (identity/claims.ts), so a refreshed token keeps the session; group order does not matter.
 */
export function principalFingerprint(p: Principal): string {
  let f = fingerprints.get(p);
  if (f === undefined) {
    const iss = typeof p.claims.iss === 'string' ? p.claims.iss : '';
    // Every claim value a rule can judge (policy/who.ts claimValues: strings, numbers, lists), a
    // string kept apart from the same value in a list or as a number: an allow's `claims:` matches
    // a string only, so `repository: [acme/shop]` (no grant) must not ride a session opened with
    // `repository: acme/shop` (a red-team pass ran a call under the grant that way).
    // Anything else whole (an object, a list holding one): a deny reads a nested claim by a dotted
    // path (who.ts claimForDeny) and matches a value it cannot read as names, so a token with
    // `roles: [{name: contractor}]` must not ride a session opened with `roles: []`.
    const claims = Object.fromEntries(Object.entries(p.claims).flatMap(([k, v]) => {
      const key = claimKey(v);
      return key ? [[k, key]] : [];
    }));
    const actors = [actorLinks(p.claims), actorNamesForDeny(p.claims)];
    f = createHash('sha256').update(canonicalJson([p.authMethod, iss, p.subject, [...new Set(p.groups)].sort(), claims, actors])).digest('base64url');
    fingerprints.set(p, f);
  }
  return f;
}

/** How a claim counts for the session owner; null for one holding no value (absent, null, an empty list: no rule tells them apart). */
function claimKey(v: unknown): string[] | null {
  if (typeof v === 'string') return ['string', v];
  if (!readsAsNames(v)) return ['whole', canonicalJson(v)];
  const values = claimValues(v).sort();
  return values.length ? ['values', ...values] : null;
}

/**
 * Issuer and subject, the key of the per-subject cap. Why: the owner fingerprint holds every claim,
 * so a subject whose IdP varies a claim per login (Keycloak `session_state`, a GitHub Actions
 * `run_id`) is a new principal at each login, and the per-principal cap alone would let it hold
 * any number of sessions (a red-team pass filled the server-wide cap that way, 100 x 100).
 */
export function subjectKey(p: Principal): string {
  return JSON.stringify([p.authMethod, typeof p.claims.iss === 'string' ? p.claims.iss : '', p.subject]);
}

function refuseOpen(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Retry-After': '60' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** The registry of stateful sessions. */
export interface SessionRegistry {
  /** Open a session for an `initialize` request and answer it. */
  open(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void>;
  /**
   * Serve a request that names a session; 'unknown' and 'foreign' are answered by the caller.
   * A GET (the session's SSE stream) is ended at `expiresAt` (epoch seconds), its token's exp.
   */
  route(id: string, req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal, expiresAt: number): Promise<'ok' | 'unknown' | 'foreign' | 'expired'>;
  size(): number;
  closeAll(): Promise<void>;
}

/**
 * Create the registry; idle sessions are closed after `idleMs`, every session `maxLifetimeMs`
 * after it opened, however busy (http.session_max_lifetime; a request then gets 'expired'). At most `perPrincipal` sessions
 * per principal: opening one more closes that principal's own least recently used session. At
 * most `perSubject` (default: `perPrincipal`) per issuer and subject, whatever other claims its
 * tokens carry: one more is refused (429 WARDEN_RATE_LIMITED), nothing is closed for it. At
 * most `max` in all: when full, a new session is refused (503 WARDEN_UNAVAILABLE, Retry-After), never made by closing another
 * principal's (a review found one principal evicting everyone by opening 10,000 sessions).
 * Opens still initializing count too, so a burst of concurrent initializes cannot overshoot.
 */
/** How many sessions closed at their lifetime are remembered for a late request (createSessionRegistry). */
const EXPIRED_KEPT = 10_000;

export function createSessionRegistry(deps: ServeDeps, opts: { maxBodyBytes: number; idleMs?: number; maxLifetimeMs?: number; max?: number; perPrincipal?: number; perSubject?: number }): SessionRegistry {
  const sessions = new Map<string, HttpSession>();
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const maxLifetimeMs = opts.maxLifetimeMs ?? 12 * 3_600_000;
  const expired = (s: HttpSession, now: number) => now - s.opened >= maxLifetimeMs;
  const max = opts.max ?? 10_000;
  const perPrincipal = opts.perPrincipal ?? 100;
  const perSubject = opts.perSubject ?? perPrincipal;
  // Opens between their check and their registration (subject keys; a subject may hold several).
  const opening: string[] = [];

  // Sessions closed at their lifetime, by id with their owner's fingerprint, so that a late
  // request of the owner is told WARDEN_SESSION_EXPIRED (initialize again) whether or not the
  // sweep closed the session first, not "Session not found". Each kept for idleMs, at most
  // EXPIRED_KEPT (the oldest forgotten first); another principal is told "not found" as before.
  const expiredIds = new Map<string, { owner: string; at: number }>();
  const drop = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    if (expired(s, Date.now())) {
      expiredIds.set(id, { owner: s.owner, at: Date.now() });
      if (expiredIds.size > EXPIRED_KEPT) expiredIds.delete(expiredIds.keys().next().value as string);
    }
    await s.transport.close().catch(() => undefined);
    await s.conn.close();
  };

  // Idle sessions are closed. One past its lifetime is closed once no request of it is in flight
  // (a call running when the session ends still gets its answer: its POST's stream belongs to the
  // transport), and at the latest once it has been idle as long again.
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.lastSeen < now - idleMs || (expired(s, now) && s.ids.size() === 0)) void drop(id);
    for (const [id, e] of expiredIds) if (e.at < now - idleMs) expiredIds.delete(id);
  }, Math.min(idleMs, maxLifetimeMs, 60_000));
  sweeper.unref();

  return {
    size: () => sessions.size,
    async open(req, res, body, principal) {
      const owner = principalFingerprint(principal);
      const subject = subjectKey(principal);
      const own = [...sessions].filter(([, x]) => x.owner === owner);
      // At its own cap the principal trades its least recently used session for the new one.
      const evict = own.length >= perPrincipal ? own.sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0] : undefined;
      const held = opening.filter((k) => k === subject).length + [...sessions.values()].filter((x) => x.subject === subject).length - (evict ? 1 : 0);
      if (held >= perSubject) {
        deps.log('warn', 'http session refused: the subject holds as many sessions as it may', { subject: principal.subject, limit: perSubject });
        refuseOpen(res, 429, `${ErrorCode.RATE_LIMITED}: this identity (issuer and subject, whatever its other claims) holds as many MCP sessions as it may (${perSubject}); end one (DELETE /mcp) or retry later`);
        return;
      }
      if (!evict && sessions.size + opening.length >= max) {
        deps.log('warn', 'http session refused: the server holds as many sessions as it may', { subject: principal.subject, limit: max });
        refuseOpen(res, 503, `${ErrorCode.UNAVAILABLE}: this server holds as many MCP sessions as it may; retry later or use per-request (2026-07-28) calls`);
        return;
      }
      // Reserved before any await (drop() unregisters synchronously), so concurrent opens count it.
      const dropping = evict ? drop(evict[0]) : undefined;
      opening.push(subject);
      let reserved = true;
      const release = () => {
        if (reserved) opening.splice(opening.indexOf(subject), 1);
        reserved = false;
      };
      try {
        await dropping?.catch(() => undefined);
        const conn = createConnectionServer(deps, principal, 'http');
        let sid: string | undefined;
        let ids: RequestIds | undefined;
        const transport = new NodeStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          maxRequestBodySize: opts.maxBodyBytes,
          onsessioninitialized: (id) => {
            sid = id;
            release();
            sessions.set(id, { transport, conn, ids: ids!, owner, subject, lastSeen: Date.now(), opened: Date.now() });
          },
          onsessionclosed: (id) => drop(id),
        });
        transport.onclose = () => {
          if (sid) void drop(sid);
        };
        await conn.server.connect(transport);
        ids = trackRequestIds(transport as never);
        await transport.handleRequest(req, res, body);
        // An initialize that failed never registered a session: release what it created.
        if (!sid) {
          await transport.close().catch(() => undefined);
          await conn.close();
        }
      } finally {
        release();
      }
    },
    async route(id, req, res, body, principal, expiresAt) {
      const s = sessions.get(id);
      if (!s) return expiredIds.get(id)?.owner === principalFingerprint(principal) ? 'expired' : 'unknown';
      if (s.owner !== principalFingerprint(principal)) return 'foreign';
      const now = Date.now();
      // Past its lifetime: refused (the caller answers WARDEN_SESSION_EXPIRED), closed now unless a
      // call of it is still running (the sweep closes it then). A DELETE still ends it at once.
      if (expired(s, now) && req.method !== 'DELETE') {
        if (s.ids.size() === 0) void drop(id);
        return 'expired';
      }
      s.lastSeen = now;
      // The version the session negotiated is the one it speaks: another (an older one's
      // semantics) is refused, as the transport refuses an unsupported one; absent, it is assumed.
      const version = req.headers['mcp-protocol-version'];
      const negotiated = s.conn.server.getNegotiatedProtocolVersion();
      if (version !== undefined && negotiated !== undefined && version !== negotiated) {
        refuse(res, 400, `Bad Request: MCP-Protocol-Version ${JSON.stringify(String(version).slice(0, 40))} is not this session's (${negotiated}); a session keeps the version it negotiated at initialize`);
        return 'ok';
      }
      if (req.method === 'POST' && !s.ids.claim(body, res)) {
        const id = (body as { id: unknown }).id;
        refuse(res, 409, `Conflict: request id ${JSON.stringify(id).slice(0, 80)} is already in flight in this session; MCP request ids must not be reused within a session`);
        return 'ok';
      }
      // The stream this GET opens is the session's one standalone stream while this response lasts.
      if (req.method === 'GET') {
        const endsAt = Math.min(expiresAt, (s.opened + maxLifetimeMs) / 1000);
        endAtExpiry(res, endsAt, () => {
          deps.log('info', 'http SSE stream closed: the token that opened it expired, or the session reached http.session_max_lifetime', { subject: principal.subject });
          s.transport.closeStandaloneSSEStream();
        });
      }
      await s.transport.handleRequest(req, res, body);
      return 'ok';
    },
    async closeAll() {
      clearInterval(sweeper);
      await Promise.all([...sessions.keys()].map(drop));
    },
  };
}
