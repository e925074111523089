/**
 * The MCP protocol surface of `warden serve --http`, both eras: a 2025-11-25 session and
 * 2026-07-28 per-request calls, spoken in raw JSON-RPC over real HTTP with real tokens. Warden
 * advertises tools only; every other method the SDK knows (resources, prompts, completions,
 * logging/setLevel, tasks/*, the client-side methods) is answered Method not found and runs or
 * records nothing, and a tools/call that asks to run as a task runs through the pipeline as a
 * plain call (recorded, answered inline), so there is no task whose result another session
 * could fetch. A guard for SDK upgrades: the SDK registers handlers by capability, so a
 * capability added by accident (logging, tasks) would open a method outside the pipeline.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { httpWardenForFile, SRE_READ_ORDERS } from '../support/http-warden.js';
import { setLogLevel } from '../../src/server/log.js';

const warden = httpWardenForFile({ 'base.yaml': SRE_READ_ORDERS });
// startHttpWarden silences the process-wide log; files grouped after this one read it (at-rest-runtime).
after(() => setLogLevel('info'));

/** Every method outside tools/list, tools/call, initialize, ping and server/discover, with params of the right shape. */
const OTHER_METHODS: [string, Record<string, unknown>][] = [
  ['resources/list', {}],
  ['resources/templates/list', {}],
  ['resources/read', { uri: 'file:///etc/passwd' }],
  ['resources/subscribe', { uri: 'file:///etc/passwd' }],
  ['resources/unsubscribe', { uri: 'file:///etc/passwd' }],
  ['prompts/list', {}],
  ['prompts/get', { name: 'x' }],
  ['completion/complete', { ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: 'b' } }],
  ['logging/setLevel', { level: 'debug' }],
  ['tasks/get', { taskId: 'x' }],
  ['tasks/result', { taskId: 'x' }],
  ['tasks/list', {}],
  ['tasks/cancel', { taskId: 'x' }],
  ['sampling/createMessage', { messages: [], maxTokens: 1 }],
  ['roots/list', {}],
  ['elicitation/create', { mode: 'form', message: 'x', requestedSchema: { type: 'object', properties: {} } }],
  ['warden/anything', {}],
];

const ORDERS = { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' };

/** The JSON-RPC message of an answer, JSON or one SSE event. */
function message(body: string): Record<string, any> {
  const data = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  return JSON.parse(data.length ? data.at(-1)! : body) as Record<string, any>;
}

/** A 2025-11-25 session: its POST function. */
async function session(token: string): Promise<(m: Record<string, unknown>) => Promise<Record<string, any>>> {
  const init = await rawRequest(warden().url, { headers: mcpHeaders(token), body: initializeBody() });
  assert.equal(init.status, 200, init.body);
  assert.deepEqual(message(init.body).result.capabilities, { tools: { listChanged: false } }, 'a session is offered tools only');
  const h = { 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': '2025-11-25' };
  const done = await rawRequest(warden().url, { headers: mcpHeaders(token, h), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  assert.equal(done.status, 202, done.body);
  return async (m) => {
    const r = await rawRequest(warden().url, { headers: mcpHeaders(token, h), body: JSON.stringify({ jsonrpc: '2.0', ...m }) });
    return r.body ? message(r.body) : { status: r.status };
  };
}

/** A 2026-07-28 per-request POST. */
async function perRequest(token: string, m: { id: number; method: string; params: Record<string, unknown> }): Promise<Record<string, any>> {
  const params = { ...m.params, _meta: { [PROTOCOL_VERSION_META_KEY]: '2026-07-28', [CLIENT_CAPABILITIES_META_KEY]: {}, [CLIENT_INFO_META_KEY]: { name: 'raw', version: '1' } } };
  const name = [m.params.name, m.params.uri, m.params.taskId].find((v) => typeof v === 'string') as string | undefined;
  const headers = mcpHeaders(token, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': m.method, ...(name ? { 'mcp-name': name } : {}) });
  const r = await rawRequest(warden().url, { headers, body: JSON.stringify({ jsonrpc: '2.0', ...m, params }) });
  return r.body ? message(r.body) : { status: r.status };
}

const callRows = () => warden().calls().length;

for (const era of ['2025-11-25 session', '2026-07-28 per request'] as const) {
  test(`${era}: every method but tools/* is Method not found and records nothing`, async () => {
    const token = await warden().token('alice', ['sre']);
    const send = era === '2025-11-25 session' ? await session(token) : (m: { id: number; method: string; params: Record<string, unknown> }) => perRequest(token, m);
    const before = callRows();
    let id = 10;
    for (const [method, params] of OTHER_METHODS) {
      const a = await send({ id: ++id, method, params });
      assert.equal(a.error?.code, -32601, `${method}: ${JSON.stringify(a).slice(0, 300)}`);
      assert.equal(a.id, id, method);
      assert.equal(a.result, undefined, method);
    }
    assert.equal(callRows(), before, 'nothing was recorded');
  });

  test(`${era}: a tools/call asking to run as a task runs inline through the pipeline; no task exists to fetch`, async () => {
    const token = await warden().token('alice', ['sre']);
    const send = era === '2025-11-25 session' ? await session(token) : (m: { id: number; method: string; params: Record<string, unknown> }) => perRequest(token, m);
    const before = callRows();
    const a = await send({ id: 7, method: 'tools/call', params: { name: 'query_database', arguments: ORDERS, task: { ttl: 60_000 } } });
    assert.equal(a.result?.isError, undefined, JSON.stringify(a));
    assert.equal(a.result?.task, undefined, 'no CreateTaskResult: the call was answered inline');
    assert.deepEqual(a.result?.structuredContent?.rows, [[1]], JSON.stringify(a));
    assert.equal(callRows(), before + 1, 'the call was recorded like any other');
    // Another identity, in its own session or request, finds no task under any id.
    const other = await warden().token('bob', ['sre']);
    const otherSend = era === '2025-11-25 session' ? await session(other) : (m: { id: number; method: string; params: Record<string, unknown> }) => perRequest(other, m);
    const callId = a.result?._meta?.['warden/call']?.call_id as string;
    for (const taskId of [callId, '7', '0']) {
      const r = await otherSend({ id: 8, method: 'tasks/result', params: { taskId } });
      assert.equal(r.error?.code, -32601, JSON.stringify(r));
    }
  });
}

test('2026-07-28 server/discover offers tools only, as initialize does', async () => {
  const token = await warden().token('alice', ['sre']);
  const a = await perRequest(token, { id: 1, method: 'server/discover', params: {} });
  assert.deepEqual(a.result?.capabilities, { tools: { listChanged: false } }, JSON.stringify(a));
  assert.deepEqual(a.result?.supportedVersions, ['2026-07-28']);
});
