/**
 * Every JSON-RPC error a connection's server sends carries a WARDEN_* code, short and plain.
 *
 * Why: the SDK answered an unknown method "Method not found", params of a wrong type
 * "Invalid tools/call request: " followed by zod's multi-line issue dump, and any exception a
 * handler threw with its own message (which may name a path or a value): no code an agent or
 * a SIEM could match, and text nobody vetted. A transport fuzz found them (test/e2e/fuzz-*).
 * Here an error that has no WARDEN_* code is rewritten on its way out: a JSON-RPC request
 * fault (-32700..-32600, -32602, -32601, or an unsupported protocol version) becomes
 * WARDEN_INVALID_INPUT with a bounded reason, anything else WARDEN_INTERNAL with no detail (the
 * original goes to the log). Errors Warden made itself pass unchanged.
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { ErrorCode } from '../errors.js';

const CODED = /\bWARDEN_[A-Z_]+\b/;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

type Issue = { path?: unknown[]; message?: unknown };

/** The first zod issue of an SDK "Invalid ... request: [issues]" message, as "path: message", or null. */
function firstIssue(message: string): string | null {
  const at = message.indexOf('[');
  if (at === -1) return null;
  try {
    const issues = JSON.parse(message.slice(at)) as Issue[];
    const i = Array.isArray(issues) ? issues[0] : undefined;
    if (!i) return null;
    const path = Array.isArray(i.path) ? i.path.map(String).join('.').slice(0, 80) : '';
    return `${path || '(message)'}: ${String(i.message ?? 'invalid').slice(0, 160)}`;
  } catch {
    return null;
  }
}

/** The first line of a message, printable ASCII only, at most 160 characters: what of an SDK's words may reach a client. */
export function plainLine(message: string): string {
  return message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
}

/** Whether a message already carries a WARDEN_* code (Warden made it; passed unchanged). */
export function isCoded(message: string): boolean {
  return CODED.test(message);
}

/** The data an uncoded error keeps when coded: an unsupported version's (the versions a client may retry with), nothing else (it may echo the input). */
export function keptData(message: string, data: unknown): { data?: unknown } {
  return /^Unsupported protocol version/.test(message) && data !== undefined ? { data } : {};
}

/** The coded message of an uncoded JSON-RPC error (see the module comment). */
export function codedErrorMessage(code: number, message: string): string {
  if (code === METHOD_NOT_FOUND) {
    return `${ErrorCode.INVALID_INPUT}: method not found: this server serves initialize, ping, tools/list and tools/call; nothing ran`;
  }
  if (code === INVALID_PARAMS) {
    const issue = firstIssue(message);
    return `${ErrorCode.INVALID_INPUT}: invalid params${issue ? ` (${issue})` : ''}; nothing ran`;
  }
  if ((code <= -32600 && code >= -32700) || /^Unsupported protocol version/.test(message)) {
    return `${ErrorCode.INVALID_INPUT}: ${plainLine(message)}; nothing ran`;
  }
  return `${ErrorCode.INTERNAL}: the request failed inside Warden; see the server log`;
}

/**
 * Wrap `transport.send` so that each outgoing JSON-RPC error without a WARDEN_* code is sent
 * coded (codedErrorMessage); `log` gets the original. Why here: the one seam every answer of
 * a connection's server passes, over stdio and both HTTP eras.
 */
export function codeOutboundErrors(transport: Transport, log: (msg: string, data: Record<string, unknown>) => void): void {
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options?: Parameters<Transport['send']>[1]) => {
    const err = (message as { error?: { code?: unknown; message?: unknown; data?: unknown } }).error;
    if (!err || typeof err !== 'object') return send(message, options);
    const text = typeof err.message === 'string' ? err.message : '';
    if (CODED.test(text)) return send(message, options);
    const code = typeof err.code === 'number' ? err.code : -32603;
    log('uncoded JSON-RPC error sent coded', { code, message: text.slice(0, 500) });
    const coded = codedErrorMessage(code, text);
    // Data Warden did not make is dropped with the message it came with (it may echo the input).
    return send({ ...message, error: { code, message: coded, ...keptData(text, err.data) } } as JSONRPCMessage, options);
  };
}
