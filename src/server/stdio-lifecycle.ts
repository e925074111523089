/**
 * The MCP lifecycle on one stdio connection, checked before a message reaches the SDK.
 *
 * Why: the SDK's stdio entry served whatever came: a `tools/call` before `initialize` ran (and
 * opened the transcript session with no client info), a second `initialize` re-negotiated the
 * session and replaced the client's name and version the transcript records, and a request whose
 * id was still in flight was run beside the first (the two answers carried one id, and a cancel
 * reached only one of them; over HTTP that id is refused 409, http-request-ids.ts).
 *
 * Here, on a 2025-era connection (one without the 2026-07-28 per-request envelope), a request
 * other than `initialize` and `ping` is refused until the server has sent its `initialize`
 * result: that result, not `notifications/initialized`, opens the session (the spec lets a
 * server take requests once it answered initialize; the SDK client sends the notification right
 * after and never waits on it). A second `initialize` (while the first is answered or pending) is
 * refused; one the server answered with an error may be retried. A request carrying the
 * 2026-07-28 envelope needs no initialize and is left to the SDK (which refuses `initialize` on
 * such a connection itself); should the SDK have pinned the connection to the 2025 era already
 * (a `ping` or a notification without the envelope came first), its instance is not initialized
 * and the tool handlers refuse the request (mcp-server.ts notNegotiated). On either era, a request whose id is still in flight is refused;
 * an id is free again once its response is sent or the client cancels it (the SDK then sends
 * none). `5` and `"5"` are two ids. Each refusal is -32600, `WARDEN_INVALID_INPUT` in the
 * message and `data.code`, with the request's id; nothing of it runs or is recorded.
 *
 * Cost: one Map lookup and insert per request read, one delete per response sent; no await.
 */
import { PROTOCOL_VERSION_META_KEY, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { ErrorCode } from '../errors.js';

/** Why a request was refused (data.reason). */
export type LifecycleReason = 'not_initialized' | 'already_initialized' | 'id_in_flight' | 'invalid_cursor';

/** A refusal: answered to the request's id with -32600. */
export interface LifecycleRefusal {
  id: string | number;
  code: number;
  message: string;
  data: { code: string; reason: LifecycleReason };
}

type Message = Record<string, unknown>;

const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;
const keyOf = (id: unknown): string | undefined => (typeof id === 'string' ? `s:${id}` : typeof id === 'number' ? `n:${id}` : undefined);
const isObject = (v: unknown): v is Message => typeof v === 'object' && v !== null && !Array.isArray(v);
const carriesEnvelope = (params: unknown) => isObject(params) && isObject(params._meta) && PROTOCOL_VERSION_META_KEY in params._meta;

/** The lifecycle state of one stdio connection. */
export class StdioLifecycle {
  private readonly inflight = new Set<string>();
  /** The key of the `initialize` admitted and not answered yet. */
  private initializing: string | undefined;
  private initialized = false;

  /** Check a valid message read from the client: null to serve it, or the refusal to answer instead. */
  admit(message: JSONRPCMessage): LifecycleRefusal | null {
    const m = message as unknown as Message;
    if (typeof m.method !== 'string') return null; // a response to one of the server's requests
    if (!('id' in m)) {
      // The SDK sends no response for a request the client cancels: its id is free.
      if (m.method === 'notifications/cancelled' && isObject(m.params)) this.release(m.params.requestId);
      return null;
    }
    const id = m.id as string | number;
    const key = keyOf(id)!;
    if (this.inflight.has(key)) {
      return refusal(id, 'id_in_flight', `request id ${JSON.stringify(id).slice(0, 80)} is already in flight on this connection; MCP request ids must not be reused within a session until answered. The first request continues; this one did not run`);
    }
    if (m.method === 'initialize') {
      if (this.initialized || this.initializing !== undefined) {
        return refusal(id, 'already_initialized', `this stdio session is already ${this.initialized ? 'initialized' : 'initializing'}; a second initialize is refused and the session keeps its negotiated version and client info. Nothing ran`);
      }
      this.initializing = key;
    } else if (!this.initialized && m.method !== 'ping' && (this.initializing !== undefined || !carriesEnvelope(m.params))) {
      return refusal(id, 'not_initialized', `${JSON.stringify(m.method.slice(0, 80))} before the session is initialized: send initialize and wait for its result first (MCP lifecycle; ping is allowed), or carry the 2026-07-28 per-request _meta envelope. Nothing ran`);
    }
    // A list's cursor is an opaque string: the SDK answered another type with -32603 and a zod dump.
    if (m.method.endsWith('/list') && isObject(m.params) && m.params.cursor !== undefined && typeof m.params.cursor !== 'string') {
      return refusal(id, 'invalid_cursor', `params.cursor of ${JSON.stringify(m.method.slice(0, 80))} must be a string (the nextCursor of an earlier page). Nothing ran`, INVALID_PARAMS);
    }
    this.inflight.add(key);
    return null;
  }

  /** See a message the server sends: a response frees its id, and the `initialize` result opens the session. */
  sent(message: JSONRPCMessage): void {
    const m = message as unknown as Message;
    if ('method' in m || !('result' in m || 'error' in m)) return;
    const key = keyOf(m.id);
    if (key === undefined) return;
    this.inflight.delete(key);
    if (key === this.initializing) {
      this.initializing = undefined;
      if ('result' in m) this.initialized = true;
    }
  }

  private release(id: unknown): void {
    const key = keyOf(id);
    // A cancelled initialize gets no answer: the session stays uninitialized, and may initialize again.
    if (key !== undefined && this.inflight.delete(key) && key === this.initializing) this.initializing = undefined;
  }
}

function refusal(id: string | number, reason: LifecycleReason, what: string, code = INVALID_REQUEST): LifecycleRefusal {
  return { id, code, message: `${ErrorCode.INVALID_INPUT}: ${what}`, data: { code: ErrorCode.INVALID_INPUT, reason } };
}
