/**
 * MCP protocol binding: one low-level SDK `Server` per connection, whose tools/list and
 * tools/call handlers hand everything to the pipeline. The transport is the only I/O seam.
 */
import { randomUUID } from 'node:crypto';
import { Server, CLIENT_INFO_META_KEY } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { GovernedTool, Principal } from '../tool-api.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { TranscriptStore } from '../recorder/types.js';
import { recordedActors } from '../approvals/actors.js';
import { recordedName } from '../pipeline/input-guard.js';
import { ErrorCode } from '../errors.js';
import { codeOutboundErrors } from './coded-errors.js';

/** What a connection needs to serve. */
export interface ServeDeps {
  pipeline: Pipeline;
  store: TranscriptStore;
  version: string;
  /** Send structuredContent with results and declare outputSchema (warden.yaml responses.structured_content). */
  structuredContent: boolean;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
}

/** The result `_meta` key under which every tool result carries its call id, rule ids and policy version. */
export const CALL_META_KEY = 'warden/call';

const schemaCache = new WeakMap<object, Record<string, unknown>>();
function jsonSchema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  let out = schemaCache.get(s);
  if (!out) {
    const js = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete js.$schema;
    schemaCache.set(s, (out = js));
  }
  return out;
}

function toolDescriptor(t: GovernedTool<any, any>, structured: boolean) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: jsonSchema(t.input, 'input'),
    // An outputSchema obliges every result to carry structuredContent, so only when it is sent.
    ...(t.output && structured ? { outputSchema: jsonSchema(t.output, 'output') } : {}),
    annotations: { title: t.title, ...t.annotations },
  };
}

/** A client's name or version as the transcript keeps it: text only, cut when long (input-guard.ts). */
const clientText = (v: unknown): string | undefined => (typeof v === 'string' ? recordedName(v) : undefined);

/**
 * The issuer and token client of an OIDC principal as its session record keeps them (none for
 * stdio or local principals). Why: without the issuer, `sam` of one issuer and `sam` of another
 * (after identity.oidc.issuer changed, or replicas of one store trusting two) were recorded alike;
 * without the token's client, the only client named was the one the agent claims in clientInfo.
 */
function tokenSource(p: Principal): { issuer?: string; tokenClient?: string } {
  if (p.authMethod !== 'oidc') return {};
  const iss = p.claims.iss;
  const client = typeof p.claims.azp === 'string' ? p.claims.azp : typeof p.claims.client_id === 'string' ? p.claims.client_id : undefined;
  return { ...(typeof iss === 'string' ? { issuer: recordedName(iss) } : {}), ...(client ? { tokenClient: recordedName(client) } : {}) };
}

/**
 * The refusal of a request that reached a server that negotiated no protocol version: a
 * 2025-era instance never initialized. Why: over stdio a `ping` (allowed before initialize)
 * pins the connection to the 2025 era, and a request carrying the 2026-07-28 envelope, which
 * the lifecycle lets through without initialize (stdio-lifecycle.ts), then reached that
 * uninitialized instance: a tools/call ran before initialize, and an initialize after it was
 * still accepted. Every instance that may serve has a version: initialize sets it (2025), the
 * serving entry sets it before any request (2026-07-28). -32600 as the stdio lifecycle answers.
 */
function notNegotiated(server: Server, method: string): Error | null {
  if (server.getNegotiatedProtocolVersion() !== undefined) return null;
  return Object.assign(
    new Error(`${ErrorCode.INVALID_INPUT}: "${method}" before the session is initialized: this connection speaks the 2025 protocol (it sent a message without the 2026-07-28 per-request _meta envelope), so send initialize and wait for its result first. Nothing ran`),
    { code: -32600, data: { code: ErrorCode.INVALID_INPUT, reason: 'not_initialized' } },
  );
}

/** A session handle: the server plus its transcript session. */
export interface ConnectionSession {
  server: Server;
  sessionId: string;
  close(): Promise<void>;
}

/**
 * Create the SDK server for one connection bound to one principal. `perRequest`: it serves one
 * 2026-07-28 request without a session, so it can never send the client a request (elicitation).
 */
