/**
 * A write grant reaches more than the tables the statement names when the schema makes a change
 * of rows run more: a foreign key ON DELETE CASCADE deletes the referencing table's rows, a rule
 * (DO ALSO / DO INSTEAD) or a trigger writes wherever its code says. Deny rules judge what a
 * statement reaches (widened-relations.ts), so: a cascade is a write of the referencing table,
 * and a rule (whose action deny rules cannot follow) refuses the write while a deny rule
 * could apply. Triggers are not followed (documented): refusing every table with one would
 * block ordinary schemas under any conditional deny. The hole: `DELETE FROM users` under a grant on users emptied the denied
 * public.orders, and `INSERT INTO notes` wrote the denied public.vault through a rule.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      write: [public.users, public.notes, public.plain, public.note_view]
  - id: no-orders
    effect: deny
    tool: query_database
    sql: { write: [public.orders] }
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
`;

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2esidefx' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text);
    CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id) ON DELETE CASCADE);
    INSERT INTO users VALUES (1, 'a'), (2, 'b');
    INSERT INTO orders VALUES (10, 1), (20, 2);
    CREATE TABLE vault (body text);
    CREATE TABLE notes (body text);
    CREATE RULE notes_copy AS ON INSERT TO notes DO ALSO INSERT INTO vault VALUES (NEW.body);
    CREATE TABLE plain (body text);
    CREATE VIEW note_view AS SELECT body FROM plain;
    CREATE RULE note_view_ins AS ON INSERT TO note_view DO INSTEAD INSERT INTO vault VALUES (NEW.body);
  `);
  await ownTables(db, ['users', 'orders', 'vault', 'notes', 'plain', 'note_view']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

async function count(table: string): Promise<number> {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
  return (r.rows[0] as { n: number }).n;
}

test('a write with no side effects still runs', async () => {
  const r = await warden.query("INSERT INTO plain VALUES ('ok')");
  assert.equal(r.isError, false, r.text);
});

test('DELETE cascading through a foreign key into a denied table is refused', async () => {
  const r = await warden.query('DELETE FROM users WHERE id = 1');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.match(r.text, /orders/);
  assert.equal(await count('orders'), 2, 'the cascade must not have run');
});

for (const [name, sql] of [
  ['a DO ALSO rule on the table', "INSERT INTO notes VALUES ('via-rule')"],
  ['a DO INSTEAD rule on a view', "INSERT INTO note_view VALUES ('via-view-rule')"],
] as const) {
  test(`a write whose ${name} writes a denied table is refused`, async () => {
    const r = await warden.query(sql);
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: /);
    assert.equal(await count('vault'), 0, 'the rule must not have run');
  });
}
