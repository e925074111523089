/**
 * A call cancelled with `notifications/cancelled` in a stateful (2025-11-25) session, over real
 * HTTP: its POST's SSE answer is ended by the server, so the request's slot
 * (http.max_requests_per_principal) comes back although no response is ever sent for it. Why: the
 * SDK sends no response for a cancelled request and so never ended the POST that carried it;
 * every cancel by a client that keeps its connection (an MCP client need not abort the POST it
 * cancelled) held one of the identity's slots for good, and after max_requests_per_principal of
 * them the identity got 429 on everything, as long as the client stayed connected.
 */
import { after, before, test } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { mcpHeaders, pingUnknownSession, rawRequest } from '../support/http-agent.js';
import { lockTable, sqlCallBody, SRE_READ_AND_SLOW_CONFIRM, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

const POLICY = SRE_READ_AND_SLOW_CONFIRM;
let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY }, 'http: { max_requests_per_principal: 3 }');
});
after(() => w?.stop());

const V = '2025-11-25';
const h = (sid: string) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': V });
const call = sqlCallBody;
const cancel = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'user stopped it' } });

test('a cancelled call\'s POST is ended by the server and its slot comes back; another session\'s cancel ends nothing', async () => {
  const alice = await w.token('alice', ['sre']);
  const open = async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const r = await rawRequest(w.url, { headers: mcpHeaders(alice), body });
    assert.equal(r.status, 200, r.body);
    const sid = String(r.headers['mcp-session-id']);
    await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    return sid;
  };
  const sid = await open();
  const other = await open();
  const release = await lockTable(w.db, 'orders');
  try {
    const ended: Record<number, string> = {};
    const posts = [8, 9].map((id) =>
      rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(id, 'SELECT id, total FROM orders') }).then(
        (r) => void (ended[id] = `${r.status} ${r.body}`),
        (e: Error) => void (ended[id] = `error ${e.message}`),
      ),
    );
    // Both calls run: their statements wait on the lock in PostgreSQL.
    await until(async () => Number((await w.db.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM orders%'`)).rows[0]?.n) === 2, 5000, 'both calls to wait on the lock');
    // A cancel sent in another session of hers names the same ids: it ends nothing here.
    assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(other)), body: cancel(8) })).status, 202);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(ended, {}, 'a cancel from another session ended a call\'s POST');
    for (const id of [8, 9]) assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: cancel(id) })).status, 202);
    await until(() => Object.keys(ended).length === 2, 5000, 'the cancelled calls\' POSTs to end');
    for (const id of [8, 9]) {
      assert.match(ended[id]!, /^200 /, 'the SSE answer ended normally');
      assert.doesNotMatch(ended[id]!, /"result"/, 'a cancelled request gets no response');
    }
    await Promise.all(posts);
    await until(async () => (await pingUnknownSession(w.url, alice)).status === 404, 5000, 'alice\'s slots to come back');
    // The calls were aborted (their statements cancelled while they waited) and recorded so.
    await until(() => w.calls().filter((c) => c.error_code === 'WARDEN_CANCELLED').length === 2, 5000, 'both calls recorded WARDEN_CANCELLED');
  } finally {
    await release();
  }
  // The session still serves, and the cancelled ids are free again.
  const again = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: call(8, 'SELECT name FROM users') });
  assert.equal(again.status, 200, again.body);
  assert.match(again.body, /Alice/);
});

