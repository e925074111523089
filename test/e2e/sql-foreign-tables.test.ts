/**
 * Foreign tables (pg_class.relkind 'f'), via `warden serve` (real MCP client over stdio) against
 * a real PostgreSQL with postgres_fdw: a loopback server into the very same database, so a
 * foreign table reads a table a deny rule names, or a masked column, under another name. The
 * hole: a foreign table counted as a plain table, so `SELECT * FROM secrets_remote` returned the
 * rows of public.secrets, which a deny rule forbids, and the email a mask on public.users.email
 * covers came back plain. Deny rules and masks cannot follow a foreign table (what it reads is
 * the foreign server's business), like a view whose definition cannot be read, so:
 * - while a deny rule that could apply to the call is in force, a statement reaching a foreign
 *   table (named, through a view, or as a partition or child of a relation read without ONLY) is
 *   refused, WARDEN_DENIED naming the foreign table and why;
 * - while a column mask is configured, the same;
 * - with neither, a foreign table reads as any table.
 * describe_database says the same, and every relation reads as it says.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const GRANT = `
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, delete]
      read: [secrets_remote, users_remote, remote_view, filter_remote, events, events_local, events_remote, plain]
      write: [events, events_local, plain]
      functions: [count]
`;

const DENY_POLICY = `
rules:
${GRANT}
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
`;

const MASK_POLICY = `
masking:
  columns:
    - { column: public.users.email, with: partial }
rules:
${GRANT}
`;

// A deny rule that applies to another group only: no deny rule could apply to this principal's call.
const NEITHER_POLICY = `
rules:
${GRANT}
  - id: others-no-secrets
    effect: deny
    who: { groups: [contractors] }
    tool: query_database
    sql: { read: [public.secrets] }
`;

const SECRET = 'FOREIGN-ROW-SECRET';
const EMAIL = 'remote-alice@example.com';
const ALL_SECRETS = [SECRET, EMAIL];

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eforeign' });
  await db.query(`
    CREATE EXTENSION postgres_fdw;
    CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${db.host}', port '${db.port}', dbname '${db.dbName}');
    CREATE USER MAPPING FOR PUBLIC SERVER loopback OPTIONS (user '${db.role}', password '${db.password}');

    CREATE TABLE secrets (id int, secret text);
    INSERT INTO secrets VALUES (1, '${SECRET}');
    CREATE FOREIGN TABLE secrets_remote (id int, secret text) SERVER loopback OPTIONS (schema_name 'public', table_name 'secrets');
    CREATE VIEW remote_view AS SELECT id, secret FROM secrets_remote;

    CREATE TABLE users (id int, email text);
    INSERT INTO users VALUES (1, '${EMAIL}');
    CREATE FOREIGN TABLE users_remote (id int, email text) SERVER loopback OPTIONS (schema_name 'public', table_name 'users');

    CREATE TABLE events_src (id int, region text, body text);
    INSERT INTO events_src VALUES (2, 'us', '${SECRET}');
    CREATE TABLE events (id int, region text, body text) PARTITION BY LIST (region);
    CREATE TABLE events_local PARTITION OF events FOR VALUES IN ('eu');
    CREATE FOREIGN TABLE events_remote PARTITION OF events FOR VALUES IN ('us') SERVER loopback OPTIONS (schema_name 'public', table_name 'events_src');
    INSERT INTO events_local VALUES (1, 'eu', 'event-plain');

    CREATE TABLE plain (id int, body text);
    INSERT INTO plain VALUES (1, 'plain-row');
    -- Reads a foreign table only to filter: none of its columns shows one.
    CREATE VIEW filter_remote AS SELECT p.id, p.body FROM plain p WHERE EXISTS (SELECT 1 FROM users_remote r WHERE r.id = p.id AND r.email LIKE 'remote-a%');

    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
    GRANT INSERT, DELETE ON events, events_local, plain TO ${db.role};
  `);
});

after(async () => {
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;
type Described = { table: string; access: string[]; requires_only?: string[]; note?: string; columns: { name: string; masked?: string }[] };

const assertNoLeak = noLeakOf(ALL_SECRETS);

async function ok(w: SqlWarden, sql: string): Promise<Result> {
  const r = await w.query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 400)}`);
  return r;
}

async function refused(w: SqlWarden, sql: string, message: RegExp): Promise<void> {
  const r = await w.query(sql);
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.match(r.text, message, sql);
  assertNoLeak(r, sql);
}

async function describeAll(w: SqlWarden): Promise<Described[]> {
  const r = await w.w.call('describe_database', { connection: 'db' });
  assert.equal(r.isError, false, r.text);
  assertNoLeak(r, 'describe_database');
  return (r.structured as { data: { tables: Described[] } }).data.tables;
}

const find = (tables: Described[], name: string): Described => {
  const t = tables.find((x) => x.table === name);
  assert.ok(t, `${name} is not described: ${tables.map((x) => x.table).join(', ')}`);
  return t;
};

/** Every described relation reads as described: refused when it has no read access, only with ONLY when so marked. */
async function readsAsDescribed(w: SqlWarden, tables: Described[]): Promise<void> {
  for (const t of tables) {
    const r = await w.query(`SELECT count(*) AS n FROM ${t.table}`);
    const onlyNeeded = !!t.requires_only?.includes('read');
    assert.equal(r.isError, onlyNeeded || !t.access.includes('read'), `${t.table} described ${JSON.stringify(t)}: ${r.text.slice(0, 300)}`);
    assertNoLeak(r, t.table);
    if (onlyNeeded) await ok(w, `SELECT count(*) AS n FROM ONLY ${t.table}`);
  }
}

