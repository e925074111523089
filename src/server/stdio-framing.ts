/**
 * Framing of MCP over stdio: one JSON-RPC message per line, bounded, each bad line answered.
 *
 * Why: the SDK's stdio reader closed the whole connection on a line over 10 MiB (the process
 * exited 0, answering nothing: one oversized line ended the session and every call in flight),
 * and it dropped in silence every line that was not a valid JSON-RPC message: a parse error, a
 * batch, an id that is an object or null, a progressToken that is not a string or number. Its
 * client waited for an answer that never came. Here a line longer than http.max_body_bytes is
 * discarded up to its end as it arrives (never held whole) and answered -32600, and a line that
 * is not a message is answered -32700 (not UTF-8, or not JSON) or -32600 (not a message; with its id when it has a
 * usable one), each with a WARDEN_INVALID_INPUT text. Nothing of such a line runs. Each line is
 * parsed once: the object the SDK serves is the one checked here. Deep nesting needs no check
 * here: JSON.parse does not recurse, a line is bounded, and arguments nested too deep are refused
 * by the pipeline with their call's id and recorded (input-guard.ts). A valid message then passes
 * the connection's lifecycle (stdio-lifecycle.ts: initialize first and once, no id in flight twice).
 */
import { isUtf8 } from 'node:buffer';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { parseJSONRPCMessage, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { ErrorCode } from '../errors.js';
import { StdioLifecycle } from './stdio-lifecycle.js';

/** A JSON-RPC request id an answer can carry (JSON-RPC: a string or a number; the SDK: a safe integer). */
type AnswerId = string | number | null;

/** How a refused line is answered: a JSON-RPC error (code, message, data) for `id`, or only logged when `id` is undefined. */
export type RefuseLine = (id: AnswerId | undefined, code: number, message: string, data?: unknown) => void;

const INVALID_REQUEST = -32600;
const PARSE_ERROR = -32700;
const NEWLINE = 0x0a;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whom an invalid message is answered to. A notification (a method, no id) and a response (a
 * result or an error, no method) are never answered (JSON-RPC); a request is, with its id when it
 * is one the client could match (a string or a safe integer), else with a null id.
 */
function answerIdOf(v: unknown): AnswerId | undefined {
  if (!isObject(v)) return null;
  if (!('id' in v)) return typeof v.method === 'string' ? undefined : null;
  if (!('method' in v) && ('result' in v || 'error' in v)) return undefined;
  const id = v.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

type Issue = { path?: PropertyKey[]; message?: string; errors?: Issue[][] };

/**
 * The problem of a message the SDK's schema refused, short: a path and zod's words, never the
 * values. A union's problem is its deepest branch's (the message came nearest to that shape).
 */
function firstIssue(e: unknown): string {
  let best: { path: PropertyKey[]; message: string } | null = null;
  const stack: [Issue, PropertyKey[]][] = ((e as { issues?: Issue[] }).issues ?? []).map((i) => [i, []]);
  for (let n = 0; stack.length && n < 200; n++) {
    const [i, prefix] = stack.pop()!;
    const path = [...prefix, ...(i.path ?? [])];
    if (i.errors?.length) for (const branch of i.errors) for (const b of branch) stack.push([b, path]);
    else if (!best || path.length > best.path.length) best = { path, message: String(i.message ?? 'invalid') };
  }
  if (!best) return 'not a JSON-RPC 2.0 message';
  return `${best.path.map(String).join('.').slice(0, 80) || '(message)'}: ${best.message.slice(0, 200)}`;
}

/**
 * The line reader installed in place of the SDK's ReadBuffer (same append/readMessage/clear).
 * Holds at most `maxLineBytes` of a line being read, and the complete lines of the last chunk.
 */
export class BoundedLineReader {
  private partial: Buffer[] = [];
  private size = 0;
  private skipping = false;
  private lines: Buffer[] = [];

  constructor(
    private readonly maxLineBytes: number,
    private readonly refuse: RefuseLine,
    /** The connection's lifecycle (stdio-lifecycle.ts): a valid message it refuses is answered and skipped. */
    private readonly lifecycle?: StdioLifecycle,
  ) {}

  /** Take a chunk of stdin: complete lines are queued, an oversized one is answered and dropped up to its newline. */
  append(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.skipping && end > start) {
        if (this.size + (end - start) > this.maxLineBytes) {
          this.partial = [];
          this.size = 0;
          this.skipping = true;
          this.refuse(null, INVALID_REQUEST, `${ErrorCode.INVALID_INPUT}: a message longer than ${this.maxLineBytes} bytes (http.max_body_bytes, which bounds one stdio line too) was refused and discarded up to its end of line; nothing of it ran`);
        } else {
          this.partial.push(chunk.subarray(start, end));
          this.size += end - start;
        }
      }
      if (nl === -1) return;
      if (!this.skipping) this.lines.push(this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial));
      this.partial = [];
      this.size = 0;
      this.skipping = false;
      start = nl + 1;
    }
  }

  /** The next valid message, or null when no complete line is left; bad lines are answered and skipped. */
  readMessage(): JSONRPCMessage | null {
    for (let raw = this.lines.shift(); raw; raw = this.lines.shift()) {
      // Bytes that are not UTF-8 are refused, never decoded to U+FFFD: the statement checked and
      // run would be text the agent never sent (the HTTP body reader refuses them the same way).
      if (!isUtf8(raw)) {
        this.refuse(null, PARSE_ERROR, `Parse error: ${ErrorCode.INVALID_INPUT}: a line that is not UTF-8; MCP messages are UTF-8 JSON; nothing of it ran`);
        continue;
      }
      const line = raw.toString('utf8').replace(/\r$/, '');
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.refuse(null, PARSE_ERROR, `Parse error: ${ErrorCode.INVALID_INPUT}: a line that is not JSON; nothing of it ran`);
        continue;
      }
      if (Array.isArray(value)) {
        this.refuse(null, INVALID_REQUEST, `${ErrorCode.INVALID_INPUT}: JSON-RPC batches (a JSON array) are not accepted, MCP removed batching in 2025-06-18; send one message per line`);
        continue;
      }
      let message: JSONRPCMessage;
      try {
        message = parseJSONRPCMessage(value);
      } catch (e) {
        this.refuse(answerIdOf(value), INVALID_REQUEST, `${ErrorCode.INVALID_INPUT}: not a valid JSON-RPC 2.0 message (${firstIssue(e)}); nothing of it ran`);
        continue;
      }
      const refused = this.lifecycle?.admit(message);
      if (!refused) return message;
      this.refuse(refused.id, refused.code, refused.message, refused.data);
    }
    return null;
  }

  /** Forget everything read (the transport closed). */
  clear(): void {
    this.partial = [];
    this.size = 0;
    this.skipping = false;
    this.lines = [];
  }
}

