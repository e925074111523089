/**
 * Masking by lineage stops at a function body: Warden does not read one, so a function outside
 * pg_catalog returns what its body reads without column masks (`SELECT * FROM public.all_users()`
 * over a masked users.email). Fail closed: while column masks apply, a statement that calls such
 * a function (as a FROM item, in the select list, through a view's definition) that no grant
 * behind the decision names in its `functions:` is refused (rule masking.columns); a grant that
 * names it trusts it (the admin's choice, as for trigger functions). Via `warden serve` against a
 * real PostgreSQL: (a) a grant with no `sql` block, under a mask: refused; (b) the function named
 * by a grant: allowed, its body's reads unmasked (documented trust); (c) no masks: a grant with no
 * `sql` block still runs it; (d) built-in functions run as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, EMAIL_MASK, noLeakOf, ownTables, refusalOf, startSqlWarden, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';

/** A grant with no sql block, and a second one that names public.all_users (and nothing else). */
const NAMED_TOO = `${ANALYSTS_READ_ALL}
  - id: trusted-fn
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], functions: [public.all_users] }
`;

/** A sql grant naming the view and the function its definition calls. */
const VIEW_NAMED = `
rules:
  - id: view-and-fn
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.all_users_view], functions: [public.all_users] }
`;

/** A sql grant naming the view only. */
const VIEW_ONLY = `
rules:
  - id: view-only
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.all_users_view] }
`;

/** Statements whose answer holds the email, read inside a function body. */
const THROUGH_BODIES = [
  'SELECT * FROM public.all_users()',
  'SELECT email FROM public.all_users() WHERE id = 1',
  'SELECT public.email_of(1) AS e',
  'SELECT id, public.email_of(id) AS e FROM public.users',
];

let db: TestDatabase;
const w: Partial<Record<'plain' | 'masked' | 'named' | 'viewNamed' | 'viewOnly', SqlWarden>> = {};

before(async () => {
  db = await createTestDatabase({ prefix: 'e2efnbody' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Alice', '${SECRET}'), (2, 'Bob', 'bob@example.com');
    CREATE FUNCTION public.all_users() RETURNS SETOF public.users LANGUAGE sql STABLE AS 'SELECT * FROM public.users';
    CREATE FUNCTION public.email_of(i int) RETURNS text LANGUAGE sql STABLE AS 'SELECT email FROM public.users WHERE id = i';
    CREATE VIEW public.all_users_view AS SELECT * FROM public.all_users();
  `);
  await ownTables(db, ['users', 'all_users_view']);
  [w.plain, w.masked, w.named, w.viewNamed, w.viewOnly] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK + ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK + NAMED_TOO }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK + VIEW_NAMED }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK + VIEW_ONLY }),
  ]);
});

after(async () => {
  await Promise.all(Object.values(w).map((x) => x?.close()));
  await db?.drop();
});

const ok = (r: { isError: boolean; text: string }, what: string): void => assert.equal(r.isError, false, `${what}: ${r.text.slice(0, 400)}`);

test('(c) without masks, a grant with no sql block runs a user function and returns what its body reads', async () => {
  const r = await w.plain!.query('SELECT email FROM public.all_users() WHERE id = 1');
  ok(r, 'all_users');
  assert.deepEqual(structuredRows(r), [[SECRET]]);
  ok(await w.plain!.query('SELECT public.email_of(1) AS e'), 'email_of');
  ok(await w.plain!.query('SELECT * FROM public.all_users_view'), 'the view');
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice.secret']);

  test('(a) a grant with no sql block: a user function, whose body reads without masks, is refused', async () => {
    for (const sql of THROUGH_BODIES) refused(await w.masked!.query(sql), sql, /public\.(all_users|email_of).*body.*not (named|analysed)|masks/);
    const r = await w.masked!.query('SELECT * FROM public.all_users()');
    assert.match(r.text, /functions/, 'the refusal says how an admin trusts it');
    assert.match(r.text, /masking\.columns/);
  });

  test('(a) the same through a view whose definition calls it', async () => {
    refused(await w.masked!.query('SELECT * FROM public.all_users_view'), 'view', /public\.all_users.*view public\.all_users_view/);
    refused(await w.viewOnly!.query('SELECT * FROM public.all_users_view'), 'view under a sql grant', /public\.all_users.*view public\.all_users_view/);
  });

  test('(b) a grant naming the function trusts it: the call runs, its body read unmasked (documented)', async () => {
    const r = await w.named!.query('SELECT email FROM public.all_users() WHERE id = 1');
    ok(r, 'named');
    assert.deepEqual(structuredRows(r), [[SECRET]]);
    // Named by a grant that does not match the statement (it reads users): not trusted.
    refused(await w.named!.query('SELECT public.email_of(id) AS e FROM public.users'), 'email_of', /public\.email_of/);
    ok(await w.viewNamed!.query('SELECT id FROM public.all_users_view'), 'the view with its function named');
  });

  test('(d) built-in functions and masked reads of the table itself are unaffected', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of ['SELECT lower(name) AS n, email FROM public.users', 'SELECT count(*) AS n FROM public.users', 'SELECT pg_catalog.upper(name) AS n FROM public.users']) {
      const r = await w.masked!.query(sql);
      ok(r, sql);
      noLeak(r, sql);
    }
  });
});

describe('describe_database says what query_database does', () => {
  type Described = { table: string; access: string[]; note?: string };
  const described = async (x: SqlWarden): Promise<Described[]> => {
    const r = await x.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    noLeakOf([SECRET])(r, 'describe_database');
    return (r.structured as { data: { tables: Described[] } }).data.tables;
  };
  const view = (tables: Described[]): Described => {
    const t = tables.find((x) => x.table === 'public.all_users_view');
    assert.ok(t, tables.map((x) => x.table).join(', '));
    return t;
  };

  test('under masks, a view calling a function no grant names is listed with no access, the refusal as note', async () => {
    const t = view(await described(w.masked!));
    assert.deepEqual(t.access, [], JSON.stringify(t));
    assert.match(t.note ?? '', /every statement reading public\.all_users_view calls public\.all_users .*a function outside pg_catalog/);
  });

  test('the function named by the grant, or no masks: the view is readable', async () => {
    assert.deepEqual(view(await described(w.viewNamed!)).access, ['read']);
    assert.deepEqual(view(await described(w.plain!)).access, ['read']);
  });
});
