/**
 * End to end: `warden serve` as a child process, the real SDK v2 client over stdio, a real
 * PostgreSQL database with a password login role. Covers the foundation issue's story.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';

const CONFIG = `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ana, groups: [analysts] } }
connections:
  analytics:
    type: postgres
    url: env:TEST_DATABASE_URL
    statement_timeout: 2s
    max_rows: 1000
policies: [policies/*.yaml]
`;

const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: users.ssn, with: redact }
  detectors: [email, us_ssn, credit_card, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql:
      statements: [select]
      read: [public.users, public.orders, public.payroll]
      functions: [count, sum, avg, min, max, lower, upper, length, coalesce, now, date_trunc, round, abs]
  - id: analysts-notes
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [insert], write: [public.notes] }
  - id: analysts-session-knobs
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [set, show] }
  - id: no-schema-changes
    effect: deny
    tool: query_database
    sql: { statements: [drop, truncate, alter, grant, revoke] }
    reason: Schema changes go through migrations.
  - id: no-payroll
    effect: deny
    tool: query_database
    sql: { read: [public.payroll] }
    reason: Payroll is off limits.
`;

let db: TestDatabase;
let dir: WardenDir;
let w: WardenSession;

async function tableCount(name: string): Promise<number> {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${name}`);
  return (r.rows[0] as { n: number }).n;
}

before(async () => {
  db = await createTestDatabase({ prefix: 'e2e' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric, created timestamptz DEFAULT now());
    CREATE TABLE notes (id serial PRIMARY KEY, body text);
    CREATE TABLE payroll (id serial PRIMARY KEY, salary numeric);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', 'alice@example.com', '123-45-6789'), ('Bob', 'bob@example.com', '234-56-7890');
    INSERT INTO orders (user_id, total) SELECT 1 + (g % 2), g FROM generate_series(1, 50) g;
  `);
  // The login role owns the tables: only Warden stands between the agent and a DROP.
  for (const t of ['users', 'orders', 'notes', 'payroll']) await db.query(`ALTER TABLE ${t} OWNER TO ${db.role}`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'base.yaml': POLICY });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
});

after(async () => {
  await w?.close();
  await db?.drop();
  dir?.cleanup();
});

describe('query_database over stdio', () => {
  test('tools/list shows the governed tools with honest annotations and schemas', async () => {
    const { tools } = await w.client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['approval_status', 'describe_database', 'list_connections', 'query_database']);
    const q = tools.find((t) => t.name === 'query_database')!;
    assert.equal(q.annotations?.readOnlyHint, false);
    assert.equal(q.annotations?.openWorldHint, false);
    assert.ok(q.outputSchema, 'query_database declares an outputSchema');
    assert.deepEqual((q.inputSchema as { required?: string[] }).required?.sort(), ['connection', 'sql']);
  });

  test('an allowed read returns rows, with masked columns masked', async () => {
    const r = await w.call('query_database', { connection: 'analytics', sql: 'SELECT id, name, email, ssn FROM users ORDER BY id' });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { rows: unknown[][]; columns: { name: string; masked?: string }[]; row_count: number; warden: { rule_ids: string[] } };
    assert.equal(s.row_count, 2);
    assert.equal(s.rows[0]![1], 'Alice');
    assert.equal(s.columns.find((c) => c.name === 'email')?.masked, 'partial');
    assert.equal(s.columns.find((c) => c.name === 'ssn')?.masked, 'redact');
    assert.deepEqual(s.warden.rule_ids, ['analysts-read']);
    for (const secret of ['alice@example.com', 'bob@example.com', '123-45-6789', '234-56-7890']) {
      assert.ok(!r.text.includes(secret), `text leaks ${secret}`);
      assert.ok(!JSON.stringify(s).includes(secret), `structured leaks ${secret}`);
    }
  });

  test('COMMIT; DROP TABLE and SELECT 1; DROP TABLE are denied and the table is still there', async () => {
    for (const sql of ['COMMIT; DROP TABLE users', 'SELECT 1; DROP TABLE users', 'select 1;\n drop table users;']) {
      const r = await w.call('query_database', { connection: 'analytics', sql });
      assert.equal(r.isError, true, sql);
      assert.match(r.text, /WARDEN_(PARSE|DENIED)/);
    }
    assert.equal(await tableCount('users'), 2);
  });

  test('a DROP names the deny rule and its reason', async () => {
    const r = await w.call('query_database', { connection: 'analytics', sql: 'DROP TABLE users' });
    assert.equal(r.isError, true);
    assert.match(r.text, /WARDEN_DENIED/);
    assert.match(r.text, /migrations/);
    const e = (r.structured as { error: { code: string; rule_ids: string[] } }).error;
    assert.equal(e.code, 'WARDEN_DENIED');
    assert.deepEqual(e.rule_ids, ['no-schema-changes']);
    assert.equal(await tableCount('users'), 2);
  });

  test('writes outside the grant, tables outside the grant and unlisted functions are denied with alternatives', async () => {
    const cases = [
      'DELETE FROM users',
      "UPDATE users SET name = 'x'",
      'SELECT * FROM pg_catalog.pg_authid',
      "SELECT pg_read_file('/etc/passwd')",
      'SELECT pg_sleep(10)',
      'WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d',
      'SELECT * FROM users FOR UPDATE',
    ];
    for (const sql of cases) {
      const r = await w.call('query_database', { connection: 'analytics', sql });
      assert.equal(r.isError, true, `${sql} must be refused: ${r.text}`);
      assert.match(r.text, /WARDEN_(DENIED|PARSE)/, sql);
    }
    const r = await w.call('query_database', { connection: 'analytics', sql: 'SELECT * FROM pg_catalog.pg_authid' });
    assert.match(r.text, /no rule allows/);
    assert.match(r.text, /analysts-read/, 'the denial says what the principal may do instead');
    assert.equal(await tableCount('users'), 2);
  });

  test('malformed, mistyped, oversized input and unknown connections get coded errors', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ connection: 'analytics', sql: 'SELEC name FROM users WHERE' }, /WARDEN_PARSE/],
      [{ connection: 'analytics', sql: 5 }, /WARDEN_INVALID_INPUT/],
      [{ connection: 'analytics' }, /WARDEN_INVALID_INPUT/],
      [{ connection: 'analytics', sql: 'SELECT 1', extra: true }, /WARDEN_INVALID_INPUT/],
      [{ connection: 'analytics', sql: 'SELECT ' + '1,'.repeat(40_000) + '1' }, /WARDEN_INVALID_INPUT/],
      [{ connection: 'nope', sql: 'SELECT 1' }, /WARDEN_UNKNOWN_CONNECTION/],
      [{ connection: 'analytics', sql: '' }, /WARDEN_INVALID_INPUT/],
    ];
    for (const [args, code] of bad) {
      const r = await w.call('query_database', args);
      assert.equal(r.isError, true, JSON.stringify(args).slice(0, 80));
      assert.match(r.text, code, JSON.stringify(args).slice(0, 80));
    }
    const unknownTool = await w.client.callTool({ name: 'drop_everything', arguments: {} }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
    assert.equal(unknownTool.isError, true);
  });

  test('max_rows caps the result with a truncated flag', async () => {
    const r = await w.call('query_database', { connection: 'analytics', sql: 'SELECT id, total FROM orders ORDER BY id', max_rows: 5 });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { rows: unknown[][]; truncated: boolean; row_count: number };
    assert.equal(s.rows.length, 5);
    assert.equal(s.truncated, true);
    const all = await w.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' });
    assert.equal((all.structured as { truncated: boolean; row_count: number }).row_count, 50);
    assert.equal((all.structured as { truncated: boolean }).truncated, false);
  });

  test('pool hygiene: a SET or a failed statement in one call does not change the next call', async () => {
    const before = await w.call('query_database', { connection: 'analytics', sql: 'SHOW statement_timeout' });
    assert.equal(before.isError, false, before.text);
    const set = await w.call('query_database', { connection: 'analytics', sql: "SET statement_timeout = '1ms'" });
    assert.equal(set.isError, false, set.text);
    for (let i = 0; i < 8; i++) {
      const r = await w.call('query_database', { connection: 'analytics', sql: 'SHOW statement_timeout' });
      assert.deepEqual(r.structured?.rows, before.structured?.rows, 'the SET did not leak into a later call');
    }
    const fail = await w.call('query_database', { connection: 'analytics', sql: 'SELECT 1/0 FROM users' });
    assert.equal(fail.isError, true);
    assert.match(fail.text, /WARDEN_BACKEND_ERROR.*division by zero/);
    const ok = await w.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
    assert.equal(ok.isError, false, ok.text);
  });

  test('an allowed write runs in a read-write transaction; reads cannot write', async () => {
    const r = await w.call('query_database', { connection: 'analytics', sql: "INSERT INTO notes (body) VALUES ('hello')" });
    assert.equal(r.isError, false, r.text);
    assert.equal((r.structured as { affected?: number }).affected, 1);
    assert.equal(await tableCount('notes'), 1);
  });

  test('describe_database lists exactly the granted tables, masked columns marked', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS hidden (id int, secret text)');
    const r = await w.call('describe_database', { connection: 'analytics' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; access: string[]; columns: { name: string; masked?: string }[] }[] } }).data.tables;
    assert.deepEqual(tables.map((t) => t.table).sort(), ['public.notes', 'public.orders', 'public.users']);
    const users = tables.find((t) => t.table === 'public.users')!;
    assert.equal(users.columns.find((c) => c.name === 'email')?.masked, 'partial');
    assert.equal(users.columns.find((c) => c.name === 'ssn')?.masked, 'redact');
    assert.equal(users.columns.find((c) => c.name === 'name')?.masked, undefined);
    assert.deepEqual(tables.find((t) => t.table === 'public.notes')!.access, ['read', 'write']);
    const bad = await w.call('describe_database', { connection: 'elsewhere' });
    assert.match(bad.text, /WARDEN_UNKNOWN_CONNECTION/);
  });

  test('a table a deny forbids is not described, and the grant it overrides is not offered instead', async () => {
    // analysts-read grants public.payroll; no-payroll denies touching it: deny wins in discovery too.
    const r = await w.call('describe_database', { connection: 'analytics' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string }[] } }).data.tables.map((t) => t.table);
    assert.ok(!tables.includes('public.payroll'), `payroll described: ${tables.join(', ')}`);
    assert.ok(tables.includes('public.users'));
    const q = await w.call('query_database', { connection: 'analytics', sql: 'SELECT salary FROM payroll' });
    assert.equal(q.isError, true);
    const e = (q.structured as { error: { code: string; rule_ids: string[]; alternatives?: string[] } }).error;
    assert.equal(e.code, 'WARDEN_DENIED');
    assert.deepEqual(e.rule_ids, ['no-payroll']);
    assert.ok(!(e.alternatives ?? []).some((a) => a.startsWith('analysts-read')), `overridden grant offered: ${e.alternatives?.join(' | ')}`);
  });

  test('list_connections shows what this principal may do', async () => {
    const r = await w.call('list_connections', {});
    assert.equal(r.isError, false, r.text);
    const data = (r.structured as { data: { connections: { name: string; tools: string[]; grants: string[] }[] } }).data;
    assert.equal(data.connections.length, 1);
    assert.equal(data.connections[0]!.name, 'analytics');
    assert.ok(data.connections[0]!.grants.some((g) => g.startsWith('analysts-read')));
    assert.ok(!r.text.includes(db.password), 'no credential in discovery');
  });

  test('the transcript holds allowed, denied and failed calls, masked, without secrets', async () => {
    const t = new Database(dir.dbPath, { readonly: true });
    try {
      // Each call with its outcome record, whose body holds the (masked) result.
      const calls = t.prepare('SELECT c.*, r.body AS outcome_body FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq').all() as Record<string, unknown>[];
      assert.ok(calls.length >= 10, `calls recorded: ${calls.length}`);
      const all = JSON.stringify(calls);
      for (const secret of ['alice@example.com', '123-45-6789', db.password]) assert.ok(!all.includes(secret), `transcript leaks ${secret}`);
      const sessions = t.prepare('SELECT * FROM sessions').all() as Record<string, unknown>[];
      assert.equal(sessions.length, 1);
      assert.match(JSON.stringify(sessions[0]), /warden-test-agent/);
      assert.match(all, /analysts-read/);
      assert.match(all, /no-schema-changes/);
      assert.match(all, /WARDEN_PARSE/);
      assert.match(all, /WARDEN_BACKEND_ERROR/);
    } finally {
      t.close();
    }
  });
});
