/**
 * Column masks through views, via `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL. The hole: PostgreSQL's field metadata names the view's column, not the base
 * table's, so a mask on public.users.email did not mask `SELECT email FROM user_view`. A grant
 * on a view grants the view only (PostgreSQL's own privileges apply to the view's owner); the
 * masks follow the view's lineage down to the base columns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const CONFIG = sqlConfig();

// Column masking only (no content detectors): what must hold comes from lineage alone.
const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
rules:
  - id: read-views
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select]
      read: [public.user_view, public.user_view2, public.lower_view, public.row_view, public.safe_view, '"Contacts"']
      functions: [count, lower, upper, length]
`;

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eviews' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', '${EMAIL}', '${SSN}');
    CREATE VIEW user_view AS SELECT id, name, email FROM users;
    CREATE VIEW user_view2 AS SELECT v.id, v.email AS contact, u.ssn FROM user_view v JOIN users u ON u.id = v.id;
    CREATE VIEW "Contacts" AS SELECT id, email AS "Email" FROM users;
    CREATE VIEW lower_view AS SELECT id, lower(email) AS e FROM users;
    CREATE VIEW safe_view AS SELECT id, name FROM users;
    CREATE VIEW row_view AS SELECT u AS whole FROM users u;
  `);
  // The login role may read the views only; the views read users with their owner's rights.
  await db.query(`GRANT SELECT ON user_view, user_view2, "Contacts", lower_view, safe_view, row_view TO ${db.role}`);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG);
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const query = (sql: string) => warden.query(sql);

const assertNoLeak = noLeakOf([EMAIL, SSN, SSN.replace(/-/g, '')]);

describe('masks follow views', () => {
  for (const sql of ['SELECT email FROM user_view', 'SELECT * FROM user_view', 'SELECT contact, ssn FROM user_view2', 'SELECT * FROM user_view2', 'SELECT "Email" FROM "Contacts"']) {
    test(`${sql}: masked by the base column's rule`, async () => {
      const r = await query(sql);
      assert.equal(r.isError, false, r.text);
      assert.match(r.text, /a\*+@example\.com/, 'the email arrives masked partially');
      assertNoLeak(r, sql);
    });
  }

  test('a derived view column is refused under on_derived: deny', async () => {
    for (const sql of ['SELECT e FROM lower_view', 'SELECT * FROM lower_view', 'SELECT upper(email) AS x FROM user_view']) {
      const r = await query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.email flows through an expression/);
      assertNoLeak(r, sql);
    }
  });

  test('a view whose definition cannot be analysed is refused with a coded error', async () => {
    const r = await query('SELECT whole FROM row_view');
    assert.equal(r.isError, true);
    assert.match(r.text, /^WARDEN_DENIED: masked columns cannot be followed through view public\.row_view/);
    assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns']);
    assertNoLeak(r, 'row_view');
  });

  test('a view with no masked column reads as before', async () => {
    const r = await query('SELECT id, name FROM safe_view');
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /Alice/);
  });

  test('the transcript holds no unmasked value', () => {
    const raw = Buffer.concat([warden.dir.dbPath, warden.dir.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
    for (const secret of [EMAIL, SSN]) assert.equal(raw.includes(secret), false, `transcript holds ${secret}`);
  });
});

describe('a grant on a view grants the view, not its base tables', () => {
  test('the base table stays denied', async () => {
    const r = await query('SELECT id FROM users');
    assert.equal(r.isError, true);
    assert.match(r.text, /^WARDEN_DENIED: .*public\.users/);
  });
});
