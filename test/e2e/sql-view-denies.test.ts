/**
 * Deny rules follow views, via `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL. The hole: with `deny: sql: { read: [public.secrets] }` and a grant on a view over
 * public.secrets, `SELECT * FROM secrets_view` returned the denied rows: deny rules judged only
 * the relations the statement names. Now a statement that reads a view (or a materialized view)
 * counts, for deny rules, as reading every relation the view's definition reads, through views
 * of views and inheritance (a view over a parent without ONLY reaches its partitions); a write
 * to a view is a write to what it reads; a view deny rules cannot follow is refused. Grants stay
 * decided on the names the statement uses: the grant on the view is enough to read through it.
 * describe_database says the same: a view over a denied table is listed with no access.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      read: [secrets_view, secrets_view2, secrets_mv, where_view, scalar_view, join_view, info_view, ledger_view, ledger_only_view,
             accounts_view, accounts_open_view, vaults_open_view, fn_view, xml_view, information_schema.tables]
      write: [wlog_view, notes_view, secrets_view]
      functions: [count]
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
  - id: no-ledger-vault
    effect: deny
    tool: query_database
    sql: { read: [public.ledger_vault] }
  - id: no-frozen-accounts
    effect: deny
    tool: query_database
    sql: { read: [public.accounts_frozen] }
  - id: no-vaults
    effect: deny
    tool: query_database
    sql: { read: [public.vaults] }
  - id: no-wlog-writes
    effect: deny
    tool: query_database
    sql: { write: [public.wlog] }
`;

// A deny on a system catalog: system views (which read only system catalogs) then count as reading it.
const SYSTEM_POLICY = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      read: [roles_view, info_view, pg_catalog.pg_roles, pg_catalog.pg_class, information_schema.tables]
      functions: [count]
  - id: no-authid
    effect: deny
    tool: query_database
    sql: { read: [pg_catalog.pg_authid] }
`;

const SECRETS = {
  secret: 'TOP-SECRET-ROW-1',
  vault: 'VAULT-ROW-SECRET',
  frozen: 'FROZEN-ROW-SECRET',
  vaultsOpen: 'VAULTS-OPEN-SECRET',
};
const ALL_SECRETS = Object.values(SECRETS);

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eviewdeny' });
  await db.query(`
    CREATE TABLE secrets (id int, secret text);
    INSERT INTO secrets VALUES (1, '${SECRETS.secret}');
    CREATE TABLE public_info (id int, info text);
    INSERT INTO public_info VALUES (1, 'info-plain');
    CREATE VIEW secrets_view AS SELECT id, secret FROM secrets;
    CREATE VIEW secrets_view2 AS SELECT id, secret AS s FROM secrets_view;
    CREATE MATERIALIZED VIEW secrets_mv AS SELECT id, secret FROM secrets;
    CREATE VIEW where_view AS SELECT id, info FROM public_info WHERE id IN (SELECT id FROM secrets);
    CREATE VIEW scalar_view AS SELECT p.id, (SELECT s.secret FROM secrets s WHERE s.id = p.id) AS s FROM public_info p;
    CREATE VIEW join_view AS SELECT i.id, i.info FROM public_info i JOIN secrets_view v ON v.id = i.id;
    CREATE VIEW info_view AS SELECT id, info FROM public_info;
    CREATE FUNCTION public.get_secrets() RETURNS SETOF secrets LANGUAGE sql AS 'SELECT * FROM public.secrets';
    CREATE VIEW fn_view AS SELECT id, secret FROM public.get_secrets();
    CREATE VIEW xml_view AS SELECT XMLELEMENT(NAME s, secret) AS x FROM secrets;

    CREATE TABLE ledger (id int, secret text);
    CREATE TABLE ledger_vault () INHERITS (ledger);
    INSERT INTO ledger VALUES (1, 'ledger-plain');
    INSERT INTO ledger_vault VALUES (2, '${SECRETS.vault}');
    CREATE VIEW ledger_view AS SELECT id, secret FROM ledger;
    CREATE VIEW ledger_only_view AS SELECT id, secret FROM ONLY ledger;

    CREATE TABLE accounts (id int, region text, secret text) PARTITION BY LIST (region);
    CREATE TABLE accounts_open PARTITION OF accounts FOR VALUES IN ('eu');
    CREATE TABLE accounts_frozen PARTITION OF accounts FOR VALUES IN ('us');
    INSERT INTO accounts VALUES (1, 'eu', 'open-plain'), (2, 'us', '${SECRETS.frozen}');
    CREATE VIEW accounts_view AS SELECT id, secret FROM accounts;
    CREATE VIEW accounts_open_view AS SELECT id, secret FROM accounts_open;

    CREATE TABLE vaults (id int, secret text);
    CREATE TABLE vaults_open () INHERITS (vaults);
    INSERT INTO vaults_open VALUES (1, '${SECRETS.vaultsOpen}');
    CREATE VIEW vaults_open_view AS SELECT id, secret FROM vaults_open;

    CREATE TABLE wlog (id int, body text);
    INSERT INTO wlog VALUES (1, 'wlog-plain');
    CREATE VIEW wlog_view AS SELECT id, body FROM wlog;
    CREATE TABLE notes (id int, body text);
    CREATE VIEW notes_view AS SELECT id, body FROM notes;

    CREATE VIEW roles_view AS SELECT rolname FROM pg_catalog.pg_roles;

    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
    GRANT INSERT, UPDATE, DELETE ON wlog_view, notes_view, secrets_view TO ${db.role};
  `);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

/** The whole response (text and structured content) holds none of the denied rows' values. */
const assertNoLeak = noLeakOf(ALL_SECRETS);

