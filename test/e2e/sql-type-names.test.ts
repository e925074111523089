/**
 * Type names in casts are resolved by PostgreSQL on the pinned search_path (pg_catalog, then
 * public), exactly for a quoted name. The parser took a quoted type name for the built-in of the
 * same spelling in any case (`"Text"`, `"INTEGER"`) and knew some names PostgreSQL has no built-in
 * type for (MySQL's `tinyint`, `datetime`, `longtext`, a bare `double`, PostGIS's `geometry`,
 * `serial`): PostgreSQL resolves those to a type of that name in public, where a domain's CHECK
 * or a cast runs a function no grant names and no deny rule sees. Here the function reads a
 * denied table and returns its value in the error message. Now such a type name is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const policy = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      read: [public.users]
  - id: no-keys
    effect: deny
    tool: query_database
    sql: { read: [public.keys], functions: [public.peek] }
`;

const KEY = 'KEYSECRET-4242';
const assertNoLeak = noLeakOf([KEY]);

let db: TestDatabase;
let sql: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'typenames' });
  await db.query(`
    CREATE TABLE users (id int, name text);
    INSERT INTO users VALUES (1, 'Alice');
    CREATE TABLE keys (k text);
    INSERT INTO keys VALUES ('${KEY}');
    CREATE FUNCTION public.peek(v text) RETURNS boolean LANGUAGE plpgsql AS $f$
      BEGIN RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = 'peek: ' || (SELECT k FROM keys LIMIT 1); END $f$;
    CREATE DOMAIN public."Text" AS text CHECK (public.peek(VALUE));
    CREATE DOMAIN public."INTEGER" AS int CHECK (public.peek(VALUE::text));
    CREATE DOMAIN public.tinyint AS smallint CHECK (public.peek(VALUE::text));
    CREATE DOMAIN public.longtext AS text CHECK (public.peek(VALUE));
    CREATE DOMAIN public.double AS float8 CHECK (public.peek(VALUE::text));
    CREATE DOMAIN public."integer" AS int CHECK (public.peek(VALUE::text));
  `);
  await ownTables(db, ['users', 'keys']);
  sql = await startSqlWarden(db, { 'p.yaml': policy });
});

after(async () => {
  await sql?.close();
  await db?.drop();
});

describe('a cast to a type name PostgreSQL finds outside pg_catalog is refused', () => {
  for (const q of [
    `SELECT name::"Text" FROM users`,
    `SELECT CAST(name AS "Text") FROM users`,
    `SELECT id::"INTEGER" FROM users`,
    `SELECT id::tinyint FROM users`,
    `SELECT CAST(id AS tinyint) FROM users`,
    `SELECT name::longtext FROM users`,
    `SELECT id::double FROM users`,
    `SELECT id::"integer" FROM users`,
    `SELECT id FROM users WHERE name::"Text" IS NOT NULL`,
  ]) {
    test(q, async () => {
      const r = await sql.query(q);
      assertNoLeak(r, q);
      assert.equal(r.isError, true, `${q}: ${r.text}`);
      assert.match(r.text, /^WARDEN_PARSE: /, q);
    });
  }
});

describe('built-in type names still cast', () => {
  for (const [q, want] of [
    [`SELECT name::text FROM users`, 'Alice'],
    [`SELECT name::"text" FROM users`, 'Alice'],
    [`SELECT id::"int4" + 1 AS n FROM users`, '2'],
    [`SELECT CAST(id AS integer) + 1 AS n FROM users`, '2'],
    [`SELECT id::double precision AS d FROM users`, '1'],
    [`SELECT ARRAY[name]::varchar(3)[] AS a FROM users`, 'Ali'],
    [`SELECT 'x'::"char" AS c FROM users`, 'x'],
  ] as const) {
    test(q, async () => {
      const r = await sql.query(q);
      assert.equal(r.isError, false, `${q}: ${r.text}`);
      assert.match(r.text, new RegExp(want), q);
    });
  }
});
