/**
 * DDL through `warden serve` (real MCP client over stdio) against a real PostgreSQL: a grant of
 * create/alter/drop/comment on named tables runs them; functions in DEFAULT/CHECK/index
 * expressions and tables behind REFERENCES are checked like a SELECT's; an unqualified created
 * name and CREATE INDEX CONCURRENTLY are refused with a clear error. Then unqualified `pg_*`
 * names: PostgreSQL falls back to public.pg_* when pg_catalog has no such relation, and picks a
 * public overload of a pg_catalog function, so neither may run under the pg_catalog reading.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const CONFIG = sqlConfig('agent', ['dba']);

const POLICY = `
rules:
  - id: ddl-items
    effect: allow
    who: { groups: [dba] }
    tool: query_database
    on: [db]
    sql:
      statements: [create, alter, drop, comment, insert, select]
      write: [public.items, public.items_lower, public.items_view]
      read: [public.users]
      functions: [lower, now, length]
  - id: read-catalog
    effect: allow
    who: { groups: [dba] }
    tool: query_database
    on: [db]
    sql:
      read: [pg_class, pg_secret]
      functions: [pg_size_pretty, pg_typeof, count]
  - id: no-public-pg-secret
    effect: deny
    tool: query_database
    sql: { read: [public.pg_secret] }
    reason: public.pg_secret is off limits.
`;

const SECRET = 'pg-shadow-secret-0000';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'ddl' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text);
    CREATE TABLE secrets (id int PRIMARY KEY, value text);
    INSERT INTO users VALUES (1, 'Alice');
    INSERT INTO secrets VALUES (1, '${SECRET}');
    CREATE TABLE public.pg_secret (value text);
    INSERT INTO public.pg_secret VALUES ('${SECRET}');
    CREATE FUNCTION public.pg_typeof(int) RETURNS text LANGUAGE sql AS $$ SELECT value FROM public.secrets LIMIT 1 $$;
    GRANT CREATE, USAGE ON SCHEMA public TO ${db.role};
    GRANT SELECT, REFERENCES ON users, secrets, pg_secret TO ${db.role};
  `);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG);
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const query = (sql: string) => warden.query(sql);
const ok = async (sql: string) => {
  const r = await query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
  return r;
};
const noLeak = (r: { text: string; structured?: Record<string, unknown> }, what: string) =>
  assert.ok(!`${r.text}${JSON.stringify(r.structured ?? {})}`.includes(SECRET), `${what} leaks the secret: ${r.text.slice(0, 300)}`);

describe('a DDL grant runs the common DDL', () => {
  test('create table, index, view; alter; comment; drop index', async () => {
    await ok(`CREATE TABLE public.items (
      id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      owner int NOT NULL REFERENCES public.users (id),
      name varchar(80) NOT NULL DEFAULT 'x' CHECK (length(name) > 0),
      created timestamptz DEFAULT now()
    )`);
    await ok('CREATE INDEX items_lower ON public.items (lower(name)) WHERE owner > 0');
    await ok("ALTER TABLE public.items ADD COLUMN note text DEFAULT 'n/a', ALTER COLUMN name SET DEFAULT 'y'");
    await ok("COMMENT ON TABLE public.items IS 'made by the agent'");
    await ok('INSERT INTO public.items (owner) VALUES (1)');
    await ok('CREATE VIEW public.items_view AS SELECT id, name FROM public.items');
    await ok('DROP INDEX public.items_lower');
    const cols = await db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'public.items'::regclass AND attnum > 0 ORDER BY attnum");
    assert.deepEqual(cols.rows.map((r) => r.attname), ['id', 'owner', 'name', 'created', 'note']);
    const idx = await db.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'items_lower'");
    assert.equal(idx.rows[0]?.n, 0);
    const comment = await db.query("SELECT obj_description('public.items'::regclass) AS c");
    assert.equal(comment.rows[0]?.c, 'made by the agent');
  });

  test('a function or a table outside the grant, in a DDL expression or a reference, is denied', async () => {
    for (const [sql, why] of [
      ['CREATE TABLE public.items2 (a int DEFAULT pg_sleep(1))', /WARDEN_DENIED/],
      ['ALTER TABLE public.items ADD COLUMN x int DEFAULT pg_sleep(1)', /WARDEN_DENIED/],
      ['ALTER TABLE public.items ADD CONSTRAINT c CHECK (pg_sleep(0) IS NOT NULL)', /WARDEN_DENIED/],
      ['CREATE INDEX ON public.items ((owner + pg_sleep(1)))', /WARDEN_DENIED/],
      ['ALTER TABLE public.items ADD COLUMN s int REFERENCES public.secrets (id)', /WARDEN_DENIED/],
      ['CREATE TABLE public.items2 (a int)', /WARDEN_DENIED/],
    ] as const) {
      const r = await query(sql);
      assert.equal(r.isError, true, sql);
      assert.match(r.text, why, sql);
    }
    const cols = await db.query("SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'public.items'::regclass AND attname IN ('x', 's')");
    assert.equal(cols.rows[0]?.n, 0);
  });

  test('an unqualified created name is refused with a hint, before PostgreSQL answers permission denied', async () => {
    for (const [sql, name] of [['CREATE TABLE items (a int)', 'public.items'], ['CREATE VIEW items_view AS SELECT 1', 'public.items_view']] as const) {
      const r = await query(sql);
      assert.equal(r.isError, true);
      assert.match(r.text, /^WARDEN_PARSE: /);
      assert.ok(r.text.includes(`(${name})`), r.text);
    }
  });

  test('CREATE INDEX CONCURRENTLY is refused with the reason', async () => {
    const r = await query('CREATE INDEX CONCURRENTLY items_c ON public.items (owner)');
    assert.equal(r.isError, true);
    assert.match(r.text, /^WARDEN_PARSE: .*CONCURRENTLY.*transaction block/);
  });
});

describe('unqualified pg_* names', () => {
  test('a public.pg_* table read unqualified is refused, not read as a pg_catalog table', async () => {
    for (const sql of ['SELECT * FROM pg_secret', 'SELECT value FROM pg_secret', 'SELECT count(*) FROM pg_class, pg_secret']) {
      const r = await query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_PARSE: .*pg_secret is not a relation of pg_catalog/);
      noLeak(r, sql);
    }
    const qualified = await query('SELECT * FROM public.pg_secret');
    assert.match(qualified.text, /^WARDEN_DENIED: /);
    noLeak(qualified, 'public.pg_secret');
  });

  test('a real catalog relation still reads unqualified', async () => {
    const r = await ok("SELECT count(*) FROM pg_class WHERE relname = 'users'");
    assert.match(r.text, /1/);
  });

  test('a pg_* function overloaded in public is refused unqualified; qualified it runs', async () => {
    const r = await query('SELECT pg_typeof(1)');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_PARSE: .*public\.pg_typeof/);
    noLeak(r, 'pg_typeof(1)');
    const q = await ok('SELECT pg_catalog.pg_typeof(1)');
    assert.match(q.text, /integer/);
    noLeak(q, 'pg_catalog.pg_typeof(1)');
    await ok('SELECT pg_size_pretty(count(*)) FROM pg_class');
  });
});
