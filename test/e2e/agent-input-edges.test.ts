/**
 * What an agent can send or learn at the edges, through a real MCP client over stdio: a
 * connection it cannot be granted answers exactly like one that does not exist, NUL characters
 * and lone surrogates (which a backend truncates at or cannot encode) are refused before any
 * parser sees them, and a call cancelled before it runs never runs, with its outcome recorded.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { notesFixture } from '../support/sql-warden.js';
import { connectWarden } from '../support/warden-process.js';

const CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: alice, groups: [devs] } }
connections:
  main: { type: postgres, url: env:TEST_DATABASE_URL }
  prod: { type: postgres, url: env:TEST_DATABASE_URL }
  fenced: { type: postgres, url: env:TEST_DATABASE_URL }
policies: [policies/*.yaml]
`;
const POLICY = `rules:
  - id: notes
    effect: allow
    who: { groups: [devs] }
    tool: query_database
    on: [main, fenced]
    sql: { statements: [select, insert], write: [public.notes], read: [public.notes] }
  - id: no-fenced
    effect: deny
    who: { groups: [devs] }
    on: [fenced]
    reason: fenced is closed
  - id: bob-prod
    effect: allow
    who: { subjects: [bob] }
    tool: query_database
    on: [prod]
`;

describe('agent input edges', () => {
  const fx = notesFixture('edges', CONFIG, POLICY);

  const transcript = (sql: string, ...params: unknown[]) => {
    const t = new Database(fx.dir.dbPath, { readonly: true });
    try {
      return t.prepare(sql).all(...params) as Record<string, string | null>[];
    } finally {
      t.close();
    }
  };

  test('a connection no rule could grant this principal answers like one that does not exist', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      const text = async (tool: string, connection: string) => {
        const r = await w.call(tool, tool === 'query_database' ? { connection, sql: 'SELECT 1' } : { connection });
        assert.equal(r.isError, true);
        return r.text.replace(connection, 'X');
      };
      const missing = await text('query_database', 'nope');
      assert.match(missing, /^WARDEN_UNKNOWN_CONNECTION/);
      assert.equal(await text('query_database', 'prod'), missing, "another principal's connection is not revealed");
      assert.match(await text('describe_database', 'prod'), /^WARDEN_UNKNOWN_CONNECTION/);
      // A deny that covers a connection some allow grants is still decided, with its rule id.
      const fenced = await w.call('query_database', { connection: 'fenced', sql: 'SELECT 1' });
      assert.match(fenced.text, /^WARDEN_DENIED: fenced is closed/);
      const ok = await w.call('query_database', { connection: 'main', sql: 'SELECT count(*) FROM notes' });
      assert.equal(ok.isError, false, ok.text);
    } finally {
      await w.close();
    }
  });

  test('NUL characters and lone surrogates in any argument are refused before parsing, and recorded', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      const cases: Record<string, unknown>[] = [
        // PostgreSQL reads a statement up to its first NUL: the comment would end there.
        { connection: 'main', sql: 'INSERT INTO notes (body) --\u0000\nVALUES ($1)', params: ['x'] },
        { connection: 'main', sql: 'SELECT $1::text', params: ['a\u0000b'] },
        // A lone surrogate has no UTF-8 form: what runs would differ from what was analysed.
        { connection: 'main', sql: "SELECT '\uD800' AS x" },
        { connection: 'main', sql: 'SELECT 1 AS "\uDC00"' },
        { connection: 'main', sql: 'SELECT $1::text', params: ['\uDBFF'] },
      ];
      for (const args of cases) {
        const r = await w.call('query_database', args);
        assert.equal(r.isError, true, JSON.stringify(args));
        assert.match(r.text, /^WARDEN_INVALID_INPUT: .*(NUL|surrogate)/, JSON.stringify(args));
      }
      const n = await fx.db.query('SELECT count(*)::int AS n FROM notes');
      assert.equal((n.rows[0] as { n: number }).n, 0);
      const rows = transcript("SELECT error_code FROM calls WHERE error_code = 'WARDEN_INVALID_INPUT'");
      assert.equal(rows.length, cases.length, 'every refusal is in the transcript');
    } finally {
      await w.close();
    }
  });

  test('a write cancelled by the client before it runs never runs, and its outcome is recorded', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      // The request and its cancellation leave together, as a client that changed its mind at
      // once sends them: the server reads both before the INSERT could run.
      const raw = (w.client as unknown as { transport: { send(m: unknown): Promise<void> } }).transport;
      const sent = [
        raw.send({ jsonrpc: '2.0', id: 'cancel-me', method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'main', sql: "INSERT INTO notes (body) VALUES ('cancelled')" } } }),
        raw.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'cancel-me', reason: 'changed my mind' } }),
      ];
      await Promise.all(sent);
      // The server answers nothing to a cancelled request: wait for the transcript instead.
      let rows: Record<string, string | null>[] = [];
      for (let i = 0; i < 100 && !rows.length; i++) {
        await new Promise((r) => setTimeout(r, 50));
        rows = transcript("SELECT status, error_code FROM calls WHERE args LIKE '%cancelled%' AND status IS NOT NULL");
      }
      assert.deepEqual(rows, [{ status: 'error', error_code: 'WARDEN_CANCELLED' }]);
      const n = await fx.db.query("SELECT count(*)::int AS n FROM notes WHERE body = 'cancelled'");
      assert.equal((n.rows[0] as { n: number }).n, 0, 'the cancelled INSERT never reached the database');
      const ok = await w.call('query_database', { connection: 'main', sql: "INSERT INTO notes (body) VALUES ('kept')" });
      assert.equal(ok.isError, false, ok.text);
    } finally {
      await w.close();
    }
  });
});
