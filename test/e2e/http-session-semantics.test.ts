/**
 * Red-team of MCP session semantics over real HTTP: a request id reused while a request of that
 * id is still in flight in the session (the SDK re-pointed the id at the new POST, so the first
 * call's answer was lost and its POST hung, holding its slot), a protocol version other than the
 * session's in MCP-Protocol-Version mid-session, two Authorization headers, and the held ones
 * that matter most: an elicitation answered from another session or principal, a cancel from
 * another session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mcpHeaders, rawRequest } from '../support/http-agent.js';
import { lockTable, sqlCallBody, SRE_READ_AND_SLOW_CONFIRM, startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const POLICY = SRE_READ_AND_SLOW_CONFIRM;

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

const V = '2025-11-25';
const h = (sid: string, extra: Record<string, string> = {}) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': V, ...extra });
const call = sqlCallBody;
const list = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'timed out' as const)]);

/** Open a session as a raw 2025-11-25 client; its id. */
async function open(token: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities, clientInfo: { name: 'raw', version: '1' } } });
  const r = await rawRequest(w.url, { headers: mcpHeaders(token), body });
  assert.equal(r.status, 200, r.body);
  const sid = String(r.headers['mcp-session-id']);
  await rawRequest(w.url, { headers: mcpHeaders(token, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return sid;
}

/** The session's GET SSE stream, read as it comes. */
function stream(token: string, sid: string) {
  const u = new URL(w.url);
  let data = '';
  const req = request({ host: u.hostname, port: u.port, method: 'GET', path: '/mcp', headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...h(sid) } }, (res) => {
    res.on('data', (d: Buffer) => (data += d.toString()));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return { text: () => data, close: () => req.destroy() };
}

describe('MCP session semantics over HTTP', () => {
  test('a request id already in flight in the session is refused; the first call keeps its answer', async () => {
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    const release = await lockTable(w.db, 'orders');
    let first: Promise<{ status: number; body: string }>;
    try {
      first = rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(7, 'SELECT id, total FROM orders') });
      await sleep(400);
      const again = await within(rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(7, 'SELECT name FROM users') }), 5000);
      assert.notEqual(again, 'timed out');
      if (again === 'timed out') return;
      assert.equal(again.status, 409, again.body);
      assert.match(again.body, /already in flight/);
      assert.match(again.body, /"id":null/, 'the refusal is not addressed to the first request');
      // The same id as a string is another id (JSON-RPC compares them as they are).
      const asString = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call('7', 'SELECT name FROM users') });
      assert.equal(asString.status, 200, asString.body);
      assert.match(asString.body, /Alice/);
    } finally {
      await release();
    }
    const answered = await within(first, 8000);
    assert.notEqual(answered, 'timed out', 'the first call never got its answer');
    if (answered === 'timed out') return;
    assert.match(answered.body, /total/);
    // Once answered, the id is free again.
    const reused = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(7, 'SELECT name FROM users') });
    assert.equal(reused.status, 200, reused.body);
    assert.match(reused.body, /Alice/);
  });

  test('a cancelled request frees its id', async () => {
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    const release = await lockTable(w.db, 'orders');
    try {
      const first = rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(8, 'SELECT id, total FROM orders') }).catch(() => undefined);
      await sleep(400);
      const cancel = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 8 } }) });
      assert.equal(cancel.status, 202);
      const next = await within(rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(8, 'SELECT name FROM users') }), 5000);
      assert.ok(next !== 'timed out' && next.status === 200 && /Alice/.test(next.body), JSON.stringify(next));
      void first;
    } finally {
      await release();
    }
  });

  test('a notifications/cancelled sent with an id (a request, which cancels nothing) does not free the id it names', async () => {
    // Red-team: the SDK reads a message with an id as a request (answered "method not found", the
    // call not aborted), yet the tracker freed the id it named; the id was then reused while its
    // call still ran, the first call's answer went to the second POST and the first POST hung.
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    const release = await lockTable(w.db, 'orders');
    let first: Promise<{ status: number; body: string }>;
    try {
      first = rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(12, 'SELECT id, total FROM orders') });
      await sleep(400);
      const fake = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', id: 120, method: 'notifications/cancelled', params: { requestId: 12 } }) });
      assert.match(fake.body, /"id":120/, 'answered as the request it is');
      const again = await within(rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(12, 'SELECT name FROM users') }), 5000);
      assert.ok(again !== 'timed out' && again.status === 409, JSON.stringify(again));
    } finally {
      await release();
    }
    const answered = await within(first, 8000);
    assert.ok(answered !== 'timed out' && /total/.test(answered.body), 'the first call keeps its answer');
  });

  test('a request the transport refuses before running it (406) does not hold its id', async () => {
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    const refused = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid, { accept: 'application/json' })), body: list(9) });
    assert.equal(refused.status, 406, refused.body);
    const r = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(9) });
    assert.equal(r.status, 200, r.body);
  });

  test('MCP-Protocol-Version other than the session’s is refused mid-session (no downgrade)', async () => {
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    for (const v of ['2025-03-26', '2025-06-18', '2024-11-05']) {
      const r = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid, { 'mcp-protocol-version': v })), body: list(3) });
      assert.equal(r.status, 400, `${v}: ${r.body.slice(0, 200)}`);
      assert.match(r.body, /2025-11-25/);
    }
    const ok = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(4) });
    assert.equal(ok.status, 200);
    const none = await rawRequest(w.url, { headers: mcpHeaders(alice, { 'mcp-session-id': sid }), body: list(5) });
    assert.equal(none.status, 200, 'absent, the session’s version is assumed');
  });

  test('two Authorization headers are refused (RFC 6750 invalid_request), whichever comes first', async () => {
    const alice = await w.token('alice', ['sre']);
    const bob = await w.token('bob', ['sre']);
    const sid = await open(alice);
    for (const pair of [[bob, alice], [alice, bob], [alice, alice]]) {
      const headers = { ...mcpHeaders(undefined, h(sid)), authorization: pair.map((t) => `Bearer ${t}`) as unknown as string };
      const r = await rawRequest(w.url, { headers, body: list(6) });
      assert.equal(r.status, 400, r.body);
      assert.match(String(r.headers['www-authenticate']), /invalid_request/);
    }
  });

  test('an elicitation is answered only from its own session: not another session of the same principal, not another principal, not a cancel from elsewhere', async () => {
    const alice = await w.token('alice', ['sre']);
    const bob = await w.token('bob', ['sre']);
    const a = await open(alice, { elicitation: { form: {} } });
    const b = await open(alice, { elicitation: { form: {} } });
    const get = stream(alice, a);
    try {
      await sleep(300);
      const pending = rawRequest(w.url, { headers: mcpHeaders(alice, h(a)), body: call(11, 'SELECT id FROM slow') });
      const start = Date.now();
      while (!/elicitation\/create/.test(get.text()) && Date.now() - start < 5000) await sleep(50);
      const id = Number(/"method":"elicitation\/create".*"id":(\d+)/.exec(get.text())?.[1] ?? /"id":(\d+)/.exec(get.text())?.[1]);
      assert.ok(Number.isInteger(id), get.text());
      const yes = JSON.stringify({ jsonrpc: '2.0', id, result: { action: 'accept', content: { confirm: true } } });
      assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(b)), body: yes })).status, 202);
      assert.equal((await rawRequest(w.url, { headers: mcpHeaders(bob, h(a)), body: yes })).status, 403);
      assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(b)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 11 } }) })).status, 202);
      assert.equal(await within(pending, 800), 'timed out', 'an answer or cancel from elsewhere settled the call');
      // The owner's own answer, on its own session, settles it.
      assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(a)), body: yes })).status, 202);
      const done = await within(pending, 5000);
      assert.ok(done !== 'timed out' && /slow-confirm/.test(done.body) && !/isError":true/.test(done.body), JSON.stringify(done));
    } finally {
      get.close();
    }
  });
});