describe('while a deny rule applies', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': DENY_POLICY }, sqlConfig());
  });
  after(async () => {
    await w?.close();
  });

  test('a foreign table is refused, saying why', async () => {
    await refused(w, 'SELECT * FROM secrets_remote', /deny rules cannot be followed through foreign table public\.secrets_remote: .*foreign server/);
    await refused(w, 'SELECT count(*) AS n FROM ONLY secrets_remote', /foreign table public\.secrets_remote/);
    await refused(w, 'SELECT id FROM users_remote', /foreign table public\.users_remote/);
  });

  test('a view over a foreign table is refused', async () => {
    await refused(w, 'SELECT * FROM remote_view', /foreign table public\.secrets_remote \(public\.remote_view reads public\.secrets_remote\)/);
  });

  test('a partitioned table with a foreign partition: refused without ONLY, and written without ONLY', async () => {
    await refused(w, 'SELECT * FROM events', /foreign table public\.events_remote \(public\.events returns, named without ONLY, the rows of public\.events_remote\)/);
    await refused(w, 'DELETE FROM events WHERE id < 0', /foreign table public\.events_remote/);
    await refused(w, 'SELECT * FROM events_remote', /foreign table public\.events_remote/);
    await ok(w, 'SELECT count(*) AS n FROM ONLY events');
    const r = await ok(w, 'SELECT body FROM events_local');
    assert.match(r.text, /event-plain/);
  });

  test('a plain table reads as before', async () => {
    const r = await ok(w, 'SELECT body FROM plain');
    assert.match(r.text, /plain-row/);
  });

  test('describe_database lists foreign tables and views over them with no access, and says to read the parent as ONLY', async () => {
    const tables = await describeAll(w);
    for (const name of ['public.secrets_remote', 'public.users_remote', 'public.events_remote', 'public.remote_view', 'public.filter_remote']) {
      const t = find(tables, name);
      assert.deepEqual(t.access, [], `${name}: ${JSON.stringify(t)}`);
      assert.match(t.note ?? '', /deny rules cannot be followed through foreign table public\.(secrets|users|events)_remote/, name);
    }
    const events = find(tables, 'public.events');
    assert.deepEqual(events.access, ['read', 'write']);
    assert.deepEqual(events.requires_only, ['read', 'write']);
    assert.match(events.note ?? '', /ONLY public\.events.*public\.events_remote/);
    assert.deepEqual(find(tables, 'public.plain').access, ['read', 'write']);
    assert.equal(find(tables, 'public.plain').note, undefined);
    await readsAsDescribed(w, tables);
  });
});

describe('while a column mask is configured', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': MASK_POLICY }, sqlConfig());
  });
  after(async () => {
    await w?.close();
  });

  test("a foreign table is refused: its columns are not traced to the foreign server's", async () => {
    await refused(w, 'SELECT email FROM users_remote', /masked columns cannot be followed through foreign table public\.users_remote: .*foreign server/);
    await refused(w, 'SELECT * FROM remote_view', /masked columns cannot be followed through foreign table public\.secrets_remote/);
    // A view reading one only in its WHERE reaches it too, as the same statement written out does.
    await refused(w, 'SELECT * FROM filter_remote', /masked columns cannot be followed through foreign table public\.users_remote/);
    await refused(w, 'SELECT * FROM events', /foreign table public\.events_remote/);
    const r = await ok(w, 'SELECT count(*) AS n FROM ONLY events');
    assertNoLeak(r, 'ONLY events');
    await ok(w, 'SELECT body FROM plain');
  });

  test('describe_database says so', async () => {
    const tables = await describeAll(w);
    for (const name of ['public.users_remote', 'public.secrets_remote', 'public.remote_view', 'public.filter_remote', 'public.events']) {
      const t = find(tables, name);
      assert.deepEqual(t.access, [], `${name}: ${JSON.stringify(t)}`);
      assert.match(t.note ?? '', /masked columns cannot be followed through foreign table/, name);
    }
    await readsAsDescribed(w, tables);
  });
});

describe('with no deny rule that could apply and no mask', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': NEITHER_POLICY }, sqlConfig());
  });
  after(async () => {
    await w?.close();
  });

  test('a foreign table reads as any table', async () => {
    const r = await ok(w, 'SELECT id FROM secrets_remote');
    assert.match(r.text, /\b1\b/);
    await ok(w, 'SELECT count(*) AS n FROM events');
    const tables = await describeAll(w);
    assert.deepEqual(find(tables, 'public.secrets_remote').access, ['read']);
    assert.deepEqual(find(tables, 'public.events').access, ['read', 'write']);
  });
});
