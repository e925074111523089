/**
 * The MCP surface beyond a plain tools/call, attacked over real Streamable HTTP with real tokens,
 * both eras (a red-team pass; these held, kept as regressions): a per-request (2026-07-28) call
 * whose POST the agent closes while it waits for approval runs nothing when approved later, and
 * the approval stays for the identical call; JSON-RPC ids that are no string or safe integer are
 * refused and record nothing; prototype keys in `arguments` neither run nor reach the transcript
 * as fields; the tool descriptors of tools/list carry no connection name, URL, host, port, rule
 * id or policy path, whatever the principal may use.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';
import type { Principal } from '../../src/tool-api.js';

const POLICY = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
  - id: reviewed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 30s }
`;
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const ENVELOPE = { [PROTOCOL_VERSION_META_KEY]: '2026-07-28', [CLIENT_CAPABILITIES_META_KEY]: {}, [CLIENT_INFO_META_KEY]: { name: 'raw', version: '1' } };

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  await w.db.query(`GRANT UPDATE ON orders TO ${w.db.role}`);
});
after(() => w?.stop());

/** The JSON-RPC message of an answer, JSON or the last SSE event. */
function message(body: string): Record<string, any> {
  const data = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  return JSON.parse(data.length ? data.at(-1)! : body) as Record<string, any>;
}

/** A 2025-11-25 session: POST a raw body in it. */
async function session(token: string): Promise<(body: string) => Promise<{ status: number; m: Record<string, any> }>> {
  const init = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
  assert.equal(init.status, 200, init.body);
  const h = { 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': '2025-11-25' };
  await rawRequest(w.url, { headers: mcpHeaders(token, h), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return async (body) => {
    const r = await rawRequest(w.url, { headers: mcpHeaders(token, h), body });
    return { status: r.status, m: r.body ? message(r.body) : {} };
  };
}

const total = async (id: number) => String((await w.db.query(`SELECT total FROM orders WHERE id = ${id}`)).rows[0]!.total);
const orderRead = (id: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"analytics","sql":"SELECT id FROM orders WHERE id = 1"}}}`;

test('2026-07-28: a call whose POST the agent closes while it waits for approval runs nothing when approved; the identical call then runs once on it', async () => {
  const token = await w.token('alice', ['sre']);
  const sql = 'UPDATE orders SET total = 909 WHERE id = 9';
  const before = await total(9);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql }, _meta: ENVELOPE } });
  const u = new URL(w.url);
  const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/mcp', headers: mcpHeaders(token, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'query_database' }) });
  req.on('error', () => undefined);
  req.end(body);
  const pending = async () => (await w.rt.approvals!.list({ state: 'pending' })).find((a) => JSON.stringify(a).includes('total = 909'));
  await until(async () => (await pending()) !== undefined, 15_000, 'the pending request');
  const id = (await pending())!.id;
  req.destroy();
  const row = () => w.calls().find((c) => String(c.args).includes(sql));
  await until(() => typeof row()?.error_code === 'string', 15_000, 'the closed call\'s outcome recorded');
  assert.equal(row()!.error_code, 'WARDEN_APPROVAL_PENDING', JSON.stringify(row()));
  await w.rt.approvals!.approve(id, dana);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await total(9), before, 'nobody waits for the call: the approval ran nothing');
  assert.equal((await w.rt.approvals!.get(id))?.state, 'approved', 'the approval stays for the identical call');
  const again = await rawRequest(w.url, { headers: mcpHeaders(token, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'query_database' }), body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql }, _meta: ENVELOPE } }) });
  assert.equal(message(again.body).result?.isError, undefined, again.body);
  assert.equal(await total(9), '909');
  assert.equal((await w.rt.approvals!.get(id))?.state, 'used');
});

test('2025-11-25: request ids that are no string or safe integer are refused and record nothing; -1, 0 written -0 and "" are served', async () => {
  const send = await session(await w.token('alice', ['sre']));
  const before = w.calls().length;
  for (const id of ['null', '1.5', '1e400', '9007199254740993', '{"a":1}', '[1]', 'true']) {
    const r = await send(orderRead(id));
    assert.equal(r.status, 400, `id ${id}: ${JSON.stringify(r)}`);
    assert.equal(r.m.result, undefined, `id ${id}`);
  }
  assert.equal(w.calls().length, before, 'nothing of them ran or was recorded');
  for (const [id, echoed] of [['-1', -1], ['-0', 0], ['""', '']] as const) {
    const r = await send(orderRead(id));
    assert.equal(r.m.id, echoed, JSON.stringify(r));
    assert.deepEqual(r.m.result?.structuredContent?.rows, [[1]], JSON.stringify(r));
  }
  assert.equal(w.calls().length, before + 3);
});

test('prototype keys in arguments: __proto__ neither runs nor is recorded as a field; constructor is refused as any unknown key and recorded', async () => {
  const send = await session(await w.token('alice', ['sre']));
  const proto = await send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"analytics","sql":"SELECT id FROM orders WHERE id = 2","__proto__":{"sql":"SELECT id FROM orders","max_rows":100000}}}}`);
  assert.deepEqual(proto.m.result?.structuredContent?.rows, [[2]], 'the call ran as sent without the key, nothing taken from it');
  const callId = proto.m.result?._meta?.['warden/call']?.call_id as string;
  const recorded = w.calls().find((c) => c.id === callId)!;
  assert.doesNotMatch(String(recorded.args), /__proto__|max_rows/, String(recorded.args));
  const ctor = await send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"analytics","sql":"SELECT 1","constructor":{"prototype":{"x":1}}}}}`);
  assert.equal(ctor.m.result?.isError, true);
  assert.equal(ctor.m.result?.structuredContent?.error?.code, 'WARDEN_INVALID_INPUT');
  const refused = w.calls().find((c) => c.id === ctor.m.result?._meta?.['warden/call']?.call_id)!;
  assert.equal(refused.error_code, 'WARDEN_INVALID_INPUT');
});

test('tools/list descriptors carry no connection name, URL, host, port, rule id or policy path, for a granted principal or none', async () => {
  const db = new URL(w.db.url);
  for (const [sub, groups] of [['alice', ['sre']], ['bob', []]] as const) {
    const token = await w.token(sub, [...groups]);
    const session2025 = await session(token);
    const listed = [
      JSON.stringify((await session2025('{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}}')).m.result),
      (await rawRequest(w.url, { headers: mcpHeaders(token, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }), body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: ENVELOPE } }) })).body,
    ];
    for (const text of listed) {
      assert.match(text, /query_database|list_connections/, 'a listing came back');
      for (const secret of ['analytics', db.hostname, `:${db.port}`, db.username, db.pathname.slice(1), 'sre-read', 'reviewed-update', w.dir.configPath, 'base.yaml', w.issuer.issuer]) {
        assert.equal(text.includes(secret), false, `${sub}'s listing names ${secret}`);
      }
    }
  }
});
