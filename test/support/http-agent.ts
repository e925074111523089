/**
 * A real MCP client over Streamable HTTP with a bearer token, plus raw HTTP helpers for the
 * status-code checks (401/403/404/413) that a client library would hide.
 */
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/** A connected agent. */
export interface HttpAgent {
  client: Client;
  transport: StreamableHTTPClientTransport;
  call(tool: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; structured: Record<string, unknown> | undefined }>;
  tools(): Promise<string[]>;
  close(): Promise<void>;
}

/** Connect an MCP client to `${base}/mcp` with `Authorization: Bearer token`. */
export async function connectHttpAgent(base: string, token: string, opts: { name?: string; modern?: boolean } = {}): Promise<HttpAgent> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: opts.name ?? 'warden-http-test-agent', version: '1.0.0' }, opts.modern ? { versionNegotiation: { mode: 'auto' } } : {});
  await client.connect(transport);
  return agentOf(client, transport);
}

/** The HttpAgent face of a connected client (also for clients with their own fetch: dpop-client.ts). */
export function agentOf(client: Client, transport: StreamableHTTPClientTransport): HttpAgent {
  return {
    client,
    transport,
    async call(tool, args) {
      const r = await client.callTool({ name: tool, arguments: args });
      const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
      return { text, isError: r.isError === true, structured: r.structuredContent as Record<string, unknown> | undefined };
    },
    async tools() {
      return (await client.listTools()).tools.map((t) => t.name).sort();
    },
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}

/** A raw HTTP exchange (node:http, so Host can be set). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Send one raw request. */
export function rawRequest(base: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'POST', path: opts.path ?? '/mcp', headers: opts.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A JSON-RPC initialize body as a 2025-11-25 client sends it. */
export function initializeBody(): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
}

/** Headers of an MCP POST with a bearer token. */
export function mcpHeaders(token?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
}

/** A POST whose headers (and first byte) are sent and whose body never finishes, until aborted. */
export interface SlowRequest {
  /** The response, or 'closed' when the connection went without one. */
  done: Promise<RawResponse | 'closed'>;
  abort(): void;
}

/** Start a slow POST to `${base}/mcp` with a bearer token (a request that holds its slot until aborted or timed out). */
export function slowPost(base: string, token: string): SlowRequest {
  const u = new URL(base);
  let req: ClientRequest;
  const done = new Promise<RawResponse | 'closed'>((resolve) => {
    req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/mcp', headers: { ...mcpHeaders(token), 'content-length': '4096' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve('closed'));
    });
    req.on('error', () => resolve('closed'));
    req.write('{"jsonrpc":"2.0",');
  });
  return { done, abort: () => req.destroy() };
}

/**
 * A quick request in a session that does not exist: 404 once admitted, 429 or 503 while a cap
 * refuses it. Why: the limit tests probe whether a slot is free without opening a session.
 */
export function pingUnknownSession(base: string, token: string): Promise<RawResponse> {
  return rawRequest(base, { headers: mcpHeaders(token, { 'mcp-session-id': 'no-such-session' }), body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
}

/** A policy letting group analysts read `tables` with query_database on the analytics connection. */
export function analystsReadPolicy(tables: string[]): string {
  return `
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [${tables.join(', ')}] }
`;
}

/**
 * A refusal of the HTTP caps (http-limits.ts): `status`, Retry-After, Connection: close, and the
 * JSON-RPC error body every refusal carries, whose message starts with `start` and names `limitKey`.
 */
export function assertCapRefusal(r: RawResponse, status: number, retryAfter: string, start: RegExp, limitKey: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['retry-after'], retryAfter);
  assert.equal(r.headers.connection, 'close');
  const body = JSON.parse(r.body) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, null);
  assert.equal(body.error.code, -32000);
  assert.match(body.error.message, start);
  assert.ok(body.error.message.includes(limitKey), body.error.message);
}