/**
 * The SDK's stdio transport reading through a BoundedLineReader that holds the connection's
 * lifecycle (stdio-lifecycle.ts): a refused line is answered on this transport's stdout (whole
 * lines, so never inside another answer) and logged through `onRefused`. Every message the
 * server sends is shown to the lifecycle first; a refusal is not (it answers no admitted request).
 */
export function boundedStdioTransport(maxLineBytes: number, onRefused: (code: number, message: string) => void): StdioServerTransport {
  const wire = new StdioServerTransport();
  const lifecycle = new StdioLifecycle();
  const send = wire.send.bind(wire);
  wire.send = (message) => {
    lifecycle.sent(message);
    return send(message);
  };
  const slot = wire as unknown as { _readBuffer?: unknown };
  // The reader the SDK would use is replaced; an SDK without that seam must not start unbounded.
  if (!slot._readBuffer || typeof (slot._readBuffer as { readMessage?: unknown }).readMessage !== 'function') {
    throw new Error('the MCP SDK stdio transport has no ReadBuffer to bound; refusing to serve stdio unbounded');
  }
  const refuse: RefuseLine = (id, code, message, data) => {
    onRefused(code, message);
    if (id === undefined) return;
    send({ jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } } as unknown as JSONRPCMessage).catch(() => undefined);
  };
  slot._readBuffer = new BoundedLineReader(maxLineBytes, refuse, lifecycle);
  return wire;
}
