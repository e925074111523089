/**
 * An MCP session over HTTP has a maximum lifetime (http.session_max_lifetime): every request is
 * authenticated anew, but a session kept busy was never closed, so it held its server state (and
 * a per-principal slot) for as long as its client liked. Past its lifetime a request in it is
 * answered 404 with WARDEN_SESSION_EXPIRED, and the client initializes again; a call already in
 * flight when the lifetime ends still gets its answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { lockTable, spawnHttpWarden, sqlCallBody, SRE_READ_AND_SLOW_CONFIRM, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

const LIFETIME_MS = 2000;
let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': SRE_READ_AND_SLOW_CONFIRM }, 'http: { session_max_lifetime: 2s }');
});
after(() => w?.stop());

const V = '2025-11-25';
const h = (sid: string) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': V });
const list = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function open(token: string): Promise<string> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  const r = await rawRequest(w.url, { headers: mcpHeaders(token), body });
  assert.equal(r.status, 200, r.body);
  const sid = String(r.headers['mcp-session-id']);
  await rawRequest(w.url, { headers: mcpHeaders(token, h(sid)), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return sid;
}

describe('MCP session maximum lifetime', () => {
  test('past its lifetime a session answers WARDEN_SESSION_EXPIRED; a call in flight keeps its answer', async () => {
    const alice = await w.token('alice', ['sre']);
    const sid = await open(alice);
    // The session was registered before its initialize was answered: it expires before opened + LIFETIME_MS.
    const opened = Date.now();
    assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(2) })).status, 200, 'young: served');
    const release = await lockTable(w.db, 'orders');
    let first: Promise<{ status: number; body: string }>;
    try {
      first = rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: sqlCallBody(3, 'SELECT id, total FROM orders') });
      // Past the lifetime (a lower bound, not a latency assertion), and past a sweep of the registry.
      await sleep(opened + LIFETIME_MS + 1500 - Date.now());
      const late = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(4) });
      assert.equal(late.status, 404, late.body);
      assert.match(late.body, /WARDEN_SESSION_EXPIRED: .*initialize/);
    } finally {
      await release();
    }
    const answered = await first;
    assert.match(answered.body, /total/, 'the call in flight when the session expired was answered');
    const later = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(5) });
    assert.equal(later.status, 404, later.body);
    // Closed now (nothing of it in flight), and still told why: not "Session not found".
    const gone = await rawRequest(w.url, { headers: mcpHeaders(alice, h(sid)), body: list(7) });
    assert.equal(gone.status, 404, gone.body);
    assert.match(gone.body, /WARDEN_SESSION_EXPIRED: .*initialize/);
    // Another principal naming that session id is told only that it is not found.
    const carol = await w.token('carol', ['sre']);
    const foreign = await rawRequest(w.url, { headers: mcpHeaders(carol, h(sid)), body: list(8) });
    assert.doesNotMatch(foreign.body, /SESSION_EXPIRED/);
    // A fresh session of the same token works.
    const again = await open(alice);
    assert.equal((await rawRequest(w.url, { headers: mcpHeaders(alice, h(again)), body: list(6) })).status, 200);
  });

  test('a real MCP client sees the coded error and can initialize again', async () => {
    const token = await w.token('bob', ['sre']);
    const agent = await connectHttpAgent(w.url, token);
    const opened = Date.now();
    assert.ok(agent.transport.sessionId, 'a stateful session');
    try {
      assert.match((await agent.call('query_database', { connection: 'analytics', sql: 'SELECT name FROM users' })).text, /Alice/);
      await until(() => Date.now() > opened + LIFETIME_MS + 100, LIFETIME_MS + 5000, 'the lifetime to pass');
      await assert.rejects(agent.call('query_database', { connection: 'analytics', sql: 'SELECT name FROM users' }), /WARDEN_SESSION_EXPIRED: .*initialize a new session/);
    } finally {
      await agent.close();
    }
    const fresh = await connectHttpAgent(w.url, token);
    try {
      assert.match((await fresh.call('query_database', { connection: 'analytics', sql: 'SELECT name FROM users' })).text, /Alice/);
    } finally {
      await fresh.close();
    }
  });
});

describe('reviewer UI session maximum lifetime (ui.session_max_lifetime)', () => {
  const REVIEWED = `
rules:
  - id: slow-dba
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.slow] }
    approval: { reviewers: { groups: [dba] } }
`;
  let served: { url: string; stop(): Promise<void> } | undefined;
  after(() => served?.stop());

  test('a UI session ends at its configured lifetime, however busy', async () => {
    served = await spawnHttpWarden(w, { 'base.yaml': REVIEWED }, 'ui: { session_max_lifetime: 2s }', { ui: true });
    const token = await w.token('dana', ['dba']);
    const r = await rawRequest(served.url, { path: '/ui/login', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: served.url }, body: `token=${encodeURIComponent(token)}` });
    assert.equal(r.status, 303, r.body);
    const opened = Date.now();
    const setCookie = String(r.headers['set-cookie'] ?? '');
    assert.match(setCookie, /Max-Age=2\b/, 'the cookie says the session\'s lifetime');
    const cookie = setCookie.split(';')[0]!;
    const page = () => rawRequest(served!.url, { method: 'GET', path: '/ui/approvals', headers: { cookie } });
    assert.equal((await page()).status, 200, 'young: served');
    await until(() => Date.now() > opened + LIFETIME_MS + 100, LIFETIME_MS + 5000, 'the lifetime to pass');
    const late = await page();
    assert.equal(late.status, 303, 'ended: back to the login page');
    assert.match(String(late.headers.location), /\/ui\/login/);
  });
});
