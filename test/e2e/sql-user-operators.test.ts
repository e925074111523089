/**
 * An operator is a function call the statement does not spell: PostgreSQL resolves `status = 1`
 * by the argument types among the operators on the search path, and an operator created in
 * public (`CREATE OPERATOR public.= (leftarg = text, rightarg = int, function = public.f)`)
 * wins for text = integer, running a function no grant names. Through `warden serve` against a
 * real PostgreSQL: an agent granted UPDATE of orders.status alone wrote the denied table secrets
 * from such an operator's function, and copied the masked orders.card into it with a prefix
 * operator (`WHERE !!! card`). A statement that uses an operator name (written, or implied by
 * IN, LIKE, BETWEEN...) that some operator outside pg_catalog, not an extension's, carries on
 * the search path is now refused (query-database.ts via user-operators.ts) and nothing runs;
 * extension operators (citext, hstore, PostGIS in public) do not refuse a statement.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
masking:
  columns:
    - { column: public.orders.card, with: redact }
rules:
  - id: status-editor
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, update]
      read: [public.orders]
      write_columns: [public.orders.status]
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
`;

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'useroperators' });
  await db.query(`
    CREATE TABLE orders (id int PRIMARY KEY, status text, card text);
    INSERT INTO orders VALUES (1, 'open', '4111111111111111');
    CREATE TABLE secrets (id int, s text);
    CREATE FUNCTION public.keep_eq(text, int) RETURNS bool LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO public.secrets VALUES (1, $1); RETURN true; END $f$;
    CREATE OPERATOR public.= (leftarg = text, rightarg = int, function = public.keep_eq);
    CREATE FUNCTION public.keep_like(text, int) RETURNS bool LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO public.secrets VALUES (2, $1); RETURN true; END $f$;
    CREATE OPERATOR public.~~ (leftarg = text, rightarg = int, function = public.keep_like);
    CREATE FUNCTION public.keep_one(text) RETURNS bool LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO public.secrets VALUES (3, $1); RETURN true; END $f$;
    CREATE OPERATOR public.!!! (rightarg = text, function = public.keep_one);
    CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
  `);
  await ownTables(db, ['orders', 'secrets']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

async function secrets(): Promise<number> {
  return ((await db.query('SELECT count(*)::int AS n FROM secrets')).rows[0] as { n: number }).n;
}

test("a statement using an operator some user's operator in public carries is refused, and its function never runs", async () => {
  for (const sql of [
    "UPDATE orders SET status = 'x' WHERE status = 1",
    "UPDATE orders SET status = 'x' WHERE !!! card",
    "UPDATE orders SET status = 'x' WHERE status LIKE 1",
    "UPDATE orders SET status = 'x' WHERE status IN (1, 2)",
    'SELECT id FROM orders WHERE !!! card',
    "WITH u AS (UPDATE orders SET status = 'x' WHERE status = 1 RETURNING id) SELECT id FROM u",
  ]) {
    const r = await warden.query(sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: .*operator .* outside pg_catalog/, sql);
  }
  assert.equal(await secrets(), 0, "no operator's function ran");
  assert.deepEqual((await db.query('SELECT status FROM orders')).rows, [{ status: 'open' }]);
});

test('statements whose operators only pg_catalog and extensions carry still run', async () => {
  // citext (an extension, in public) carries <>, <, <=, >, >= as well: its operators are its own,
  // not a user's. (Any statement with = is refused in this database: the = of SET included.)
  const citext = await db.query("SELECT count(*)::int AS n FROM pg_operator WHERE oprname IN ('<>', '>', '>=', '<=') AND oprnamespace = 'public'::regnamespace");
  assert.ok((citext.rows[0] as { n: number }).n >= 4, 'citext put its operators in public');
  const sql = "SELECT id, status FROM orders WHERE status <> 'x' AND id BETWEEN 0 AND 5 AND id > 0";
  const r = await warden.query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /open/);
  assert.equal(await secrets(), 0);
});
