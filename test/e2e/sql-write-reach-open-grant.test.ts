/**
 * Trigger trust under a grant with no `sql` block (write-reach.ts): such a grant allows every
 * function but names none, so a trigger whose function is neither built in nor named by a
 * grant's `functions:` refuses the write while a deny rule on tables could apply, as README
 * "Denies follow what a write sets off" says. It was trusted: the judge, asked again with the
 * function among the statement's calls, allowed it (the grant allows every function), so a
 * trigger writing a write-denied table ran. A grant naming the function still trusts it.
 * A domain's CHECK is the same: an INSERT or UPDATE of a column whose type is a domain with a
 * CHECK calling a function outside pg_catalog runs that function (it wrote a write-denied table
 * under a sql grant of the written table alone); it is judged as a trigger's function (an UPDATE
 * setting another column does not run it, and runs).
 * Via `warden serve` against a real PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const OPEN = `
rules:
  - id: everything
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
`;
const SQL_GRANT = `
rules:
  - id: items-writer
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [insert, update], write: [public.items] }
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
`;
const SQL_GRANT_NAMED = SQL_GRANT.replace('write: [public.items] }', 'write: [public.items], functions: [public.spy] }');
const NAMED = `${OPEN}
  - id: audited-writer
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [insert], write: [public.audited], functions: [public.audit_write] }
`;

let db: TestDatabase;
let open: SqlWarden | undefined;
let named: SqlWarden | undefined;
let items: SqlWarden | undefined;
let itemsNamed: SqlWarden | undefined;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreachopen' });
  await db.query(`
    CREATE TABLE vault (body text);
    CREATE FUNCTION audit_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('audited'); RETURN NULL; END $$;
    CREATE TABLE audited (body text);
    CREATE TRIGGER audit AFTER INSERT ON audited FOR EACH STATEMENT EXECUTE FUNCTION audit_write();
    CREATE FUNCTION spy(t text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('spied ' || t); RETURN true; END $$;
    CREATE DOMAIN guarded AS text CHECK (public.spy(VALUE));
    CREATE DOMAIN guarded_again AS guarded;
    CREATE TABLE items (id int, label public.guarded, labels public.guarded_again[], note text);
  `);
  await ownTables(db, ['vault', 'audited', 'items']);
  [open, named, items, itemsNamed] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': OPEN }),
    startSqlWarden(db, { 'p.yaml': NAMED }),
    startSqlWarden(db, { 'p.yaml': SQL_GRANT }),
    startSqlWarden(db, { 'p.yaml': SQL_GRANT_NAMED }),
  ]);
});

after(async () => {
  await Promise.all([open?.close(), named?.close(), items?.close(), itemsNamed?.close()]);
  await db?.drop();
});

const vaultRows = async (): Promise<number> => Number((await db.query('SELECT count(*) AS n FROM vault')).rows[0]!.n);

test('a grant with no sql block: a trigger writing a write-denied table is refused, nothing written', async () => {
  const before = await vaultRows();
  const r = await open!.query("INSERT INTO public.audited VALUES ('x')");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: deny rules cannot be followed into trigger audit on public\.audited/);
  assert.match(r.text, /no-vault/);
  assert.equal(await vaultRows(), before, 'the trigger did not write the vault');
});

test('a grant naming the trigger function trusts it (the admin\'s choice)', async () => {
  const r = await named!.query("INSERT INTO public.audited VALUES ('y')");
  assert.equal(r.isError, false, r.text);
});

test('a domain CHECK calling a function outside pg_catalog: the write is refused while a deny on tables applies, nothing written', async () => {
  const before = await vaultRows();
  for (const sql of [
    "INSERT INTO public.items (id, label) VALUES (1, 'a')",
    "INSERT INTO public.items (id, labels) VALUES (2, ARRAY['b'])",
    "UPDATE public.items SET label = 'n' WHERE id = 1",
  ]) {
    for (const w of [items!, open!]) {
      const r = await w.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text}`);
      assert.match(r.text, /^WARDEN_DENIED: deny rules cannot be followed into domain public\.guarded's CHECK .*public\.spy/, sql);
    }
  }
  assert.equal(await vaultRows(), before, 'the domain CHECK did not write the vault');
  // An UPDATE setting another column does not evaluate the domain's CHECK (write-runs.ts): it runs, the vault untouched.
  const other = await items!.query("UPDATE public.items SET note = 'n' WHERE id = 1");
  assert.equal(other.isError, false, other.text);
  assert.equal(await vaultRows(), before);
});

test('a grant naming the domain CHECK\'s function trusts it', async () => {
  const r = await itemsNamed!.query("INSERT INTO public.items (id, label) VALUES (3, 'c')");
  assert.equal(r.isError, false, r.text);
});
