/**
 * A bound on what one /mcp response holds buffered for its client (http.max_stream_buffer). Why:
 * SSE answers (GET streams, POST answers streamed as SSE) are written by the SDK adapters, which
 * honour back-pressure by waiting for 'drain'; what they hold back meanwhile sits in the
 * transport's web stream queue, unbounded and unseen. A client that never reads would make
 * Warden keep all of it, and the request's slot, for as long as its socket stays open.
 *
 * So the response's write() takes everything at once (no back-pressure to the writer, the bytes
 * move to the response's own buffer, the same memory) and measures it: once more than `max`
 * bytes are buffered (res.writableLength: the response's and its socket's), the connection is
 * destroyed and `onOverflow` told, once. Its 'close' then frees the request's slots and the
 * adapters stop reading from the transport. A message larger than `max` on its own is cut off
 * for any client, however fast: the server raises `max` above the largest answer a tool may
 * give (streamBufferBound).
 */
import type { ServerResponse } from 'node:http';
import type { ServerConfig } from '../config/server-config.js';

/** How many times the largest answer the bound always holds: rendered as text and JSON-encoded, twice with structured_content. */
export const ANSWER_ENCODING_FACTOR = 8;

/**
 * The bound a server applies: http.max_stream_buffer, raised to ANSWER_ENCODING_FACTOR times the
 * largest answer a tool may give (limits.max_result_bytes, a connection's max_bytes or
 * max_output_bytes), so that a client that reads is never cut off inside one whole answer. Why
 * raise rather than refuse: the caps are set per connection, and a stalled client is caught
 * all the same, only later; `raisedFor` names what raised it, for the start-up log.
 */
export function streamBufferBound(config: Pick<ServerConfig, 'http' | 'limits' | 'connections'>): { bytes: number; raisedFor: string | null } {
  let largest = config.limits.max_result_bytes;
  let by = 'limits.max_result_bytes';
  for (const c of config.connections) {
    const entry = c as unknown as Record<string, unknown>;
    for (const key of ['max_bytes', 'max_output_bytes']) {
      const v = entry[key];
      if (typeof v === 'number' && v > largest) [largest, by] = [v, `connections.${c.name}.${key}`];
    }
  }
  const need = largest * ANSWER_ENCODING_FACTOR;
  return need > config.http.max_stream_buffer ? { bytes: need, raisedFor: `${by} (${largest} bytes)` } : { bytes: config.http.max_stream_buffer, raisedFor: null };
}

/** Why a response was closed: over the byte bound, or no byte taken by its client for `stallMs`. */
export type StreamClose = { reason: 'buffer'; buffered: number } | { reason: 'stalled'; buffered: number; stallMs: number };

/**
 * Bound what `res` may hold buffered: past `max` bytes the connection is closed; and a backlog
 * that has not shrunk after `stallMs` (an answer no larger than `max`, never read) closes it
 * too, so that its slot and memory do not wait for the client to hang up. Progress is what Node
 * shows: the backlog of several writes shrinks as each is taken, but one large write counts as
 * taken only once all of it is, so a single answer must be taken within `stallMs` (the server
 * passes http.request_timeout, 120 s by default). `onClose` is called once, with why.
 */
export function boundResponseBuffer(res: ServerResponse, max: number, stallMs: number, onClose: (why: StreamClose) => void): void {
  const write = res.write;
  let over = false;
  let timer: NodeJS.Timeout | null = null;
  let seen = 0;
  const close = (why: StreamClose) => {
    over = true;
    if (timer) clearTimeout(timer);
    onClose(why);
    res.destroy();
  };
  // Looked at every stallMs while bytes wait: a backlog that did not shrink is a client not reading.
  const check = () => {
    timer = null;
    const now = res.writableLength;
    if (over || res.destroyed || now === 0) return;
    if (now >= seen) return close({ reason: 'stalled', buffered: now, stallMs });
    seen = now;
    timer = setTimeout(check, stallMs).unref();
  };
  res.once('close', () => timer && clearTimeout(timer));
  res.write = function boundedWrite(this: ServerResponse, ...args: unknown[]): boolean {
    if (over || res.destroyed) return false;
    (write as (...a: unknown[]) => boolean).apply(res, args);
    const buffered = res.writableLength;
    if (buffered > max) {
      close({ reason: 'buffer', buffered });
      return false;
    }
    watch();
    return true;
  } as ServerResponse['write'];
  // end(chunk) writes without going through write(): the last answer still waits to be taken.
  const end = res.end;
  res.end = function boundedEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
    const r = (end as (...a: unknown[]) => ServerResponse).apply(res, args);
    watch();
    return r;
  } as ServerResponse['end'];
  function watch() {
    const buffered = res.writableLength;
    if (buffered > 0 && !timer && !over) {
      seen = buffered;
      timer = setTimeout(check, stallMs).unref();
    }
  }
}
