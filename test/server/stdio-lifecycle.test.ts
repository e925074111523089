/**
 * The MCP lifecycle over `warden serve` on stdio, through its real pipes in raw JSON-RPC lines:
 * a request before initialize is answered -32600 (reason not_initialized) and does not run (it
 * ran); a second initialize is refused and the session keeps the client info it recorded (it was
 * re-negotiated and the transcript recorded the second client); a request whose id is in flight
 * is refused while the first runs on and answers (both ran). The real SDK client, 2025-era and
 * 2026-07-28 (auto negotiation), still initializes, lists and calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { connectWarden } from '../support/warden-process.js';
import { initializeLine, itemsWarden, line, rawWarden, type Answer } from '../support/stdio-raw.js';
import { WARDEN_BIN } from '../support/repo.js';

const fx = itemsWarden('stdio_lifecycle');

const env = fx.env;
const call = (id: unknown, marker: string) => line({ id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'db', sql: `SELECT id, '${marker}' AS m FROM items` } } });

function transcript<T>(sql: string, ...params: unknown[]): T[] {
  const t = new Database(fx.dir().dbPath, { readonly: true });
  try {
    return t.prepare(sql).all(...params) as T[];
  } finally {
    t.close();
  }
}
const recorded = (marker: string) => transcript<{ args: string }>('SELECT args FROM calls WHERE args LIKE ?', `%${marker}%`).length;

function assertRefused(a: Answer, reason: string) {
  assert.equal(a.error?.code, -32600, JSON.stringify(a));
  assert.match(a.error!.message, /^WARDEN_INVALID_INPUT: /);
  assert.deepEqual(a.error!.data, { code: 'WARDEN_INVALID_INPUT', reason });
}

test('requests before initialize are refused with their id and do not run; ping is served; the initialize result opens the session', async () => {
  const w = await rawWarden(fx.dir().configPath, env(), { initialize: false });
  try {
    await w.write(line({ id: 1, method: 'tools/list' }));
    await w.write(call(2, 'before-init'));
    await w.write(line({ id: 'p', method: 'ping' }));
    await w.until('the three answers', (a) => [1, 2, 'p'].every((id) => a.some((m) => m.id === id)));
    assertRefused(w.answer(1), 'not_initialized');
    assertRefused(w.answer(2), 'not_initialized');
    assert.match(w.answer(2).error!.message, /"tools\/call" before the session is initialized/);
    assert.deepEqual(w.answer('p').result, {});
    await w.write(initializeLine(3, 'lifecycle-early'));
    await w.until('initialize', (a) => a.some((m) => m.id === 3));
    assert.equal(w.answer(3).result?.protocolVersion, '2025-11-25');
    // No notifications/initialized: the server takes requests once it answered initialize.
    await w.write(line({ id: 4, method: 'tools/list' }));
    await w.write(call(5, 'after-init'));
    await w.until('list and call', (a) => a.some((m) => m.id === 4) && a.some((m) => m.id === 5));
    assert.ok(w.answer(4).result?.tools?.length, JSON.stringify(w.answer(4)));
    assert.match(w.answer(5).result!.content![0]!.text!, /after-init/);
  } finally {
    w.child.kill('SIGKILL');
  }
  assert.equal(recorded('before-init'), 0, 'the call before initialize was not recorded or run');
  assert.equal(recorded('after-init'), 1);
});

test('a second initialize is refused; the session keeps the client it recorded', async () => {
  const w = await rawWarden(fx.dir().configPath, env(), { initialize: false });
  try {
    await w.write(initializeLine(1, 'lifecycle-first'));
    await w.until('initialize', (a) => a.some((m) => m.id === 1));
    await w.write(line({ method: 'notifications/initialized' }));
    await w.write(line({ id: 2, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lifecycle-second', version: '2' } } }));
    await w.write(call(3, 'after-reinit'));
    await w.until('the refusal and the call', (a) => a.some((m) => m.id === 2) && a.some((m) => m.id === 3));
    assertRefused(w.answer(2), 'already_initialized');
    assert.match(w.answer(3).result!.content![0]!.text!, /after-reinit/);
  } finally {
    w.child.kill('SIGKILL');
  }
  const clients = transcript<{ client: string }>("SELECT client FROM sessions WHERE client LIKE '%lifecycle-first%' OR client LIKE '%lifecycle-second%'").map((r) => r.client);
  assert.equal(clients.length, 1, JSON.stringify(clients));
  assert.match(clients[0]!, /lifecycle-first/);
  assert.doesNotMatch(clients[0]!, /lifecycle-second/);
});

test('a list cursor that is not a string is refused -32602 with a reason (the SDK answered -32603 and a zod dump); a string cursor is served', async () => {
  const w = await rawWarden(fx.dir().configPath, env());
  try {
    await w.write(line({ id: 20, method: 'tools/list', params: { cursor: { page: 2 } } }));
    await w.write(line({ id: 21, method: 'tools/list', params: { cursor: 7 } }));
    await w.write(line({ id: 22, method: 'tools/list', params: {} }));
    await w.until('three answers', (a) => [20, 21, 22].every((id) => a.some((m) => m.id === id)));
    for (const id of [20, 21]) {
      const e = w.answer(id).error;
      assert.equal(e?.code, -32602, JSON.stringify(e));
      assert.equal(e?.data?.reason, 'invalid_cursor');
      assert.match(e?.message ?? '', /^WARDEN_INVALID_INPUT: params\.cursor .* must be a string/);
    }
    assert.ok((w.answer(22).result?.tools ?? []).length > 0, 'a list without a cursor is served');
  } finally {
    w.child.kill('SIGKILL');
  }
});

test('a request whose id is in flight is refused and does not run; the first answers; an answered id may be reused', async () => {
  const w = await rawWarden(fx.dir().configPath, env());
  // The first call waits on this lock until the duplicate has been answered.
  const locker = await fx.db().admin().connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
    await w.write(call(7, 'first-of-7'));
    await w.write(call(7, 'duplicate-of-7'));
    await w.write(call('7', 'string-7')); // "7" is another id
    await w.until('the refusal', (a) => a.some((m) => m.id === 7));
    assert.equal(w.answers().filter((m) => m.id === 7 || m.id === '7').length, 1, 'the calls wait on the lock');
    assertRefused(w.answer(7), 'id_in_flight');
    assert.match(w.answer(7).error!.message, /request id 7 is already in flight/);
    await locker.query('COMMIT');
    await w.until('the first call and the string id', (a) => a.filter((m) => m.id === 7).length === 2 && a.some((m) => m.id === '7'));
    assert.match(w.answer('7').result!.content![0]!.text!, /string-7/, JSON.stringify(w.answer('7')));
    const first = w.answers().filter((m) => m.id === 7)[1]!;
    assert.match(first.result!.content![0]!.text!, /first-of-7/, JSON.stringify(first));
    await w.write(call(7, 'reused-7'));
    await w.until('the reused id', (a) => a.filter((m) => m.id === 7).length === 3);
    assert.match(w.answers().filter((m) => m.id === 7)[2]!.result!.content![0]!.text!, /reused-7/);
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined); // no lock outlives a failed test
    locker.release();
    w.child.kill('SIGKILL');
  }
  assert.equal(recorded('duplicate-of-7'), 0, 'the duplicate was not recorded or run');
  for (const m of ['first-of-7', 'string-7', 'reused-7']) assert.equal(recorded(m), 1, m);
});

test('the real SDK client initializes, lists and calls as before, 2025-era and 2026-07-28', async () => {
  const s = await connectWarden(fx.dir().configPath, env());
  try {
    assert.deepEqual((await s.client.listTools()).tools.map((t) => t.name).includes('query_database'), true);
    const r = await s.call('query_database', { connection: 'db', sql: "SELECT id, 'sdk-legacy' AS m FROM items" });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /sdk-legacy/);
    await s.client.ping();
  } finally {
    await s.close();
  }
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_BIN, 'serve', '--config', fx.dir().configPath], env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', ...env() }, stderr: 'pipe' });
  const modern = new Client({ name: 'sdk-modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await modern.connect(transport);
  try {
    assert.equal(modern.getNegotiatedProtocolVersion(), '2026-07-28');
    assert.ok((await modern.listTools()).tools.some((t) => t.name === 'query_database'));
    const r = await modern.callTool({ name: 'query_database', arguments: { connection: 'db', sql: "SELECT id, 'sdk-modern' AS m FROM items" } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.match(JSON.stringify(r.content), /sdk-modern/);
  } finally {
    await modern.close();
  }
  assert.equal(recorded('sdk-legacy'), 1);
  assert.equal(recorded('sdk-modern'), 1);
});

/** The 2026-07-28 per-request envelope of a raw request. */
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' } };
const enveloped = (id: unknown, method: string, params: Record<string, unknown> = {}) => line({ id, method, params: { ...params, _meta: ENVELOPE } });
const envelopedCall = (id: unknown, marker: string) => enveloped(id, 'tools/call', { name: 'query_database', arguments: { connection: 'db', sql: `SELECT id, '${marker}' AS m FROM items` } });