export function createConnectionServer(deps: ServeDeps, principal: Principal, transport: 'stdio' | 'http', opts: { expiresAt?: number; perRequest?: boolean } = {}): ConnectionSession {
  const server = new Server({ name: 'warden', version: deps.version }, { capabilities: { tools: { listChanged: false } } });
  const sessionId = randomUUID();
  // Every error this server answers carries a WARDEN_* code (coded-errors.ts), whatever transport it connects.
  const connect = server.connect.bind(server);
  server.connect = (t) => {
    codeOutboundErrors(t, (msg, data) => deps.log('debug', msg, data));
    return connect(t);
  };
  // The chain, or every name an `act` that is no RFC 8693 chain holds, marked so (actors.ts).
  const actors = recordedActors(principal.claims);
  // Who vouched for the principal: a `sub` is unique only within its issuer (approvals bind it so,
  // approvals/subjects.ts identitySource), and the token's own client (azp, client_id) is the
  // verified one, where `client` below is what the agent says.
  const vouched = tokenSource(principal);
  let opened: Promise<void> | null = null;
  const open = (meta?: Record<string, unknown>) => {
    if (!opened) {
      const info = server.getClientVersion() ?? (meta?.[CLIENT_INFO_META_KEY] as { name?: string; version?: string } | undefined);
      opened = deps.store.openSession({
        id: sessionId,
        principal: { subject: principal.subject, groups: principal.groups, authMethod: principal.authMethod, ...vouched, ...actors },
        // As the client says, bounded: a per-request client sends it with every request.
        client: { name: clientText(info?.name), version: clientText(info?.version) },
        transport,
        startedAt: new Date().toISOString(),
      });
      opened.catch((e) => deps.log('error', 'cannot open transcript session', { message: (e as Error).message }));
    }
    return opened;
  };

  // A session authenticated by a token (WARDEN_TOKEN on stdio) ends with the token.
  const expired = () => opts.expiresAt !== undefined && Date.now() >= opts.expiresAt * 1000;

  server.setRequestHandler('tools/list', async (req) => {
    const early = notNegotiated(server, 'tools/list');
    if (early) throw early;
    // What a principal may see is theirs only while their token holds: after it, nothing.
    if (expired()) return { tools: [] } as never;
    // Over HTTP a listing writes no session record: the record comes with the session's first tool
    // call. Why: every per-request (2026) listing is a session of its own, and a 2025 client can
    // initialize, list and be evicted in a loop, so each listing wrote an open and a close record,
    // unbounded. A stdio session (one per process) is still recorded when it lists.
    if (transport === 'stdio') await open(req.params?._meta as Record<string, unknown> | undefined).catch(() => undefined);
    return { tools: deps.pipeline.listTools(principal).map((t) => toolDescriptor(t, deps.structuredContent)) } as never;
  });

  server.setRequestHandler('tools/call', async (req, ctx) => {
    // Before anything is opened or recorded: nothing of such a call runs.
    const early = notNegotiated(server, 'tools/call');
    if (early) throw early;
    // The session's open record is queued, not awaited: the store commits queued writes in order,
    // so it lands with (or before) the call's intent, and an intent whose session never landed is
    // refused (WARDEN_TRANSCRIPT_UNAVAILABLE), so nothing runs unrecorded. A per-request (2026)
    // session saves a commit per call this way.
    open(req.params._meta as Record<string, unknown> | undefined).catch(() => undefined);
    const progressToken = req.params._meta?.progressToken;
    const ended = expired();
    // This request's token (HTTP: each request carries its own; stdio: WARDEN_TOKEN's, if any).
    const tokenExpiresAt = ctx.http?.authInfo?.expiresAt ?? opts.expiresAt;
    const res = await deps.pipeline.handle({
      sessionId,
      principal: ended ? null : principal,
      ...(ended ? { authError: 'the token of this session has expired; reconnect with a fresh WARDEN_TOKEN' } : {}),
      tool: req.params.name,
      args: req.params.arguments ?? {},
      signal: ctx.mcpReq.signal,
      ...(progressToken !== undefined
        ? {
            progress: (message: string, progress: number, total?: number) =>
              void ctx.mcpReq
                .notify({ method: 'notifications/progress', params: { progressToken, progress, ...(total ? { total } : {}), message } })
                .catch(() => undefined),
          }
        : {}),
      ...(opts.perRequest ? { cannotElicit: 'per-request' as const } : {}),
      ...(tokenExpiresAt !== undefined ? { tokenExpiresAt } : {}),
      elicit: !opts.perRequest && server.getClientCapabilities()?.elicitation
        ? async (message, schema, signal) => {
            const r = await ctx.mcpReq.elicitInput({ mode: 'form', message, requestedSchema: schema as never }, signal ? { signal } : undefined);
            return { action: r.action, ...(r.content ? { content: r.content as Record<string, unknown> } : {}) };
          }
        : undefined,
    });
    // The call id, rule ids and policy version travel in _meta (clients keep it from the model),
    // whatever the result shape. Without structured_content a result is its text; an error
    // keeps its structured code.
    const call = (res.structuredContent as { warden?: Record<string, unknown> } | undefined)?.warden;
    const _meta = call ? { [CALL_META_KEY]: call } : undefined;
    if (!deps.structuredContent && !res.isError) return { content: res.content, ...(_meta ? { _meta } : {}) } as never;
    return { ...res, ...(_meta ? { _meta } : {}) } as never;
  });

  return {
    server,
    sessionId,
    async close() {
      if (opened) await opened.then(() => deps.store.closeSession(sessionId, new Date().toISOString())).catch(() => undefined);
    },
  };
}
