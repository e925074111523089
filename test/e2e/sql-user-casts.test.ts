/**
 * A cast is a function call the statement does not spell: `CREATE CAST (public.mood AS text)
 * WITH FUNCTION public.mood_text(public.mood)` makes `mood::text` (and, AS IMPLICIT, `lower(mood)`)
 * run public.mood_text, which no grant names and no deny rule sees. Through `warden serve`
 * against a real PostgreSQL: an agent granted SELECT on items alone read the denied table secret
 * through such casts (on an enum column, an array of it, a domain over it, the table's own row
 * type, a view's column). A statement over a relation one of whose column types (or its row
 * type) a cast with a function outside pg_catalog, not an extension's, converts from or to is
 * now refused (query-database.ts via user-casts.ts) and nothing runs; extension casts (citext)
 * and relations without such types still run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: read-items
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select]
      read: [public.items, public.items_view, public.plain, public.tags]
  - id: no-secret
    effect: deny
    tool: query_database
    sql: { read: [public.secret] }
`;

const SECRET = 'SEKRIT-LAUNCH-CODE';
const noLeak = noLeakOf([SECRET], { caseless: true });

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'usercasts' });
  await db.query(`
    CREATE TABLE secret (value text);
    INSERT INTO secret VALUES ('${SECRET}');
    CREATE TYPE public.mood AS ENUM ('ok', 'sad');
    CREATE DOMAIN public.feeling AS public.mood;
    CREATE TABLE items (id int, name text, mood public.mood, moods public.mood[], feel public.feeling);
    INSERT INTO items VALUES (1, 'widget', 'ok', '{ok}', 'sad');
    CREATE VIEW items_view AS SELECT id, mood FROM items;
    CREATE FUNCTION public.mood_text(public.mood) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT value FROM public.secret $f$;
    CREATE CAST (public.mood AS text) WITH FUNCTION public.mood_text(public.mood) AS IMPLICIT;
    CREATE FUNCTION public.items_text(public.items) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT value FROM public.secret $f$;
    CREATE CAST (public.items AS text) WITH FUNCTION public.items_text(public.items);
    CREATE TABLE plain (id int, name text);
    INSERT INTO plain VALUES (1, 'plain-row');
    CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
    CREATE TABLE tags (id int, tag public.citext);
    INSERT INTO tags VALUES (1, 'Blue');
  `);
  await ownTables(db, ['secret', 'items', 'items_view', 'plain', 'tags']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

test("a statement over a relation whose column or row type a user's cast converts is refused before it runs", async () => {
  for (const sql of [
    'SELECT mood::text FROM items',
    'SELECT CAST(mood AS text) AS m FROM items',
    'SELECT lower(mood) FROM items',
    'SELECT moods::text[] FROM items',
    'SELECT feel::text FROM items',
    'SELECT i::text FROM items i',
    'SELECT mood::text FROM items_view',
    'SELECT p.id FROM plain p JOIN items i ON i.mood::text = p.name',
  ]) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: cast from .* runs public\.(mood|items)_text, a function outside pg_catalog/, sql);
  }
});

test('relations without such types, and extension casts (citext), still run', async () => {
  for (const [sql, want] of [
    ['SELECT id, name FROM plain', /plain-row/],
    ['SELECT tag::text, lower(tag) FROM tags', /Blue/],
    ["SELECT 'x'::text AS t", /x/],
  ] as const) {
    const r = await warden.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    assert.match(r.text, want, sql);
  }
});
