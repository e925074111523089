/**
 * Long-lived responses end with the token that opened them. A request is authenticated once, when
 * it arrives; a GET /mcp SSE stream then stays open for as long as the client likes, so without
 * this it would keep delivering a session's messages hours after its token expired (a red-team
 * finding). The client reconnects, and that request is authenticated again.
 */
import type { ServerResponse } from 'node:http';

/** setTimeout's largest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long `end` may take to close the response before it is destroyed. */
const END_GRACE_MS = 2_000;

/**
 * Call `end` when the token expires (`expiresAt`, epoch seconds), unless `res` closes first; the
 * timer is cleared on close. Should `end` leave the response open, it is destroyed shortly after.
 * Why a callback: the stream's owner (the SDK transport) closes it cleanly, which writing to
 * `res` from here would not.
 */
export function endAtExpiry(res: ServerResponse, expiresAt: number, end: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const closed = () => res.destroyed || res.writableFinished;
  const tick = () => {
    const left = expiresAt * 1000 - Date.now();
    if (left > 0) {
      timer = setTimeout(tick, Math.min(left, MAX_TIMER_MS)).unref();
      return;
    }
    if (closed()) return;
    end();
    timer = setTimeout(() => void (closed() || res.destroy()), END_GRACE_MS).unref();
  };
  // Asynchronous even for a token already past exp (within the leeway): the stream starts first.
  timer = setTimeout(tick, Math.min(Math.max(0, expiresAt * 1000 - Date.now()), MAX_TIMER_MS)).unref();
  res.once('close', () => clearTimeout(timer));
}