test('at its cap an identity can still cancel a call (a notification) and answer the server (a response); a request is still refused 429', async () => {
  const bob = await w.token('bob', ['sre']);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  const r = await rawRequest(w.url, { headers: mcpHeaders(bob), body });
  const sid = String(r.headers['mcp-session-id']);
  await rawRequest(w.url, { headers: mcpHeaders(bob, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  const release = await lockTable(w.db, 'orders');
  try {
    const ended: Record<number, string> = {};
    const posts = [20, 21, 22].map((id) =>
      rawRequest(w.url, { headers: mcpHeaders(bob, h(sid)), body: call(id, 'SELECT id, total FROM orders') }).then(
        (x) => void (ended[id] = `${x.status}`),
        () => void (ended[id] = 'error'),
      ),
    );
    await until(async () => Number((await w.db.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM orders%'`)).rows[0]?.n) === 3, 5000, 'the three calls to wait on the lock');
    // At the cap (3): a request is refused as before, its body read or not.
    const refused = await rawRequest(w.url, { headers: mcpHeaders(bob, h(sid)), body: call(23, 'SELECT name FROM users') });
    assert.equal(refused.status, 429, refused.body);
    assert.match(refused.body, /WARDEN_RATE_LIMITED: this identity \(issuer and subject\) holds as many requests in flight \(3, http\.max_requests_per_principal\)/);
    assert.equal(refused.headers['retry-after'], '1');
    // A response to a request the server never sent is taken (202) and ignored, as the SDK does.
    const answer = await rawRequest(w.url, { headers: mcpHeaders(bob, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', id: 'elicit-1', result: { action: 'decline' } }) });
    assert.equal(answer.status, 202, answer.body);
    // The cancel of a call is taken, and ends that call's POST.
    const c = await rawRequest(w.url, { headers: mcpHeaders(bob, h(sid)), body: cancel(20) });
    assert.equal(c.status, 202, c.body);
    await until(() => ended[20] !== undefined, 5000, 'the cancelled call\'s POST to end');
    assert.equal(ended[21], undefined);
    await release();
    await Promise.all(posts);
  } finally {
    await release().catch(() => undefined);
  }
});

/** A POST whose SSE answer is read as it comes. */
function postStream(token: string, sid: string, body: string) {
  const u = new URL(w.url);
  let data = '';
  let status = 0;
  const done = new Promise<void>((resolve) => {
    const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/mcp', headers: { ...mcpHeaders(token, h(sid)), 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
  return { text: () => data, status: () => status, done };
}

test('calls waiting for the requester\'s confirmation hold the identity\'s cap: the confirmation can still be answered and the call runs', async () => {
  const carol = await w.token('carol', ['sre']);
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities: { elicitation: { form: {} } }, clientInfo: { name: 'raw', version: '1' } } });
  const r = await rawRequest(w.url, { headers: mcpHeaders(carol), body: init });
  const sid = String(r.headers['mcp-session-id']);
  await rawRequest(w.url, { headers: mcpHeaders(carol, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  // The confirmations come on the session's GET stream.
  const u = new URL(w.url);
  let events = '';
  const get = request({ host: u.hostname, port: u.port, method: 'GET', path: '/mcp', headers: { accept: 'text/event-stream', authorization: `Bearer ${carol}`, ...h(sid) } }, (res) => res.on('data', (d: Buffer) => (events += d.toString())));
  get.on('error', () => undefined);
  get.end();
  try {
    await new Promise((r) => setTimeout(r, 300));
    const calls = [30, 31, 32].map((id) => postStream(carol, sid, call(id, 'SELECT id FROM slow')));
    const questions = () => [...events.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]!) as { id: number | string; method?: string; params?: { message?: string } }).filter((m) => m.method === 'elicitation/create');
    await until(() => questions().length === 3, 5000, 'the three calls to ask for confirmation');
    // All three of carol's slots wait on her: a request is refused, her answers are taken.
    assert.equal((await pingUnknownSession(w.url, carol)).status, 429);
    const [q1, ...rest] = questions();
    const yes = JSON.stringify({ jsonrpc: '2.0', id: q1!.id, result: { action: 'accept', content: { confirm: true } } });
    const answered = await rawRequest(w.url, { headers: mcpHeaders(carol, h(sid)), body: yes });
    assert.equal(answered.status, 202, answered.body);
    for (const q of rest) {
      const no = JSON.stringify({ jsonrpc: '2.0', id: q.id, result: { action: 'decline' } });
      assert.equal((await rawRequest(w.url, { headers: mcpHeaders(carol, h(sid)), body: no })).status, 202);
    }
    await Promise.all(calls.map((c) => c.done));
    const texts = calls.map((c) => c.text());
    assert.equal(texts.filter((t) => /"result":\{/.test(t) && !/"isError":true/.test(t)).length, 1, texts.join('\n'));
    assert.equal(texts.filter((t) => /declined/.test(t)).length, 2, texts.join('\n'));
  } finally {
    get.destroy();
  }
});
