/**
 * Cut a result to the bytes its call's bytes quotas have left, and charge what is sent. Why here,
 * when the response is rendered: the quota counts the bytes the agent is sent, which only the
 * rendered text tells; every call passed the check before it ran, so only this charge can stop
 * one large result, or several concurrent ones, from taking more than the hour allows. The whole
 * response's bytes are taken from the quotas at once (a reservation, atomic in the database when
 * replicas share counters); the result is cut to what was taken and the unused part given back,
 * so no other call, in this process or another replica, takes the same bytes.
 */
import { ErrorCode, WardenError } from '../errors.js';
import type { ToolOutput } from '../tool-api.js';
import type { LocalRateTicket, Maybe, RateTicket } from './rate-limit.js';
import type { CallResponse } from './types.js';

/** The bytes a response sends (its text content, as the quota counts them). */
export function responseBytes(r: CallResponse): number {
  return r.content.reduce((n, c) => n + Buffer.byteLength(c.text), 0);
}

const NOTE = 'the bytes-per-hour quota is used up';

type Sent = { output: ToolOutput; response: CallResponse };

/**
 * Render `output`, cut to what the bytes quotas have left (a table keeps its first rows, text its
 * first characters, with a note; a JSON document is not cut), charge the bytes and return the
 * output and response. Throws RATE_LIMITED when not even an empty cut fits. At once with a
 * per-process ticket; after the round trips with a shared one.
 */
export function withinBytesQuota(output: ToolOutput, render: (o: ToolOutput) => CallResponse, ticket: LocalRateTicket): Sent;
export function withinBytesQuota(output: ToolOutput, render: (o: ToolOutput) => CallResponse, ticket: RateTicket): Maybe<Sent>;
export function withinBytesQuota(output: ToolOutput, render: (o: ToolOutput) => CallResponse, ticket: RateTicket): Maybe<Sent> {
  const response = render(output);
  const size = responseBytes(response);
  const settle = (taken: number): Maybe<Sent> => {
    if (taken >= size) return { output, response };
    const cut = largestFit(output, render, taken);
    const sent = cut ? responseBytes(cut.response) : 0;
    const finish = (): Sent => {
      if (!cut) {
        throw new WardenError(ErrorCode.RATE_LIMITED, `bytes per hour used: the result (${size} bytes) does not fit the ${taken} bytes left`, { limit: 'bytes_per_hour', left: taken });
      }
      return cut;
    };
    const back = taken > sent ? ticket.returnBytes(taken - sent) : undefined;
    return back instanceof Promise ? back.then(finish) : finish();
  };
  const taken = ticket.takeBytes(size);
  return taken instanceof Promise ? taken.then(settle) : settle(taken);
}

/** The output cut to n units (rows or characters), or null when it cannot be cut. */
function cutTo(o: ToolOutput, n: number): ToolOutput | null {
  if (o.kind === 'table') {
    if (!o.columns.length) return null; // a command tag (UPDATE 3): nothing to cut
    const note = `cut to ${n} of ${o.rows.length} rows: ${NOTE}`;
    return { ...o, rows: o.rows.slice(0, n), rowCount: n, truncated: true, notes: [...(o.notes ?? []), note] };
  }
  if (o.kind === 'text') {
    const total = textLength(o.streams);
    const streams: Record<string, string> = {};
    let keep = n;
    for (const [k, v] of Object.entries(o.streams)) {
      let end = Math.min(v.length, keep);
      // Never split a surrogate pair (a lone half is sent as U+FFFD, a character nobody wrote).
      if (end > 0 && end < v.length && /[\uD800-\uDBFF]/.test(v[end - 1]!)) end--;
      streams[k] = v.slice(0, end);
      keep -= end;
    }
    const note = `cut to ${n} of ${total} characters: ${NOTE}`;
    return { ...o, streams, truncated: true, notes: [...(o.notes ?? []), note] };
  }
  return null;
}

function textLength(streams: Record<string, string>): number {
  return Object.values(streams).reduce((n, v) => n + v.length, 0);
}

/** The longest cut whose response fits `left` bytes (binary search on rows or characters). */
function largestFit(o: ToolOutput, render: (o: ToolOutput) => CallResponse, left: number): Sent | null {
  const units = o.kind === 'table' ? o.rows.length : o.kind === 'text' ? textLength(o.streams) : 0;
  let best: Sent | null = null;
  let lo = 0;
  let hi = units - 1; // the whole output did not fit
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const cut = cutTo(o, mid);
    if (!cut) return null;
    const response = render(cut);
    if (responseBytes(response) <= left) {
      best = { output: cut, response };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
