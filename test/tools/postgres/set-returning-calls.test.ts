/**
 * Set-returning functions outside pg_catalog (a public function declared RETURNS SETOF or
 * RETURNS TABLE, an extension's, information_schema._pg_expandarray) fed a masked column: the
 * number of rows they return is computed from the value, as with the built-in ones
 * (test/e2e/sql-masked-row-counts.test.ts), but no list names them, so the executor asks the
 * catalog (pg_proc.proretset) before the statement runs (set-returning-calls.ts). At the level of
 * the query_database tool against a real PostgreSQL: what is refused, what still runs, and what
 * the lookup costs (nothing without masks or without such a call; one query for every name not
 * known, then nothing while the answer is cached); and that it fails closed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError, type ExecContext, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import { checkSetReturningCalls, SetReturningCatalog } from '../../../tools/postgres/set-returning-calls.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { checkouts } from '../../support/pg-checkouts.js';

const EMAIL = 'alice@example.com';
const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 });
const MASKED: MaskingContext = { columns: [{ column: 'public.users.email', strategy: 'partial' }], onDerived: 'deny', apply: (_v, s) => `<${s}>` };
const UNMASKED: MaskingContext = { ...MASKED, columns: [] };

/** The grant behind these calls: it names every function outside pg_catalog the statements call. */
const LISTED = { sql: { functions: ['public.explode', 'public.spread', 'public."Chars"', 'public.twice', '"odd.schema".rows', 'public.width', 'public.width2', 'public.no_such_function', 'information_schema._pg_expandarray'] } };

let db: TestDatabase;
let connector: PgConnector;
const tool = queryDatabaseTool(() => connector);

type Table = { rows: unknown[][] };

async function run(sql: string, m: MaskingContext = MASKED): Promise<Table> {
  const ctx = {
    principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
    connection: conn('env:DB'),
    limits: { timeoutMs: 3000, maxRows: 100, maxBytes: 1 << 20 },
    masking: m,
    signal: new AbortController().signal,
    readOnly: true,
    log: () => undefined,
    // A grant naming the functions these statements call: under masks a function outside
    // pg_catalog runs only when a grant names it (function-bodies.ts; sql-masked-function-bodies.test.ts).
    judge: { call: () => ({ allowed: true, reason: '', ruleIds: [] }), denies: () => null, grants: () => [LISTED] },
  } as unknown as ExecContext;
  return (await tool.execute({ connection: 'db', sql }, analyzeSql(sql), ctx)) as unknown as Table;
}

async function refused(sql: string, re: RegExp): Promise<void> {
  await assert.rejects(run(sql), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, ErrorCode.DENIED, e.message);
    assert.deepEqual(e.details.ruleIds, ['masking.columns']);
    assert.match(e.message, re);
    assert.ok(!e.message.includes(EMAIL));
    return true;
  }, sql);
}

