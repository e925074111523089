/**
 * Listing tools over HTTP writes no session record: a per-request (2026-07-28) listing was a
 * session of its own, and a 2025-11-25 client could open a session, list and drop it in a loop,
 * so each listing wrote a session_open and a session_close record, without bound. The session is
 * recorded with its first tool call, so every call still has its session. Real OIDC tokens, real
 * MCP clients over Streamable HTTP, the real SQLite transcript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { connectHttpAgent } from '../support/http-agent.js';
import { httpWardenForFile, SRE_READ_ORDERS } from '../support/http-warden.js';

const warden = httpWardenForFile({ 'base.yaml': SRE_READ_ORDERS });

/** Session rows and session records in the transcript. */
function sessionWrites(): { sessions: number; records: number; ids: string[] } {
  const t = new Database(warden().dir.dbPath, { readonly: true });
  try {
    const ids = (t.prepare('SELECT id FROM sessions ORDER BY open_seq').all() as { id: string }[]).map((r) => r.id);
    const records = (t.prepare(`SELECT count(*) AS n FROM records WHERE kind IN ('session_open', 'session_close')`).get() as { n: number }).n;
    return { sessions: ids.length, records, ids };
  } finally {
    t.close();
  }
}

test('tools/list over HTTP (per request, or in sessions opened and closed in a loop) writes no session record', async () => {
  const before = sessionWrites();
  const token = await warden().token('alice', ['sre']);
  const modern = await connectHttpAgent(warden().url, token, { modern: true });
  try {
    for (let i = 0; i < 15; i++) assert.ok((await modern.tools()).includes('query_database'));
  } finally {
    await modern.close();
  }
  for (let i = 0; i < 5; i++) {
    const legacy = await connectHttpAgent(warden().url, token);
    try {
      assert.ok((await legacy.tools()).includes('query_database'));
    } finally {
      await legacy.transport.terminateSession().catch(() => undefined);
      await legacy.close();
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  const now = sessionWrites();
  assert.equal(now.sessions, before.sessions, 'no session row for listings');
  assert.equal(now.records, before.records, 'no session record for listings');
});

test('every tool call over HTTP still has its session recorded, per request and in a session', async () => {
  const token = await warden().token('alice', ['sre']);
  const before = sessionWrites();
  const modern = await connectHttpAgent(warden().url, token, { modern: true });
  try {
    await modern.tools();
    for (let i = 0; i < 2; i++) assert.equal((await modern.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' })).isError, false);
  } finally {
    await modern.close();
  }
  const legacy = await connectHttpAgent(warden().url, token);
  try {
    await legacy.tools();
    assert.equal((await legacy.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' })).isError, false);
    assert.equal((await legacy.call('query_database', { connection: 'analytics', sql: 'SELECT total FROM orders' })).isError, false);
  } finally {
    await legacy.transport.terminateSession().catch(() => undefined);
    await legacy.close();
  }
  await new Promise((r) => setTimeout(r, 300));
  const now = sessionWrites();
  // Two per-request calls are two sessions; the 2025 session's two calls share one.
  assert.equal(now.sessions - before.sessions, 3);
  const calls = warden().calls().slice(-4);
  for (const c of calls) assert.ok(now.ids.includes(String(c.session_id)), `call ${String(c.call_id)} has its session recorded`);
});
