/**
 * WARDEN_* codes on the JSON-RPC error bodies an /mcp response carries, whoever wrote them.
 *
 * Why: the MCP SDK's HTTP layer (its session transport and its per-request handler) answers a
 * fault it finds itself with a JSON error body that never passes a connection's send (coded-errors.ts
 * codes those): "Parse error: Invalid JSON-RPC message", "Invalid Request: Server already
 * initialized", "Not Acceptable: ...", "Unsupported protocol version: ..." (a transport fuzz found
 * about thirty, test/e2e/fuzz-http). Checking every case before the SDK sees it would copy its
 * rules; instead the response of every /mcp request is watched: a JSON answer with a status of
 * 400 or more is held until it ends (an error body is small; over MAX_HELD it goes out as it is),
 * and a JSON-RPC error in it without a WARDEN_* code gets one, keeping the HTTP status and the
 * JSON-RPC code the SDK chose, its Content-Length fixed. Success answers and SSE streams are
 * never held: their cost is one status comparison at writeHead.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';
import { codedRefusal } from './http-guards.js';
import { isCoded, keptData, plainLine } from './coded-errors.js';

/** The largest error body held for rewriting; a larger one is sent unchanged (no SDK error body comes near). */
const MAX_HELD = 64 * 1024;

type Log = (msg: string, data: Record<string, unknown>) => void;
type Held = { status: number; reason: string | undefined; headers: OutgoingHttpHeaders };

/** The value of a header (any case) in a writeHead headers object. */
function headerOf(headers: OutgoingHttpHeaders, name: string): unknown {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}

/** The coded message of an uncoded error in an HTTP answer of `status` (see the module comment). */
export function codedHttpErrorMessage(status: number, message: string): string {
  if (status >= 500) return `${ErrorCode.INTERNAL}: the request failed inside Warden; see the server log`;
  return codedRefusal(status, `${plainLine(message)}; nothing ran`);
}

/** The body with its JSON-RPC error coded, or null when it needs nothing (not JSON-RPC, no error, already coded). */
function recoded(status: number, body: Buffer, log: Log): Buffer | null {
  let m: unknown;
  try {
    m = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return null;
  const err = (m as { error?: unknown }).error;
  if ((m as { jsonrpc?: unknown }).jsonrpc !== '2.0' || typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; message?: unknown; data?: unknown };
  const text = typeof e.message === 'string' ? e.message : '';
  if (isCoded(text)) return null;
  const code = typeof e.code === 'number' ? e.code : -32603;
  log('uncoded JSON-RPC error body coded', { status, code, message: text.slice(0, 500) });
  const error = { code, message: codedHttpErrorMessage(status, text), ...keptData(text, e.data) };
  return Buffer.from(JSON.stringify({ ...m, error }));
}

/**
 * Watch `res` (an /mcp response) so that a JSON-RPC error body it ends with carries a WARDEN_*
 * code (module comment). Installed once per request, before anything writes to it.
 */
export function codeErrorBodies(res: ServerResponse, log: Log): void {
  const writeHead = res.writeHead as (...a: unknown[]) => ServerResponse;
  const write = res.write as (...a: unknown[]) => boolean;
  const end = res.end as (...a: unknown[]) => ServerResponse;
  let held: Held | null = null;
  let chunks: Buffer[] = [];
  let size = 0;
  const head = (h: Held, headers: OutgoingHttpHeaders) => writeHead.call(res, h.status, ...(h.reason === undefined ? [] : [h.reason]), headers);
  // Past MAX_HELD: what is held goes out as it was written, and the rest unheld.
  const release = () => {
    const h = held!;
    held = null;
    head(h, h.headers);
    for (const c of chunks) write.call(res, c);
    chunks = [];
  };
  const toBuffer = (chunk: unknown, enc: unknown) =>
    Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');

  res.writeHead = function codedWriteHead(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
    const reason = typeof rest[0] === 'string' ? (rest[0] as string) : undefined;
    const headers = reason === undefined ? rest[0] : rest[1];
    if (held || status < 400 || (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers)))) {
      return writeHead.call(res, status, ...rest);
    }
    const h = (headers ?? {}) as OutgoingHttpHeaders;
    const type = String(headerOf(h, 'content-type') ?? res.getHeader('content-type') ?? '');
    if (!/^application\/json\b/i.test(type)) return writeHead.call(res, status, ...rest);
    held = { status, reason, headers: { ...h } };
    return res;
  } as ServerResponse['writeHead'];

  res.write = function codedWrite(this: ServerResponse, chunk: unknown, enc?: unknown, cb?: unknown): boolean {
    if (!held) return write.call(res, chunk, enc, cb);
    const b = toBuffer(chunk, enc);
    chunks.push(b);
    size += b.length;
    const done = typeof enc === 'function' ? enc : cb;
    if (size > MAX_HELD) release();
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  } as ServerResponse['write'];

  res.end = function codedEnd(this: ServerResponse, chunk?: unknown, enc?: unknown, cb?: unknown): ServerResponse {
    if (!held) return end.call(res, chunk, enc, cb);
    const h = held;
    held = null;
    const done = [chunk, enc, cb].find((x) => typeof x === 'function');
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') chunks.push(toBuffer(chunk, enc));
    const body = Buffer.concat(chunks);
    chunks = [];
    const coded = recoded(h.status, body, log);
    if (!coded) {
      head(h, h.headers);
      return end.call(res, body, done);
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(h.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = v;
    headers['content-length'] = coded.length;
    head(h, headers);
    return end.call(res, coded, done);
  } as ServerResponse['end'];
}
