/**
 * The JSON-RPC request ids in flight in one stateful HTTP session. Why: the SDK's transport maps
 * a request id to the POST that carried it, and a second POST with an id still in flight
 * re-pointed it: the first call's answer went to the second POST (or nowhere), the first POST
 * hung holding its slot, and its cancel reached only the second call. MCP forbids reusing an id
 * within a session; Warden refuses it (409) before the transport sees it. A cancelled request's
 * POST is ended when its cancel arrives (the SDK sends no response for it, so would never end it).
 *
 * An id is claimed when its POST arrives and released when the server sends its response, when
 * the client cancels it (the SDK then sends none), or, had the transport refused the POST before
 * handing the request on (406, a closed session), when that POST ends. `5` and `"5"` are two ids,
 * as JSON-RPC and the SDK compare them.
 */
import type { ServerResponse } from 'node:http';

type Message = Record<string, unknown>;

/** What of the transport is watched: the messages it hands on and the ones sent through it. */
export interface WatchedTransport {
  onmessage?: ((message: never, extra?: never) => void) | undefined;
  send(message: never, options?: never): Promise<void>;
  /** End the SSE answer of the POST that carried a request (the SDK transport's). */
  closeSSEStream?(requestId: never): void;
}

/** The session's in-flight ids. */
export interface RequestIds {
  /** Claim the id of a POSTed request (anything else passes); false when one of that id is in flight. */
  claim(body: unknown, res: ServerResponse): boolean;
  size(): number;
}

const keyOf = (id: unknown): string | undefined => (typeof id === 'string' ? `s:${id}` : typeof id === 'number' ? `n:${id}` : undefined);
const isObject = (v: unknown): v is Message => typeof v === 'object' && v !== null && !Array.isArray(v);
const requestKey = (m: unknown) => (isObject(m) && typeof m.method === 'string' && 'id' in m ? keyOf(m.id) : undefined);

/** Track `transport` (call after the server connected to it: it wraps the handlers that connect set). */
export function trackRequestIds(transport: WatchedTransport): RequestIds {
  const inflight = new Map<string, { delivered: boolean }>();
  const release = (id: unknown) => {
    const k = keyOf(id);
    if (k) inflight.delete(k);
  };

  const send = transport.send.bind(transport) as (m: unknown, o?: unknown) => Promise<void>;
  transport.send = ((message: unknown, options?: unknown) => {
    // A response (result or error) ends its request: freed before it reaches the client, which may reuse the id at once.
    if (isObject(message) && !('method' in message) && ('result' in message || 'error' in message)) release(message.id);
    return send(message, options);
  }) as WatchedTransport['send'];

  const onmessage = transport.onmessage as ((m: unknown, e?: unknown) => void) | undefined;
  transport.onmessage = ((message: unknown, extra?: unknown) => {
    const k = requestKey(message);
    const claim = k ? inflight.get(k) : undefined;
    if (claim) claim.delivered = true;
    onmessage?.(message, extra);
    // The SDK aborts a cancelled request and sends no response for it. Only a notification
    // cancels: a `notifications/cancelled` carrying an id is a request to the SDK (answered
    // "method not found", nothing aborted), and freeing the id it names let that id be reused
    // while its call still ran (a red-team pass: the first call's answer went to the second POST).
    if (isObject(message) && message.method === 'notifications/cancelled' && !('id' in message) && isObject(message.params)) {
      const id = message.params.requestId;
      const k = keyOf(id);
      const cancelled = k ? inflight.get(k) : undefined;
      release(id);
      // No response will come for it, and the SDK ends a POST's SSE answer only after the
      // response: left open, that POST held its request slot (http-limits.ts) as long as the
      // client kept the connection, and max_requests_per_principal cancels locked the identity
      // out. So the POST that carried it (in this session) is ended now; the call itself has been
      // aborted and is recorded as the pipeline ends it.
      if (cancelled?.delivered) transport.closeSSEStream?.(id as never);
    }
  }) as WatchedTransport['onmessage'];

  return {
    size: () => inflight.size,
    claim(body, res) {
      const k = requestKey(body);
      if (!k) return true;
      if (inflight.has(k)) return false;
      const mine = { delivered: false };
      inflight.set(k, mine);
      res.once('close', () => {
        if (inflight.get(k) === mine && !mine.delivered) inflight.delete(k);
      });
      return true;
    },
  };
}
