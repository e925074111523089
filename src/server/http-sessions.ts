/**
 * Stateful (2025-11-25) MCP sessions over HTTP, each bound to the principal that opened it.
 * A session id is a capability only together with a token of the same principal: presented with
 * another principal's token it is refused (403), so a leaked or guessed id cannot be hijacked.
 * "The same principal" is everything a policy decision reads: the session's tool calls are decided
 * for the principal that opened it, so a token that differs in groups or claims is another one.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { Principal } from '../tool-api.js';
import { canonicalJson } from '../recorder/canonical-json.js';
import { claimValues } from '../policy/who.js';
import { createConnectionServer, type ConnectionSession, type ServeDeps } from './mcp-server.js';

/** One live session. */
interface HttpSession {
  transport: NodeStreamableHTTPServerTransport;
  conn: ConnectionSession;
  owner: string;
  lastSeen: number;
}

// The verifier hands out the same principal object for a token it has seen (its verified-token
// cache), so a session's requests hash it once, not once per request.
const fingerprints = new WeakMap<Principal, string>();

/**
 * Who may use a session: issuer, subject, groups and claims, since `who.claims` rules decide on
 * a principal's top-level claims (strings, numbers, lists of them) (policy/engine.ts whoMatches; a review found a
 * CI job of the same subject and groups but another repository running calls under the grant of
 * the job that opened the session). Per-token claims (exp, jti, ...) are not on the principal
 * (identity/claims.ts), so a refreshed token keeps the session; group order does not matter.
 */
export function principalFingerprint(p: Principal): string {
  let f = fingerprints.get(p);
  if (f === undefined) {
    const iss = typeof p.claims.iss === 'string' ? p.claims.iss : '';
    // Every claim value a rule can judge (policy/who.ts claimValues: strings, numbers, lists).
    const claims = Object.fromEntries(Object.entries(p.claims).map(([k, v]) => [k, claimValues(v).sort()] as const).filter(([, v]) => v.length > 0));
    f = createHash('sha256').update(canonicalJson([p.authMethod, iss, p.subject, [...new Set(p.groups)].sort(), claims])).digest('base64url');
    fingerprints.set(p, f);
  }
  return f;
}

/** The registry of stateful sessions. */
export interface SessionRegistry {
  /** Open a session for an `initialize` request and answer it. */
  open(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void>;
  /** Serve a request that names a session; 'unknown' and 'foreign' are answered by the caller. */
  route(id: string, req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<'ok' | 'unknown' | 'foreign'>;
  size(): number;
  closeAll(): Promise<void>;
}

/**
 * Create the registry; idle sessions are closed after `idleMs`. At most `perPrincipal` sessions
 * per principal: opening one more closes that principal's own least recently used session. At
 * most `max` in all: when full, a new session is refused (503), never made by closing another
 * principal's (a review found one principal evicting everyone by opening 10,000 sessions).
 */
export function createSessionRegistry(deps: ServeDeps, opts: { maxBodyBytes: number; idleMs?: number; max?: number; perPrincipal?: number }): SessionRegistry {
  const sessions = new Map<string, HttpSession>();
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const max = opts.max ?? 10_000;
  const perPrincipal = opts.perPrincipal ?? 100;

  const drop = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.conn.close();
  };

  const sweeper = setInterval(() => {
    const cutoff = Date.now() - idleMs;
    for (const [id, s] of sessions) if (s.lastSeen < cutoff) void drop(id);
  }, Math.min(idleMs, 60_000));
  sweeper.unref();

  return {
    size: () => sessions.size,
    async open(req, res, body, principal) {
      const owner = principalFingerprint(principal);
      const own = [...sessions].filter(([, x]) => x.owner === owner);
      if (own.length >= perPrincipal) {
        const oldest = own.sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0];
        if (oldest) await drop(oldest[0]);
      } else if (sessions.size >= max) {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '60' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'this server holds as many MCP sessions as it may; retry later or use per-request (2026-07-28) calls' }, id: null }));
        return;
      }
      const conn = createConnectionServer(deps, principal, 'http');
      let sid: string | undefined;
      const transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        maxRequestBodySize: opts.maxBodyBytes,
        onsessioninitialized: (id) => {
          sid = id;
          sessions.set(id, { transport, conn, owner, lastSeen: Date.now() });
        },
        onsessionclosed: (id) => drop(id),
      });
      transport.onclose = () => {
        if (sid) void drop(sid);
      };
      await conn.server.connect(transport);
      await transport.handleRequest(req, res, body);
      // An initialize that failed never registered a session: release what it created.
      if (!sid) {
        await transport.close().catch(() => undefined);
        await conn.close();
      }
    },
    async route(id, req, res, body, principal) {
      const s = sessions.get(id);
      if (!s) return 'unknown';
      if (s.owner !== principalFingerprint(principal)) return 'foreign';
      s.lastSeen = Date.now();
      await s.transport.handleRequest(req, res, body);
      return 'ok';
    },
    async closeAll() {
      clearInterval(sweeper);
      await Promise.all([...sessions.keys()].map(drop));
    },
  };
}