test('after a ping (the 2025 era), a request carrying the 2026-07-28 envelope still needs initialize: refused, nothing ran (it ran uninitialized)', async () => {
  const w = await rawWarden(fx.dir().configPath, env(), { initialize: false });
  try {
    // A ping before initialize is served and pins the connection to the 2025 era (the SDK's stdio entry).
    await w.write(line({ id: 'p', method: 'ping' }));
    await w.until('ping', (a) => a.some((m) => m.id === 'p'));
    await w.write(envelopedCall(2, 'enveloped-after-ping'));
    await w.write(enveloped(3, 'tools/list'));
    await w.until('both answers', (a) => a.some((m) => m.id === 2) && a.some((m) => m.id === 3));
    for (const id of [2, 3]) {
      assertRefused(w.answer(id), 'not_initialized');
      assert.match(w.answer(id).error!.message, /send initialize and wait for its result first\. Nothing ran$/);
    }
    // Initialize opens the session as usual, and the call then runs.
    await w.write(initializeLine(4, 'lifecycle-after-ping'));
    await w.until('initialize', (a) => a.some((m) => m.id === 4));
    assert.equal(w.answer(4).result?.protocolVersion, '2025-11-25', JSON.stringify(w.answer(4)));
    await w.write(call(5, 'after-ping-init'));
    await w.until('the call', (a) => a.some((m) => m.id === 5));
    assert.match(w.answer(5).result!.content![0]!.text!, /after-ping-init/);
  } finally {
    w.child.kill('SIGKILL');
  }
  assert.equal(recorded('enveloped-after-ping'), 0, 'the enveloped call was not recorded or run');
  assert.equal(recorded('after-ping-init'), 1);
});

test('a request carrying the 2026-07-28 envelope as the first message runs without initialize (per request), as before', async () => {
  const w = await rawWarden(fx.dir().configPath, env(), { initialize: false });
  try {
    await w.write(envelopedCall(1, 'enveloped-first'));
    await w.write(enveloped(2, 'tools/list'));
    await w.until('both answers', (a) => a.some((m) => m.id === 1) && a.some((m) => m.id === 2));
    assert.match(JSON.stringify(w.answer(1).result?.content), /enveloped-first/, JSON.stringify(w.answer(1)));
    assert.ok((w.answer(2).result?.tools ?? []).length > 0, JSON.stringify(w.answer(2)));
  } finally {
    w.child.kill('SIGKILL');
  }
  assert.equal(recorded('enveloped-first'), 1);
});
