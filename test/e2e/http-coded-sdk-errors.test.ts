/**
 * The error bodies the MCP SDK's HTTP layer writes itself (its session transport and its
 * per-request handler) carry a WARDEN_* code over real HTTP, keeping the SDK's HTTP status and
 * JSON-RPC code, with a Content-Length that matches the rewritten body (http-coded-bodies.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initializeBody, mcpHeaders, rawRequest, type RawResponse } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': 'rules:\n  - id: sre-read\n    effect: allow\n    who: { groups: [sre] }\n    tool: query_database\n    on: [analytics]\n    sql: { statements: [select], read: [public.orders] }\n' });
});
after(() => w?.stop());

/** The JSON-RPC error of a JSON answer, after checking its Content-Length is the body's byte length. */
function errorOf(r: RawResponse): { code: number; message: string; data?: unknown } {
  assert.equal(String(r.headers['content-type']).split(';')[0], 'application/json', r.body);
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body), r.body);
  return (JSON.parse(r.body) as { error: { code: number; message: string; data?: unknown } }).error;
}

test('the SDK transport\'s own refusals in a session are coded, status and JSON-RPC code kept', async () => {
  const token = await w.token('alice', ['sre']);
  const init = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
  assert.equal(init.status, 200, init.body);
  const h = { 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': '2025-11-25' };

  const again = await rawRequest(w.url, { headers: mcpHeaders(token, h), body: initializeBody() });
  assert.equal(again.status, 400, again.body);
  assert.deepEqual(errorOf(again), { code: -32600, message: 'WARDEN_INVALID_INPUT: Invalid Request: Server already initialized; nothing ran' });

  const accept = await rawRequest(w.url, { headers: { ...mcpHeaders(token, h), accept: 'application/json' }, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
  assert.equal(accept.status, 406, accept.body);
  const e = errorOf(accept);
  assert.equal(e.code, -32000);
  assert.match(e.message, /^WARDEN_INVALID_INPUT: Not Acceptable: .+; nothing ran$/);

  const schema = await rawRequest(w.url, { headers: mcpHeaders(token, h), body: '{"jsonrpc":"2.0","id":"p","method":"tools/call","params":[]}' });
  assert.equal(schema.status, 400, schema.body);
  assert.deepEqual(errorOf(schema), { code: -32700, message: 'WARDEN_INVALID_INPUT: Parse error: Invalid JSON-RPC message; nothing ran' });
});

test('the per-request handler\'s unsupported-version refusal is coded and keeps its list of supported versions', async () => {
  const token = await w.token('alice', ['sre']);
  const r = await rawRequest(w.url, { headers: mcpHeaders(token), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  assert.equal(r.status, 400, r.body);
  const e = errorOf(r);
  assert.equal(e.code, -32022);
  assert.match(e.message, /^WARDEN_INVALID_INPUT: Unsupported protocol version: .+; nothing ran$/);
  assert.ok(Array.isArray((e.data as { supported?: unknown }).supported), r.body);
});

test('an OAuth refusal names its code beside error and error_description', async () => {
  const r = await rawRequest(w.url, { headers: mcpHeaders(), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  assert.equal(r.status, 401, r.body);
  assert.deepEqual(JSON.parse(r.body), { error: 'invalid_token', error_description: 'a bearer token is required', code: 'WARDEN_UNAUTHENTICATED' });
});
