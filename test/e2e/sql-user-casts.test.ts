/**
 * A cast is a function call the statement does not spell: `CREATE CAST (public.mood AS text)
 * WITH FUNCTION public.mood_text(public.mood)` makes `mood::text` (and, AS IMPLICIT, `lower(mood)`)
 * run public.mood_text, which no grant names and no deny rule sees. Through `warden serve`
 * against a real PostgreSQL: an agent granted SELECT on items alone read the denied table secret
 * through such casts (on an enum column, an array of it, a domain over it, the table's own row
 * type, a view's column). A statement over a relation one of whose column types (or its row
 * type) a cast with a function outside pg_catalog, not an extension's, converts from or to is
 * now refused (query-database.ts via user-casts.ts) and nothing runs; extension casts (citext)
 * and relations without such types still run, as does a table of a user range type (PostgreSQL
 * makes its multirange and a cast to it, an internal function in the range type's schema). The same for a granted user function whose
 * return type (SETOF, a table's row type, RETURNS TABLE, OUT parameters, a composite's fields)
 * or argument type such a cast converts, for a range over such a type, and for an INSERT into a
 * column of a user type that an assignment cast from text converts to (its function never ran).
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
      read: [public.items, public.items_view, public.plain, public.tags, public.spans, public.ranges]
  - id: call-user-functions
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select]
      read: [public.plain]
      functions: [public.f_mood, public.f_moods, public.f_items, public.f_out, public.f_table, public.f_pairs, public.f_tone, public.f_plain, lower]
  - id: insert-readings
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [insert], write: [public.readings] }
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
    CREATE TYPE public.moodrange AS RANGE (subtype = public.mood);
    CREATE TABLE spans (id int, span public.moodrange);
    INSERT INTO spans VALUES (1, '[ok,sad]');
    -- a range type makes its multirange and the cast to it (PostgreSQL 14+), whose function lies in public
    CREATE TYPE public.numspan AS RANGE (subtype = float8);
    CREATE TABLE ranges (id int, r public.numspan);
    INSERT INTO ranges VALUES (1, '[1.5,2.5)');
    -- user functions whose return, OUT, table or argument types a user cast converts
    CREATE FUNCTION public.f_mood() RETURNS public.mood LANGUAGE sql STABLE AS $f$ SELECT 'ok'::public.mood $f$;
    CREATE FUNCTION public.f_moods() RETURNS SETOF public.mood LANGUAGE sql STABLE AS $f$ SELECT 'ok'::public.mood $f$;
    CREATE FUNCTION public.f_items() RETURNS SETOF public.items LANGUAGE sql STABLE AS $f$ SELECT * FROM public.items $f$;
    CREATE FUNCTION public.f_out(OUT a int, OUT m public.mood) LANGUAGE sql STABLE AS $f$ SELECT 1, 'ok'::public.mood $f$;
    CREATE FUNCTION public.f_table() RETURNS TABLE (m public.mood) LANGUAGE sql STABLE AS $f$ SELECT 'ok'::public.mood $f$;
    CREATE TYPE public.pair AS (m public.mood, n int);
    CREATE FUNCTION public.f_pairs() RETURNS SETOF public.pair LANGUAGE sql STABLE AS $f$ SELECT 'ok'::public.mood, 1 $f$;
    CREATE TYPE public.tone AS ENUM ('a');
    CREATE FUNCTION public.text_tone(text) RETURNS public.tone LANGUAGE sql STABLE AS $f$ SELECT CASE WHEN EXISTS (SELECT FROM public.secret) THEN 'a'::public.tone END $f$;
    CREATE CAST (text AS public.tone) WITH FUNCTION public.text_tone(text) AS IMPLICIT;
    CREATE FUNCTION public.f_tone(t public.tone) RETURNS int LANGUAGE sql STABLE AS $f$ SELECT 1 $f$;
    CREATE FUNCTION public.f_plain() RETURNS int LANGUAGE sql STABLE AS $f$ SELECT 7 $f$;
    -- a cast TO a user type, run by an INSERT's assignment: it copies the secret into loot
    CREATE TYPE public.level AS ENUM ('low', 'high');
    CREATE TABLE readings (id int, level public.level);
    CREATE TABLE loot (value text);
    CREATE FUNCTION public.text_level(text) RETURNS public.level LANGUAGE plpgsql AS $f$
      BEGIN INSERT INTO public.loot SELECT value FROM public.secret; RETURN 'low'; END $f$;
    CREATE CAST (text AS public.level) WITH FUNCTION public.text_level(text) AS ASSIGNMENT;
    CREATE TABLE public."a.b" (mood public.mood);
    CREATE SCHEMA "we.ird";
    CREATE TABLE "we.ird".t (mood public.mood);
    INSERT INTO public."a.b" VALUES ('ok');
    INSERT INTO "we.ird".t VALUES ('ok');
  `);
  await ownTables(db, ['secret', 'items', 'items_view', 'plain', 'tags', 'spans', 'readings', 'loot', 'ranges']);
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
    'SELECT lower(span)::text FROM spans',
  ]) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: cast from .* runs public\.(mood|items)_text, a function outside pg_catalog/, sql);
  }
});

test('relations without such types, extension casts (citext) and the cast PostgreSQL makes from a range type to its multirange still run', async () => {
  for (const [sql, want] of [
    ['SELECT id, r FROM ranges', /1\.5/],
    ['SELECT id, name FROM plain', /plain-row/],
    ['SELECT tag::text, lower(tag) FROM tags', /Blue/],
    ["SELECT 'x'::text AS t", /x/],
  ] as const) {
    const r = await warden.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    assert.match(r.text, want, sql);
  }
});

test('a granted user function whose return, SETOF, table, OUT or argument type a user cast converts is refused before it runs', async () => {
  for (const [sql, fn] of [
    ['SELECT public.f_mood()::text AS m', 'mood'],
    ['SELECT lower(public.f_mood())', 'mood'],
    ['SELECT m::text FROM public.f_moods() m', 'mood'],
    ['SELECT i::text FROM public.f_items() i', '(mood|items)'],
    ['SELECT lower(mood) FROM public.f_items()', '(mood|items)'],
    ['SELECT m::text FROM public.f_out()', 'mood'],
    ['SELECT lower(m) FROM public.f_table()', 'mood'],
    ['SELECT lower(m) FROM public.f_pairs()', 'mood'],
    ['SELECT public.f_tone(name) FROM plain', 'tone'],
  ] as const) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, new RegExp(`^WARDEN_PARSE: cast from .* runs public\\.(${fn}_text|text_${fn}), a function outside pg_catalog`), sql);
    assert.match(r.text, /on the values (of public\.items|public\.f_\w+\(\) takes or returns)/, sql);
  }
  // A granted user function over built-in types only still runs.
  const ok = await warden.query('SELECT public.f_plain() AS seven');
  assert.equal(ok.isError, false, ok.text.slice(0, 300));
  assert.match(ok.text, /7/);
});

test('a literal cast to a user type is refused by the parser (it understands built-in type names only)', async () => {
  for (const sql of ["SELECT 'ok'::public.mood", "SELECT CAST('ok' AS public.mood)", "SELECT 'ok'::public.mood::text"]) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: /, sql);
  }
});

test('a write into a column of a user type that a cast converts TO (an assignment cast from text) is refused and nothing runs', async () => {
  for (const sql of ["INSERT INTO readings(id, level) VALUES (1, 'low'::text)", "INSERT INTO readings(id, level) VALUES (1, 'low')"]) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: cast from text to level runs public\.text_level, a function outside pg_catalog that PostgreSQL may call on the values of public\.readings/, sql);
  }
  assert.equal((await db.query('SELECT count(*)::int AS n FROM loot')).rows[0]!.n, 0, 'text_level never ran');
  assert.equal((await db.query('SELECT count(*)::int AS n FROM readings')).rows[0]!.n, 0, 'nothing was inserted');
});

test('a relation name with a dot inside quotes is refused by the parser, and nothing runs', async () => {
  for (const sql of ['SELECT mood::text FROM public."a.b"', 'SELECT mood::text FROM "we.ird".t']) {
    const r = await warden.query(sql);
    noLeak(r, sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: the table or schema name "(a\.b|we\.ird)" contains "\."/, sql);
  }
});
