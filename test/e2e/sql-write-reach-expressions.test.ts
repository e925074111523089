/**
 * Functions a write runs through the table's own expressions (write-reach.ts, view-reader.ts):
 * a table's CHECK, a column's DEFAULT, a generated column, an index's expression or partial-index
 * predicate, a CHECK calling its function through an operator, a domain's DEFAULT, a domain
 * CHECK reached through a composite type's attribute, and a partition key expression (on the
 * partitioned table, and on a partition written directly: its partition constraint). Each ran public.spy, which wrote the
 * write-denied public.vault, under a grant that allows writing the target table only: the
 * function is one the statement does not name, and was not followed. Now each counts as a
 * trigger's function: neither built in nor named by a grant's `functions:`, it refuses the write
 * while a deny rule on tables could apply, naming the construct; a grant naming public.spy trusts
 * it; a plain read is not refused; describe_database withholds `write` when a deny names the
 * function. Via `warden serve` against a real PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const TARGETS = ['t_default', 't_check', 't_generated', 't_index', 't_partial', 't_operator', 't_domdefault', 't_composite', 't_keyed', 't_keyed_a'];
const GRANT = `
rules:
  - id: targets-writer
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql: { statements: [select, insert, update], read: [${TARGETS.join(', ')}], write: [${TARGETS.join(', ')}] }
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
`;
const NAMED = GRANT.replace('write: [t_default', 'functions: [public.spy, public.spy_eq], write: [t_default');
const FN_DENIED = `${GRANT}
  - id: no-spy
    effect: deny
    tool: [query_database, describe_database]
    sql: { functions: [public.spy] }
`;

let db: TestDatabase;
let plain: SqlWarden | undefined;
let named: SqlWarden | undefined;
let fnDenied: SqlWarden | undefined;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreachexpr' });
  await db.query(`
    CREATE TABLE vault (body text);
    CREATE FUNCTION leak(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('spied ' || t); END $$;
    -- IMMUTABLE so that generated columns and indexes accept it; it calls the volatile leak().
    CREATE FUNCTION spy(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM public.leak(t); RETURN t; END $$;
    CREATE FUNCTION spy_eq(a text, b text) RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM public.leak(a); RETURN true; END $$;
    CREATE OPERATOR public.=~~ (FUNCTION = public.spy_eq, LEFTARG = text, RIGHTARG = text);
    CREATE TABLE t_default (id int, c text DEFAULT public.spy('default'));
    CREATE TABLE t_check (id int, c text, CONSTRAINT c_spy CHECK (public.spy(c) IS NOT NULL));
    CREATE TABLE t_generated (id int, c text, g text GENERATED ALWAYS AS (public.spy(c)) STORED);
    CREATE TABLE t_index (id int, c text);
    CREATE INDEX t_index_idx ON t_index ((public.spy(c)));
    CREATE TABLE t_partial (id int, c text);
    CREATE INDEX t_partial_idx ON t_partial (id) WHERE public.spy(c) IS NOT NULL;
    CREATE TABLE t_operator (id int, c text, CONSTRAINT op_spy CHECK (c OPERATOR(public.=~~) 'x'));
    CREATE DOMAIN spied AS text DEFAULT public.spy('domain default');
    CREATE TABLE t_domdefault (id int, c public.spied);
    CREATE DOMAIN checked AS text CHECK (public.spy(VALUE) IS NOT NULL);
    CREATE TYPE pair AS (a public.checked, b int);
    CREATE TABLE t_composite (id int, p public.pair);
    CREATE TABLE t_keyed (id int, c text) PARTITION BY LIST (public.spy(c));
    CREATE TABLE t_keyed_a PARTITION OF t_keyed FOR VALUES IN ('a');
  `);
  await ownTables(db, ['vault', ...TARGETS]);
  [plain, named, fnDenied] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': GRANT }),
    startSqlWarden(db, { 'p.yaml': NAMED }),
    startSqlWarden(db, { 'p.yaml': FN_DENIED }),
  ]);
});

after(async () => {
  await Promise.all([plain?.close(), named?.close(), fnDenied?.close()]);
  await db?.drop();
});

const vaultRows = async (): Promise<number> => Number((await db.query('SELECT count(*) AS n FROM vault')).rows[0]!.n);

const CASES: [string, RegExp][] = [
  ['INSERT INTO public.t_default (id) VALUES (1)', /column public\.t_default\.c's DEFAULT/],
  ['UPDATE public.t_default SET c = DEFAULT', /column public\.t_default\.c's DEFAULT/],
  ["INSERT INTO public.t_check VALUES (1, 'a')", /table public\.t_check's CHECK c_spy/],
  ["INSERT INTO public.t_generated (id, c) VALUES (1, 'a')", /generated column public\.t_generated\.g/],
  ["INSERT INTO public.t_index VALUES (1, 'a')", /index public\.t_index_idx's expression/],
  ["INSERT INTO public.t_partial VALUES (1, 'a')", /index public\.t_partial_idx's predicate/],
  ["INSERT INTO public.t_operator VALUES (1, 'x')", /table public\.t_operator's CHECK op_spy.*public\.spy_eq/],
  ['INSERT INTO public.t_domdefault (id) VALUES (1)', /domain public\.spied's DEFAULT on public\.t_domdefault/],
  ["INSERT INTO public.t_composite (id, p) VALUES (1, ROW('a', 1))", /domain public\.checked's CHECK checked_check on public\.t_composite/],
  ["INSERT INTO public.t_keyed VALUES (1, 'a')", /partition key of public\.t_keyed/],
  ["INSERT INTO public.t_keyed_a VALUES (1, 'a')", /partition key of public\.t_keyed/],
];

test('each expression calling a function outside pg_catalog refuses the write while a deny on tables applies; nothing is written', async () => {
  const wrong: string[] = [];
  for (const [sql, what] of CASES) {
    const r = await plain!.query(sql);
    const refused = r.isError && /^WARDEN_DENIED: deny rules cannot be followed into /.test(r.text) && what.test(r.text) && /no-vault/.test(r.text);
    if (!refused) wrong.push(`${sql} -> ${r.text.slice(0, 600)}`);
  }
  assert.deepEqual(wrong, [], 'every write refused, naming the construct');
  assert.equal(await vaultRows(), 0, 'no expression wrote the vault');
});

test('a plain read of those tables is not refused', async () => {
  for (const t of TARGETS) {
    const r = await plain!.query(`SELECT * FROM public.${t}`);
    assert.equal(r.isError, false, `${t}: ${r.text}`);
  }
});

test('a grant naming the functions trusts them (the admin\'s choice)', async () => {
  for (const [sql] of CASES) {
    const r = await named!.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text}`);
  }
  assert.ok((await vaultRows()) > 0, 'the trusted functions ran');
});

test('a deny naming the function refuses the write, and describe_database withholds write', async () => {
  const r = await fnDenied!.query("INSERT INTO public.t_check VALUES (2, 'b')");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /no-spy/);
  const d = await fnDenied!.w.call('describe_database', { connection: 'db' });
  assert.equal(d.isError, false, d.text);
  const tables = (d.structured as { data: { tables: { table: string; access: string[] }[] } }).data.tables;
  for (const t of ['t_default', 't_check', 't_generated', 't_index', 't_partial', 't_domdefault', 't_composite', 't_keyed', 't_keyed_a']) {
    const row = tables.find((x) => x.table === `public.${t}`);
    assert.ok(row, `${t} listed: ${JSON.stringify(tables)}`);
    assert.deepEqual(row.access, ['read'], `${t}: ${JSON.stringify(row)}`);
  }
  // spy_eq is no deny's: its table keeps write.
  assert.deepEqual(tables.find((x) => x.table === 'public.t_operator')?.access, ['read', 'write']);
});