async function ok(sql: string, w = warden): Promise<Result> {
  const r = await w.query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 400)}`);
  assertNoLeak(r, sql);
  return r;
}

async function denied(sql: string, rules: readonly string[], message: RegExp, w = warden): Promise<Result> {
  const r = await w.query(sql);
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.match(r.text, message, sql);
  const ids = (r.structured as { error: { rule_ids: string[] } }).error.rule_ids;
  for (const id of rules) assert.ok(ids.includes(id), `${sql}: rule ${id} not in ${JSON.stringify(ids)}`);
  assertNoLeak(r, sql);
  return r;
}

describe('reading a view counts as reading what its definition reads', () => {
  test('a view over a denied table', async () => {
    await denied('SELECT * FROM secrets_view', ['no-secrets'], /public\.secrets_view reads public\.secrets/);
    await denied('SELECT secret FROM public.secrets_view WHERE id = 1', ['no-secrets'], /public\.secrets\b/);
    await denied('SELECT count(*) AS n FROM secrets_view', ['no-secrets'], /public\.secrets\b/);
  });

  test('a view of a view', async () => {
    await denied('SELECT s FROM secrets_view2', ['no-secrets'], /public\.secrets_view2 reads public\.secrets_view, which reads public\.secrets/);
  });

  test('a materialized view', async () => {
    await denied('SELECT * FROM secrets_mv', ['no-secrets'], /public\.secrets_mv reads public\.secrets/);
  });

  test('a denied table read only in a WHERE subquery, a scalar subquery or a join of the definition', async () => {
    await denied('SELECT count(*) AS n FROM where_view', ['no-secrets'], /public\.secrets\b/);
    await denied('SELECT id FROM scalar_view', ['no-secrets'], /public\.secrets\b/);
    await denied('SELECT info FROM join_view', ['no-secrets'], /public\.secrets\b/);
  });

  test('a view reached from a subquery or a CTE of the statement', async () => {
    await denied('SELECT info FROM info_view WHERE id IN (SELECT id FROM secrets_view)', ['no-secrets'], /public\.secrets\b/);
    await denied('WITH x AS (SELECT * FROM secrets_mv) SELECT count(*) AS n FROM x', ['no-secrets'], /public\.secrets\b/);
  });

  test('a view over nothing denied reads as before, granted by its own name', async () => {
    const r = await ok('SELECT id, info FROM info_view');
    assert.match(r.text, /info-plain/);
  });
});

describe('views over inheritance trees', () => {
  test('a view over a parent named without ONLY reaches its denied child', async () => {
    await denied('SELECT * FROM ledger_view', ['no-ledger-vault'], /public\.ledger_view reads public\.ledger, .*public\.ledger_vault/);
  });

  test('a view over a partitioned table reaches its denied partition', async () => {
    await denied('SELECT count(*) AS n FROM accounts_view', ['no-frozen-accounts'], /public\.accounts_frozen/);
    const r = await ok('SELECT secret FROM accounts_open_view');
    assert.match(r.text, /open-plain/);
  });

  test("ONLY inside a view's definition: the parent's own rows, the child's deny does not apply", async () => {
    const r = await ok('SELECT id, secret FROM ledger_only_view');
    assert.match(r.text, /ledger-plain/);
  });

  test("a view over a child of a denied parent: the child's rows are the parent's", async () => {
    await denied('SELECT * FROM vaults_open_view', ['no-vaults'], /public\.vaults\b/);
  });
});

describe('writes through views', () => {
  test('a write to a view is a write to its base table', async () => {
    await denied("INSERT INTO wlog_view (id, body) VALUES (2, 'w')", ['no-wlog-writes'], /public\.wlog\b/);
    await denied("UPDATE wlog_view SET body = 'w'", ['no-wlog-writes'], /public\.wlog\b/);
    await denied('DELETE FROM wlog_view WHERE id = 1', ['no-wlog-writes'], /public\.wlog\b/);
    await denied("INSERT INTO secrets_view (id, secret) VALUES (9, 'x')", ['no-secrets'], /public\.secrets\b/);
  });

  test('reading a view over a table whose writes are denied reads as before; writes through another view run', async () => {
    const r = await ok('SELECT body FROM wlog_view');
    assert.match(r.text, /wlog-plain/);
    await ok("INSERT INTO notes_view (id, body) VALUES (1, 'n')");
  });

  test('nothing was written through a refused view', async () => {
    assert.deepEqual((await db.query('SELECT id, body FROM wlog ORDER BY id')).rows, [{ id: 1, body: 'wlog-plain' }]);
    assert.deepEqual((await db.query('SELECT id FROM secrets ORDER BY id')).rows, [{ id: 1 }]);
    assert.deepEqual((await db.query('SELECT id, body FROM notes')).rows, [{ id: 1, body: 'n' }]);
  });
});

describe('views deny rules cannot follow are refused', () => {
  test('a view calling a function whose body deny rules cannot see', async () => {
    await denied('SELECT * FROM fn_view', [], /deny rules cannot be followed through view public\.fn_view: .*public\.get_secrets/);
  });

  test('a view whose definition the analyser does not understand', async () => {
    await denied('SELECT * FROM xml_view', [], /deny rules cannot be followed through view public\.xml_view/);
  });

  test('a function reading a denied table is not on the allow-list unless granted by name', async () => {
    const r = await warden.query('SELECT * FROM public.get_secrets()');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: no rule allows this call/);
    assertNoLeak(r, 'get_secrets()');
  });

  test('a system view reads only system catalogs: no deny here names one', async () => {
    await ok('SELECT count(*) AS n FROM information_schema.tables');
  });
});

describe('describe_database', () => {
  type Described = { table: string; access: string[]; note?: string; requires_only?: string[] };
  let tables: Described[];
  before(async () => {
    const r = await warden.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    assertNoLeak(r, 'describe_database');
    tables = (r.structured as { data: { tables: Described[] } }).data.tables;
  });
  const find = (name: string): Described => {
    const t = tables.find((x) => x.table === name);
    assert.ok(t, `${name} is not described: ${tables.map((x) => x.table).join(', ')}`);
    return t;
  };

  test('a view over a denied relation is listed with no access, and the refusal as note', () => {
    for (const [view, reaches] of [
      ['secrets_view', 'public.secrets'],
      ['secrets_view2', 'public.secrets'],
      ['secrets_mv', 'public.secrets'],
      ['where_view', 'public.secrets'],
      ['scalar_view', 'public.secrets'],
      ['join_view', 'public.secrets'],
      ['ledger_view', 'public.ledger_vault'],
      ['accounts_view', 'public.accounts_frozen'],
      ['vaults_open_view', 'public.vaults'],
    ] as const) {
      const t = find(`public.${view}`);
      assert.deepEqual(t.access, [], `${view}: ${JSON.stringify(t)}`);
      assert.ok((t.note ?? '').includes(reaches), `${view}: ${t.note}`);
    }
    for (const view of ['fn_view', 'xml_view']) {
      const t = find(`public.${view}`);
      assert.deepEqual(t.access, [], `${view}: ${JSON.stringify(t)}`);
      assert.match(t.note ?? '', new RegExp(`deny rules cannot be followed through view public\\.${view}`), view);
    }
  });

  test('views over nothing denied keep their access; a write-denied base takes write from its view', () => {
    assert.deepEqual(find('public.info_view').access, ['read']);
    assert.deepEqual(find('public.ledger_only_view').access, ['read']);
    assert.deepEqual(find('public.accounts_open_view').access, ['read']);
    assert.deepEqual(find('public.notes_view').access, ['read', 'write']);
    assert.deepEqual(find('public.wlog_view').access, ['read']);
    for (const v of ['public.info_view', 'public.ledger_only_view', 'public.notes_view']) assert.equal(find(v).requires_only, undefined, v);
  });

  test('every relation reads as described', async () => {
    for (const t of tables) {
      const r = await warden.query(`SELECT count(*) AS n FROM ${t.table}`);
      assert.equal(r.isError, !t.access.includes('read'), `${t.table} described ${JSON.stringify(t.access)}: ${r.text.slice(0, 300)}`);
      assertNoLeak(r, t.table);
    }
  });
});

describe('a deny on a system catalog', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': SYSTEM_POLICY }, sqlConfig());
  });
  after(async () => {
    await w?.close();
  });

  test('refuses the system views and the views over them; system tables and other views read as before', async () => {
    await denied('SELECT count(*) AS n FROM pg_catalog.pg_roles', ['no-authid'], /pg_catalog\.pg_authid/, w);
    await denied('SELECT count(*) AS n FROM information_schema.tables', ['no-authid'], /pg_catalog\.pg_authid/, w);
    await denied('SELECT rolname FROM roles_view', ['no-authid'], /public\.roles_view reads pg_catalog\.pg_roles/, w);
    await ok('SELECT count(*) AS n FROM pg_catalog.pg_class', w);
    await ok('SELECT info FROM info_view', w);
  });
});

describe('the transcript', () => {
  test('holds no denied value', () => {
    const raw = Buffer.concat([warden.dir.dbPath, warden.dir.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
    for (const secret of ALL_SECRETS) assert.equal(raw.includes(secret), false, `transcript holds ${secret}`);
  });
});