before(async () => {
  db = await createTestDatabase({ prefix: 'usersrf' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Al', '${EMAIL}');
    CREATE VIEW contacts AS SELECT id, email AS contact FROM users;
    CREATE FUNCTION public.explode(t text) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.ascii(t))';
    CREATE FUNCTION public.spread(t text) RETURNS TABLE (n int) LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.length(t))';
    CREATE FUNCTION public."Chars"(t text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.regexp_split_to_table(t, '''')';
    CREATE FUNCTION public.width(t text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.length(t)';
    CREATE FUNCTION public.width2(t text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.length(t)';
    -- one overload returns a set: the name is judged by it (which overload runs is PostgreSQL's choice)
    CREATE FUNCTION public.twice(t text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2';
    CREATE FUNCTION public.twice(t text, k int) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.length(t) * k)';
    CREATE SCHEMA "odd.schema";
    CREATE FUNCTION "odd.schema".rows(t text) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.length(t))';
    GRANT USAGE ON SCHEMA "odd.schema" TO ${db.role};
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
  `);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

/** Statements whose one cell is a count computed from the email through a set-returning function outside pg_catalog. */
const COUNTS: readonly (readonly [string, string])[] = [
  ['SELECT count(*) AS n FROM (SELECT public.explode(email) FROM users WHERE id = 1) x', '97'],
  ['SELECT count(*) AS n FROM (SELECT id, public.spread(email) AS z FROM users WHERE id = 1) x', String(EMAIL.length)],
  ['SELECT count(*) AS n FROM (SELECT public."Chars"(lower(email)) FROM users WHERE id = 1) x', String(EMAIL.length)],
  ['SELECT count(*) AS n FROM (SELECT public.twice(email, 2) FROM users WHERE id = 1) x', String(EMAIL.length * 2)],
  ['SELECT count(*) AS n FROM (SELECT "odd.schema".rows(email) FROM users WHERE id = 1) x', String(EMAIL.length)],
  ['SELECT count(*) AS n FROM (SELECT public.explode(s.e) FROM (SELECT email AS e FROM users WHERE id = 1) s) x', '97'],
  ['SELECT count(*) AS n FROM (SELECT public.spread(contact) FROM contacts WHERE id = 1) x', String(EMAIL.length)],
  ['SELECT count(*) AS n FROM (SELECT information_schema._pg_expandarray(string_to_array(email, \'.\')) FROM users WHERE id = 1) x', '2'],
];

/** The outermost query: its row count is the leak, whatever masking does to its cells. */
const OUTERMOST = [
  'SELECT id FROM users WHERE id = 1 ORDER BY public.spread(email)',
  'SELECT count(*) AS n FROM users WHERE id = 1 GROUP BY public.spread(email)',
  'SELECT DISTINCT ON (public.spread(email)) id FROM users WHERE id = 1',
];

describe('a set-returning function outside pg_catalog fed a masked column', () => {
  test('without masks each returns as many rows as the email computes (the leak)', async () => {
    for (const [sql, n] of COUNTS) assert.deepEqual((await run(sql, UNMASKED)).rows.map((r) => r.map(String)), [[n]], sql);
    for (const sql of OUTERMOST) assert.equal((await run(sql, UNMASKED)).rows.length, EMAIL.length, sql);
  });

  test('under a mask each is refused, naming the function (the catalog says it returns a set)', async () => {
    const guard = /masked column public\.users\.email \(.*\) is used in the arguments of .*, a set-returning function/;
    for (const [sql] of [...COUNTS, ...OUTERMOST.map((s) => [s])]) await refused(sql!, guard);
  });

  test('a function the catalog does not know is refused under a mask (fail closed)', () =>
    refused('SELECT count(*) AS n FROM (SELECT public.no_such_function(email) FROM users WHERE id = 1) x', /public\.no_such_function.*catalog has no function of that name/));

  test('still runs: a scalar function fed the masked column in the filter, a set-returning one fed another column or constants', async () => {
    assert.deepEqual((await run('SELECT id FROM users WHERE public.width(email) > 3')).rows, [[1]]);
    assert.deepEqual((await run('SELECT count(*) AS n FROM (SELECT public.explode(name) FROM users WHERE id = 1) x')).rows.map((r) => r.map(String)), [['65']]);
    assert.equal((await run("SELECT id, public.spread('abc') AS z FROM users WHERE email LIKE 'alice%'")).rows.length, 3);
  });
});

describe('catalog round trips', () => {
  test('no masks: no lookup (the statement only, once its field origins are cached)', async () => {
    const sql = 'SELECT count(*) AS n FROM (SELECT public.explode(email) FROM users WHERE id = 1) x';
    await run(sql, UNMASKED);
    assert.equal(await checkouts(() => run(sql, UNMASKED)), 1);
  });

  test('masks but no call outside pg_catalog fed a masked column: no lookup', async () => {
    for (const sql of ['SELECT id FROM users WHERE lower(email) LIKE \'a%\'', 'SELECT count(*) AS n FROM (SELECT public.explode(name) FROM users) x']) {
      await run(sql);
      assert.equal(await checkouts(() => run(sql)), 1, sql);
    }
  });

  test('names not known are asked in one lookup, then cached while not set-returning; a set-returning one is asked again', async () => {
    const sql = 'SELECT id FROM users WHERE public.width(email) > 3 AND public.width2(lower(email)) > 3';
    assert.equal(await checkouts(() => run(sql)), 2, 'one lookup for both names, then the statement');
    assert.equal(await checkouts(() => run(sql)), 1, 'both known: the statement only');
    const srf = 'SELECT count(*) AS n FROM (SELECT public.explode(email) FROM users WHERE id = 1) x';
    for (let i = 0; i < 2; i++) assert.equal(await checkouts(() => refused(srf, /set-returning/)), 1, 'the lookup, no statement');
  });
});

describe('facts and the check on their own', () => {
  test('qualifiedFunctionArguments: calls outside pg_catalog and the columns their arguments draw from', () => {
    const args = (sql: string) => analyzeSql(sql).qualifiedFunctionArguments;
    assert.deepEqual(args('SELECT public.explode(lower(email)), public.width(name) FROM users'), [
      { function: 'public.explode', sources: [{ table: 'public.users', column: 'email' }] },
      { function: 'public.width', sources: [{ table: 'public.users', column: 'name' }] },
    ]);
    assert.deepEqual(args('SELECT lower(public.spread(s.e)::text) FROM (SELECT email AS e FROM users) s'), [
      { function: 'public.spread', sources: [{ table: 'public.users', column: 'email' }] },
    ]);
    const whole = args('SELECT public."Chars"(u) FROM users u');
    assert.deepEqual(whole.map((c) => c.function), ['public.Chars']);
    assert.ok(whole[0]!.sources.some((s) => s.table === 'public.users' && s.column === '*'), JSON.stringify(whole));
    for (const none of ["SELECT public.explode('abc'), generate_series(1, length(email)) FROM users", 'SELECT pg_catalog.lower(email) FROM users', 'SELECT public.explode($1)']) {
      assert.deepEqual(args(none), [], none);
    }
  });

  test('the catalog cannot answer: refused (a lookup that fails, an answer of the wrong shape)', async () => {
    const facts = analyzeSql('SELECT public.width(email) FROM users');
    const views = new Map();
    const failing = new SetReturningCatalog(async () => {
      throw new WardenError(ErrorCode.BACKEND, 'connection refused');
    }, 60_000);
    await assert.rejects(checkSetReturningCalls(facts, views, MASKED, failing), /connection refused/);
    const empty = new SetReturningCatalog(async () => ({ rows: [] }), 60_000);
    await assert.rejects(checkSetReturningCalls(facts, views, MASKED, empty), /the catalog did not answer/);
    let asked = 0;
    const counting = new SetReturningCatalog(async () => (asked++, { rows: [] }), 60_000);
    await checkSetReturningCalls(facts, views, UNMASKED, counting);
    await checkSetReturningCalls(analyzeSql('SELECT public.width(name) FROM users'), views, MASKED, counting);
    assert.equal(asked, 0, 'no masks, or no masked column fed: not asked');
  });
});
