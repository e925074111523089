/**
 * A red-team pass on MCP sessions over HTTP, with real clients and a real issuer:
 * - a session is bound to what `who:` reads, types included: an allow's `claims:` matches a
 *   string claim only, so a token whose claim holds the same value as a list or a number (not
 *   granted on its own) must not ride a session opened with the string (it ran under the grant);
 * - what an agent names (tool, connection, client name and version) reaches the transcript
 *   bounded, as its arguments are (limits.max_input_bytes): a 900 KB tool name or connection,
 *   and a 600 KB client name sent with every per-request tools/list (no rate limit counts those),
 *   were each stored whole.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { connectHttpAgent, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden, queryCallBody } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: shop-ci-read
    effect: allow
    who: { groups: [ci], claims: { repository: acme/shop, run: "7" } }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

const callBody = (id: number) => queryCallBody(id);

/** Every text column of the transcript's sessions and calls rows, longest first. */
function longestStored(): { table: string; column: string; length: number }[] {
  const db = new Database(w.dir.dbPath, { readonly: true });
  try {
    const out: { table: string; column: string; length: number }[] = [];
    for (const table of ['sessions', 'calls']) {
      for (const row of db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]) {
        for (const [column, v] of Object.entries(row)) if (typeof v === 'string') out.push({ table, column, length: v.length });
      }
    }
    return out.sort((a, b) => b.length - a.length);
  } finally {
    db.close();
  }
}

describe('HTTP sessions: red-team pass', () => {
  test('a token whose granted claim holds the same value as a list or a number cannot ride the session', async () => {
    const granted = { repository: 'acme/shop', run: '7' };
    const shop = await connectHttpAgent(w.url, await w.token('ci-runner', ['ci'], granted));
    try {
      const h = { 'mcp-session-id': shop.transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
      for (const claims of [
        { repository: ['acme/shop'], run: '7' },
        { repository: [['acme/shop']], run: '7' },
        { repository: 'acme/shop', run: 7 },
        { repository: 'acme/shop', run: ['7'] },
      ]) {
        const token = await w.token('ci-runner', ['ci'], claims);
        // On its own session this token has no grant: an allow's claims: match strings only.
        const own = await connectHttpAgent(w.url, token);
        try {
          assert.ok(!(await own.tools()).includes('query_database'), `${JSON.stringify(claims)} is granted on its own`);
        } finally {
          await own.close();
        }
        const before = w.calls().length;
        const ride = await rawRequest(w.url, { headers: mcpHeaders(token, h), body: callBody(50) });
        assert.equal(ride.status, 403, `${JSON.stringify(claims)} rode the session opened with strings: ${ride.body.slice(0, 200)}`);
        assert.doesNotMatch(ride.body, /total/);
        assert.equal(w.calls().length, before, 'nothing ran or was recorded under the borrowed session');
      }
      // The owner, with a refreshed token of the same claims, keeps its session.
      const own = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ci-runner', ['ci'], granted), h), body: callBody(51) });
      assert.equal(own.status, 200, own.body);
      assert.match(own.body, /total/);
    } finally {
      await shop.close();
    }
  });

  test('a huge tool name, connection, client name or version is stored cut, never whole', async () => {
    const token = await w.token('ci-runner', ['ci'], { repository: 'acme/shop', run: '7' });
    // Per request (2026-07-28): the client info rides every request's _meta; a tool call's
    // session is recorded (a listing writes no session record over HTTP).
    const modern = await connectHttpAgent(w.url, token, { name: 'n'.repeat(600_000), modern: true });
    try {
      for (let i = 0; i < 2; i++) assert.ok((await modern.tools()).includes('query_database'));
      for (let i = 0; i < 2; i++) assert.equal((await modern.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' })).isError, false);
    } finally {
      await modern.close();
    }
    const agent = await connectHttpAgent(w.url, token, { name: 'm'.repeat(600_000) });
    try {
      const tool = await agent.call('q'.repeat(900_000), {});
      assert.equal(tool.isError, true);
      assert.match(tool.text, /^WARDEN_UNKNOWN_TOOL/);
      const conn = await agent.call('query_database', { connection: 'c'.repeat(900_000), sql: 'SELECT 1' });
      assert.equal(conn.isError, true);
      assert.match(conn.text, /^WARDEN_INVALID_INPUT/);
      const ok = await agent.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' });
      assert.equal(ok.isError, false, ok.text);
    } finally {
      await agent.close();
    }
    const [longest] = longestStored();
    assert.ok(longest!.length < 4096, `the transcript stored ${longest!.length} characters in ${longest!.table}.${longest!.column}`);
    // The cut says what it was, so a reviewer sees that the agent sent something that large.
    const db = new Database(w.dir.dbPath, { readonly: true });
    try {
      const tools = (db.prepare('SELECT tool FROM calls').all() as { tool: string }[]).map((r) => r.tool);
      assert.ok(tools.some((t) => t.startsWith('qqqq') && t.includes('900000 characters')), tools.join(', ').slice(0, 300));
      const clients = (db.prepare('SELECT client FROM sessions').all() as { client: string }[]).map((r) => r.client);
      assert.ok(clients.filter((c) => c.includes('nnnn') && c.includes('600000 characters')).length >= 2, 'per-request sessions record the cut name');
      assert.ok(clients.some((c) => c.includes('mmmm') && c.includes('600000 characters')));
    } finally {
      db.close();
    }
  });
});
