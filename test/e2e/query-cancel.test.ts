/**
 * A client that cancels a query_database call while PostgreSQL runs its statement, through a real
 * MCP client over stdio and a real server: the statement is cancelled in PostgreSQL, a write
 * commits nothing, the transcript records WARDEN_CANCELLED with no result, and the connection's
 * pool serves the next call at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { notesFixture } from '../support/sql-warden.js';
import { connectWarden, type WardenSession } from '../support/warden-process.js';

const CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: alice, groups: [devs] } }
connections:
  main: { type: postgres, url: env:TEST_DATABASE_URL, pool_size: 1, statement_timeout: 10s }
policies: [policies/*.yaml]
`;
const POLICY = `rules:
  - id: notes
    effect: allow
    who: { groups: [devs] }
    tool: query_database
    on: [main]
    sql: { statements: [select, insert], write: [public.notes], read: [public.notes, public.spin], functions: ['@safe-read', pg_sleep] }
`;

describe('query_database cancelled while its statement runs', () => {
  // No read grant may call pg_sleep: a long read is a cross join instead (10^9 rows to count).
  const fx = notesFixture('qcancel', CONFIG, POLICY, async (db) => {
    await db.query('CREATE TABLE spin AS SELECT n FROM generate_series(1, 1000) AS n');
    await db.query(`ALTER TABLE spin OWNER TO ${db.role}`);
  });

  const transcript = (marker: string) => {
    const t = new Database(fx.dir.dbPath, { readonly: true });
    try {
      return t.prepare('SELECT status, error_code, result FROM calls WHERE args LIKE ? AND status IS NOT NULL').all(`%${marker}%`) as Record<string, string | null>[];
    } finally {
      t.close();
    }
  };

  /** Send a call, cancel it after `ms`, and wait for its recorded outcome; returns it and how long after the cancel it landed. */
  async function callThenCancel(w: WardenSession, id: string, sql: string, marker: string, ms: number) {
    const raw = (w.client as unknown as { transport: { send(m: unknown): Promise<void> } }).transport;
    await raw.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'main', sql } } });
    await new Promise((r) => setTimeout(r, ms));
    const t0 = Date.now();
    await raw.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'no longer needed' } });
    let rows: Record<string, string | null>[] = [];
    for (let i = 0; i < 200 && !rows.length; i++) {
      await new Promise((r) => setTimeout(r, 25));
      rows = transcript(marker);
    }
    return { rows, ms: Date.now() - t0 };
  }

  test('a write cancelled while it runs commits nothing and is recorded WARDEN_CANCELLED', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      const { rows, ms } = await callThenCancel(w, 'slow-write', "INSERT INTO notes (body) SELECT 'slow-write' FROM pg_sleep(3)", 'slow-write', 300);
      assert.equal(rows.length, 1, 'the outcome is recorded');
      assert.equal(rows[0]!.status, 'error');
      assert.equal(rows[0]!.error_code, 'WARDEN_CANCELLED');
      assert.doesNotMatch(String(rows[0]!.result), /"rows"|affected/, 'no result is recorded');
      assert.ok(ms < 2000, `recorded ${ms} ms after the cancel`);
      const n = await fx.db.query("SELECT count(*)::int AS n FROM notes WHERE body = 'slow-write'");
      assert.equal((n.rows[0] as { n: number }).n, 0, 'nothing was committed');
      const ok = await w.call('query_database', { connection: 'main', sql: "INSERT INTO notes (body) VALUES ('after')" });
      assert.equal(ok.isError, false, ok.text);
      // Past the time the cancelled statement would have taken: still no row.
      await new Promise((r) => setTimeout(r, 3000 - ms));
      const later = await fx.db.query("SELECT count(*)::int AS n FROM notes WHERE body = 'slow-write'");
      assert.equal((later.rows[0] as { n: number }).n, 0);
    } finally {
      await w.close();
    }
  });

  test('a read cancelled while it runs is recorded WARDEN_CANCELLED and the pool serves the next call at once', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      const { rows, ms } = await callThenCancel(w, 'slow-read', 'SELECT count(*) AS slow_read FROM spin a, spin b, spin c WHERE a.n + b.n + c.n < 0', 'slow_read', 300);
      assert.deepEqual(rows.map((r) => [r.status, r.error_code]), [['error', 'WARDEN_CANCELLED']]);
      // Uncancelled, the count runs into the 10 s statement_timeout; 2 s proved too tight on a loaded machine (2.1 s seen).
      assert.ok(ms < 5000, `recorded ${ms} ms after the cancel`);
      const t0 = Date.now();
      const ok = await w.call('query_database', { connection: 'main', sql: 'SELECT count(*) FROM notes' });
      assert.equal(ok.isError, false, ok.text);
      // Held, it would be free only at the 10 s statement_timeout.
      assert.ok(Date.now() - t0 < 5000, 'the one pooled connection was free');
    } finally {
      await w.close();
    }
  });
});
