/**
 * Request guards in front of every HTTP route: the coded refusals and a bounded body reader
 * (Host and Origin validation is http-origins.ts). They answer refusals themselves.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';

/** Answer with a JSON-RPC error body (what MCP clients expect from the endpoint). */
export function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: status === 404 ? -32001 : -32000, message: codedRefusal(status, message) }, id: null }));
}

/**
 * A refusal's message led by its WARDEN_* code (kept when the message already starts with one).
 * Why: every refusal names its code, over stdio and HTTP alike, so that a client, an alert or a log
 * search keys on the code and not on words: 400, 409, 413 and 415 are the body or headers
 * (WARDEN_INVALID_INPUT), 403 a request this principal may not make (WARDEN_DENIED), anything else
 * WARDEN_INTERNAL. A 404 "Session not found" is WARDEN_INVALID_INPUT (a session id that names none
 * of the caller's): WARDEN_SESSION_EXPIRED is said only to the session's own principal, so that
 * another learns nothing of an ended session. A live session named by another principal answers
 * 403 (WARDEN_DENIED, so a client whose token changed its claims is told why); that says the id
 * is live, which is worth nothing without the owner's token (ids are random, 122 bits).
 */
export function codedRefusal(status: number, message: string): string {
  if (/^WARDEN_[A-Z_]+: /.test(message)) return message;
  const code = status === 403 ? ErrorCode.DENIED
    : status >= 400 && status < 500 ? ErrorCode.INVALID_INPUT
    : ErrorCode.INTERNAL;
  return `${code}: ${message}`;
}

/**
 * Refuse a JSON-RPC batch (a JSON array body) with 400 and -32600 Invalid Request; true when
 * refused. Why: MCP 2025-06-18 removed batching, yet the SDK still runs an array of up to 100
 * messages inside a stateful session, so one POST would do the work of a hundred.
 */
export function refuseBatch(res: ServerResponse, body: unknown): boolean {
  if (!Array.isArray(body)) return false;
  res.writeHead(400, { 'content-type': 'application/json' });
  const message = `${ErrorCode.INVALID_INPUT}: JSON-RPC batches (a JSON array body) are not accepted, MCP removed batching in 2025-06-18; send one message per request`;
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message }, id: null }));
  return true;
}

/**
 * Refuse (400, -32600, WARDEN_INVALID_INPUT) a POST body that cannot be a JSON-RPC 2.0 message:
 * not an object, `jsonrpc` other than "2.0", or neither a `method` string nor a `result` or
 * `error` (a reply); true when refused. Why: the SDK refused such a body with words and no
 * WARDEN_* code. Only what the SDK's own schema refuses is refused here (a few property reads).
 */
export function refuseNotJsonRpc(res: ServerResponse, body: unknown): boolean {
  if (body === undefined) return false; // GET and DELETE carry none
  const m = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (m && m['jsonrpc'] === '2.0' && (typeof m['method'] === 'string' || Object.hasOwn(m, 'result') || Object.hasOwn(m, 'error'))) return false;
  res.writeHead(400, { 'content-type': 'application/json' });
  const message = `${ErrorCode.INVALID_INPUT}: the body is not a JSON-RPC 2.0 message (an object with "jsonrpc": "2.0" and a "method", or a reply's "result" or "error"); nothing of it ran`;
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message }, id: null }));
  return true;
}

/** The deepest JSON nesting a request may carry; MCP messages need a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/** True when brackets outside strings nest deeper than `max` (checked before parsing). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** The `charset` parameters of a Content-Type's parameters (lower-cased, unquoted); empty when it has none. */
function charsetsOf(params: string[]): string[] {
  const out: string[] = [];
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq >= 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') out.push(p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  }
  return out;
}

/** How many times a header (lower-case name) occurs in Node's rawHeaders (name, value, name, value, ...). */
function headerCount(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

/** A parse-level refusal (-32700), coded: the body is not a message Warden reads as its sender wrote it. */
function refuseUnreadable(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: `${ErrorCode.INVALID_INPUT}: ${message}` }, id: null }));
}

/**
 * Read and parse a JSON body up to `max` bytes; answers 413/415/400 and returns undefined when refused.
 * MCP messages are plain UTF-8 JSON: a body that declares another charset or a content coding, or
 * two Content-Types (415), or that holds bytes that are not UTF-8 (400) is refused, never decoded
 * to U+FFFD. Why: the SQL or command line Warden would check and run is then not what the agent
 * sent, and a proxy or logger in front that honours the label (`charset=utf-16`, `gzip`, or the
 * other of two Content-Types, as Node keeps the first) reads other text than the policy did.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<{ ok: true; body: unknown } | { ok: false }> {
  const [media, ...params] = String(req.headers['content-type'] ?? '').split(';');
  const type = media!.trim().toLowerCase();
  if (type !== 'application/json') {
    refuse(res, 415, 'Unsupported Media Type: Content-Type must be application/json', { connection: 'close' });
    return { ok: false };
  }
  if (headerCount(req.rawHeaders, 'content-type') > 1) {
    refuseUnreadable(res, 415, 'Unsupported Media Type: more than one Content-Type header; send one, application/json');
    return { ok: false };
  }
  const other = charsetsOf(params).find((c) => c !== 'utf-8' && c !== 'utf8');
  if (other !== undefined) {
    refuseUnreadable(res, 415, `Unsupported Media Type: charset ${JSON.stringify(other.slice(0, 40))}; MCP messages are UTF-8 JSON (send charset=utf-8 or none)`);
    return { ok: false };
  }
  // Warden decodes no content coding: a body labelled gzip would be read as the bytes it is, which
  // a proxy in front that honours the label reads otherwise (RFC 9110 15.5.16: 415).
  const coding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') {
    refuseUnreadable(res, 415, `Unsupported Media Type: Content-Encoding ${JSON.stringify(coding.slice(0, 40))}; send the JSON body uncompressed`);
    return { ok: false };
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    refuse(res, 413, `Payload Too Large: the limit is ${max} bytes`, { connection: 'close' });
    return { ok: false };
  }
  const raw = await new Promise<Buffer | 'too-large' | 'error'>((resolveBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.resume(); // drain without keeping it; the response closes the connection
        resolveBody('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolveBody(Buffer.concat(chunks)));
    req.once('error', () => resolveBody('error'));
  });
  if (raw === 'too-large') {
    refuse(res, 413, `Payload Too Large: the limit is ${max} bytes`, { connection: 'close' });
    return { ok: false };
  }
  if (raw === 'error') {
    refuse(res, 400, 'Bad Request: the body could not be read');
    return { ok: false };
  }
  if (!isUtf8(raw)) {
    refuseUnreadable(res, 400, 'Bad Request: the body is not valid UTF-8; MCP messages are UTF-8 JSON');
    return { ok: false };
  }
  const text = raw.toString('utf8');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    refuse(res, 400, `Bad Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return { ok: false };
  }
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: `Parse error: ${ErrorCode.INVALID_INPUT}: the body is not JSON; nothing of it ran` }, id: null }));
    }
    return { ok: false };
  }
}
