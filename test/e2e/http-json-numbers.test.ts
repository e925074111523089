/**
 * A number JSON.parse can only round, sent over real Streamable HTTP: a query parameter
 * `9007199254740993` ran (and was recorded) as 9007199254740992. It is refused with its path, as
 * over stdio (input-guard.ts); the same value as a string, and the largest exact integer, run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mcpHeaders, rawRequest } from '../support/http-agent.js';
import { SRE_READ_ORDERS, startHttpWarden, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': SRE_READ_ORDERS });
});
after(() => w?.stop());

const V = '2025-11-25';

test('over HTTP, a number past 2^53 - 1 in arguments is refused and recorded; its string form and 2^53 - 1 run', async () => {
  const alice = await w.token('alice', ['sre']);
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  const opened = await rawRequest(w.url, { headers: mcpHeaders(alice), body: init });
  assert.equal(opened.status, 200, opened.body);
  const h = { 'mcp-session-id': String(opened.headers['mcp-session-id']), 'mcp-protocol-version': V };
  await rawRequest(w.url, { headers: mcpHeaders(alice, h), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  // Raw bodies: JSON.stringify could not write the agent's digits.
  const post = (id: number, p: string) =>
    rawRequest(w.url, {
      headers: mcpHeaders(alice, h),
      body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"analytics","sql":"SELECT $1::text AS v, 'num-${id}' AS m FROM orders LIMIT 1","params":[${p}]}}}`,
    });
  const refused = await post(2, '9007199254740993');
  assert.equal(refused.status, 200, refused.body);
  assert.match(refused.body, /WARDEN_INVALID_INPUT: arguments contain a number past 2\^53 - 1 at params\.0/);
  assert.doesNotMatch(refused.body, /9007199254740992\\t/, 'nothing ran');
  const asString = await post(3, '"9007199254740993"');
  assert.match(asString.body, /9007199254740993\\tnum-3/, asString.body);
  const largest = await post(4, '9007199254740991');
  assert.match(largest.body, /9007199254740991\\tnum-4/, largest.body);
  const rows = w.calls().filter((c) => String(c.args).includes('num-2'));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.error_code, 'WARDEN_INVALID_INPUT');
});
