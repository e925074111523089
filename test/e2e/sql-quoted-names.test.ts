/**
 * Quoted names in policies, through `warden serve` against a real PostgreSQL: a table created
 * as CREATE TABLE "Secrets" is named "Secrets" in a policy, and every rule that names it must
 * apply to it. The hole: the name was lower-cased, so a deny on "Secrets" never fired and a
 * broad allow (no sql: block) read the table past it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const CONFIG = sqlConfig();

const POLICY = `
masking:
  columns:
    - { column: '"Customers"."Email"', with: redact }
rules:
  - id: read-anything
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: ['"Secrets"'] }
    reason: The Secrets table is off limits.
`;

const SECRET = 'launch-code-0000';
const EMAIL = 'carol@example.com';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'quoted' });
  await db.query(`
    CREATE TABLE "Secrets" (id int, value text);
    CREATE TABLE secrets (id int, value text);
    CREATE TABLE "Customers" (id int, "Email" text);
    INSERT INTO "Secrets" VALUES (1, '${SECRET}');
    INSERT INTO secrets VALUES (1, 'lower-case-table');
    INSERT INTO "Customers" VALUES (1, '${EMAIL}');
  `);
  for (const t of ['"Secrets"', 'secrets', '"Customers"']) await db.query(`ALTER TABLE public.${t} OWNER TO ${db.role}`);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG);
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const query = (sql: string) => warden.query(sql);

describe('a policy naming "Secrets" applies to the table created as "Secrets"', () => {
  test('the deny fires, however the statement spells the table', async () => {
    for (const sql of ['SELECT * FROM "Secrets"', 'SELECT value FROM public."Secrets"', 'SELECT count(*) FROM secrets s JOIN "Secrets" t ON s.id = t.id']) {
      const r = await query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_DENIED: /);
      assert.ok(!r.text.includes(SECRET), `${sql} leaks the secret`);
      assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['no-secrets']);
    }
  });

  test('the lower-case table secrets is another table, and the broad allow still reads it', async () => {
    const r = await query('SELECT value FROM secrets');
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /lower-case-table/);
  });

  test('describe_database hides "Secrets" (deny wins in discovery too) but describes secrets', async () => {
    const r = await warden.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; columns: { name: string; masked?: string }[] }[] } }).data.tables;
    const names = tables.map((t) => t.table);
    assert.ok(!names.includes('public.Secrets'), `"Secrets" described: ${names.join(', ')}`);
    assert.ok(names.includes('public.secrets'));
    assert.equal(tables.find((t) => t.table === 'public.Customers')?.columns.find((c) => c.name === 'Email')?.masked, 'redact');
  });

  test('a mask on "Customers"."Email" masks that column', async () => {
    const r = await query('SELECT "Email" FROM "Customers"');
    assert.equal(r.isError, false, r.text);
    assert.ok(!r.text.includes(EMAIL), `the email leaks: ${r.text.slice(0, 200)}`);
  });
});
