/**
 * Planner statistics hold real column values: pg_stats (most_common_vals, histogram_bounds),
 * pg_stats_ext and pg_stats_ext_exprs (the most common values of extended statistics), and the
 * tables behind them, pg_statistic and pg_statistic_ext_data. An agent that may read them learns
 * the values of a column a mask covers, or of a table a deny rule forbids, without selecting the
 * column. Likewise EXPLAIN prints the definition of every view its statement reads, constants
 * included (`WHERE ssn = '...'`). Via `warden serve` against a real PostgreSQL, after ANALYZE:
 * - a grant that lists only public.users never reaches the statistics (the policy refuses them);
 * - a grant that lists them, or that has no sql block, is refused them while a column mask or a
 *   conditional deny rule applies, named or through a view, with a coded reason;
 * - EXPLAIN of a statement that reads a view is refused under the same condition;
 * - without masks and denies, a grant that lists pg_stats still reads it (the documented rule).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

// Values no content detector recognises: only the column masks and the deny rule protect them.
const SSN_A = 'A123456789Z';
const SSN_B = 'B987654321Y';
const TOKEN = 'TOKEN-ZEBRA-4711';
const SECRETS = [SSN_A, SSN_B, TOKEN, 'alice@example.com', 'bob@example.com'];

const MASKS = `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
`;

const STATISTICS = ['pg_catalog.pg_stats', 'pg_stats_ext', 'pg_catalog.pg_stats_ext_exprs', 'pg_catalog.pg_statistic', 'pg_catalog.pg_statistic_ext_data'];

const grant = (read: string[], statements = ['select'], functions = ['count']) => `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [${statements.join(', ')}]
      read: [${read.join(', ')}]
      functions: [${functions.join(', ')}]
`;

const EVERYTHING = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
`;

const NO_SECRETS = `
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
`;

/** Statements that read column values out of the statistics, and the relation each reads. */
const STATS_READS: [string, string][] = [
  ["SELECT attname, most_common_vals, histogram_bounds FROM pg_catalog.pg_stats WHERE tablename = 'users'", 'pg_catalog.pg_stats'],
  ["SELECT attname, most_common_vals FROM pg_stats WHERE tablename = 'secrets'", 'pg_catalog.pg_stats'],
  ["SELECT count(*) FROM pg_stats WHERE most_common_vals::text LIKE '%A1234%'", 'pg_catalog.pg_stats'],
  ['SELECT statistics_name, most_common_vals FROM pg_catalog.pg_stats_ext', 'pg_catalog.pg_stats_ext'],
  ['SELECT statistics_name, most_common_vals FROM pg_stats_ext_exprs', 'pg_catalog.pg_stats_ext_exprs'],
  ['SELECT stavalues1, stavalues2 FROM pg_catalog.pg_statistic', 'pg_catalog.pg_statistic'],
  ['SELECT stxdmcv FROM pg_catalog.pg_statistic_ext_data', 'pg_catalog.pg_statistic_ext_data'],
  // Other spellings and paths (pinned): a quoted name, a LATERAL subquery.
  ["SELECT u.id, x.v FROM users u, LATERAL (SELECT most_common_vals::text AS v FROM pg_catalog.\"pg_stats\" s WHERE s.tablename = 'users' LIMIT 1) x", 'pg_catalog.pg_stats'],
];

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2estats' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text);
    INSERT INTO users SELECT g, 'user' || g,
      CASE WHEN g % 2 = 0 THEN 'alice@example.com' ELSE 'bob@example.com' END,
      CASE WHEN g % 2 = 0 THEN '${SSN_A}' ELSE '${SSN_B}' END
      FROM generate_series(1, 200) g;
    CREATE TABLE secrets (id int, token text);
    INSERT INTO secrets SELECT g, '${TOKEN}' FROM generate_series(1, 50) g;
    CREATE STATISTICS users_mcv (mcv) ON email, ssn FROM users;
    CREATE STATISTICS users_expr ON (lower(ssn)) FROM users;
    ANALYZE users;
    ANALYZE secrets;
    CREATE VIEW stats_view AS SELECT tablename, attname, most_common_vals::text AS mcv FROM pg_catalog.pg_stats;
    CREATE VIEW stats_where AS SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_stats s WHERE s.most_common_vals::text LIKE '%A1234%');
    CREATE VIEW stats_over AS SELECT * FROM stats_view;
    CREATE FUNCTION public.one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
    CREATE VIEW stats_opaque AS SELECT u.id, public.one() AS one FROM users u WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_stats s WHERE s.most_common_vals::text LIKE '%A1234%');
    CREATE VIEW vip AS SELECT id, name FROM users WHERE ssn = '${SSN_A}';
    CREATE VIEW defs AS SELECT pg_catalog.pg_get_viewdef('public.vip'::regclass) AS d;
    CREATE VIEW acts AS SELECT pid, query FROM pg_catalog.pg_stat_get_activity(NULL::integer);
    CREATE FUNCTION public.vip_ids() RETURNS SETOF int LANGUAGE sql STABLE AS 'SELECT id FROM public.vip';
  `);
  await ownTables(db, ['users', 'secrets', 'stats_view', 'stats_where', 'stats_over', 'stats_opaque', 'vip', 'defs', 'acts']);
});

after(async () => {
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

/**
 * Start one `warden serve` per policy set on the test database, side by side (independent
 * processes). If one fails to start, `keep` is handed those that did (undefined for the others)
 * before the error is thrown, so the describe block's after() closes them.
 */
async function startAll<const T extends readonly Record<string, string>[]>(policies: T, keep: (started: { [K in keyof T]: SqlWarden }) => void): Promise<{ [K in keyof T]: SqlWarden }> {
  const settled = await Promise.allSettled(policies.map((p) => startSqlWarden(db, p)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Undefined where a start failed (the after() hooks close with ?.).
    keep(settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as unknown as { [K in keyof T]: SqlWarden });
    throw failed.reason;
  }
  return settled.map((r) => (r as PromiseFulfilledResult<SqlWarden>).value) as { [K in keyof T]: SqlWarden };
}

const assertNoLeak = noLeakOf(SECRETS);

/** Refused by Warden because the relation holds statistics values (not by the policy's table list, not by PostgreSQL). */
function assertStatisticsRefusal(r: Result, sql: string, relation: string): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.ok(r.text.includes(`${relation} holds planner statistics`), `${sql}: ${r.text.slice(0, 400)}`);
  assertNoLeak(r, sql);
}

test('the fixture has statistics that hold the masked and denied values', async () => {
  const r = await db.query<{ v: string }>("SELECT string_agg(most_common_vals::text, ' ') AS v FROM pg_stats WHERE tablename IN ('users', 'secrets')");
  for (const s of [SSN_A, SSN_B, TOKEN]) assert.ok(r.rows[0]!.v.includes(s), `pg_stats lacks ${s}`);
  const ext = await db.query<{ v: string }>("SELECT string_agg(most_common_vals::text, ' ') AS v FROM pg_stats_ext WHERE tablename = 'users'");
  assert.ok(ext.rows[0]!.v.includes(SSN_A), 'pg_stats_ext lacks the ssn values');
  const exprs = await db.query<{ v: string }>("SELECT string_agg(most_common_vals::text, ' ') AS v FROM pg_stats_ext_exprs WHERE tablename = 'users'");
  assert.ok(exprs.rows[0]!.v.includes(SSN_A.toLowerCase()), 'pg_stats_ext_exprs lacks lower(ssn)');
});

describe('a grant that reads only public.users, with masks', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': MASKS + grant(['public.users']) });
  });
  after(async () => {
    await w?.close();
  });

  test('no statistics relation is granted: the policy refuses every one', async () => {
    for (const [sql] of STATS_READS) {
      const r = await w.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_DENIED: .*not in the allowed tables/s, sql);
      assertNoLeak(r, sql);
    }
  });

  test('the masked column still reads masked', async () => {
    const r = await w.query('SELECT id, ssn FROM users ORDER BY id LIMIT 2');
    assert.equal(r.isError, false, r.text);
    assertNoLeak(r, 'SELECT ssn FROM users');
  });
});

describe('a grant that lists the statistics relations, with masks', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': MASKS + grant(['public.users', ...STATISTICS, 'public.stats_view', 'public.stats_where', 'public.stats_over']) });
  });
  after(async () => {
    await w?.close();
  });

  for (const [sql, relation] of STATS_READS) {
    test(`${sql}: refused`, async () => {
      assertStatisticsRefusal(await w.query(sql), sql, relation);
    });
  }

  for (const view of ['stats_view', 'stats_where', 'stats_over']) {
    test(`a view that reads pg_stats (${view}) is refused too`, async () => {
      const sql = `SELECT * FROM ${view}`;
      const r = await w.query(sql);
      assertStatisticsRefusal(r, sql, 'pg_catalog.pg_stats');
      assert.match(r.text, new RegExp(`public\\.${view}`), sql);
    });
  }

  test('the refusal names the masks as the reason', async () => {
    const r = await w.query('SELECT most_common_vals FROM pg_stats');
    assert.match(r.text, /column masks/);
  });

  test('reading the users table itself is unaffected', async () => {
    const r = await w.query('SELECT count(*) FROM users');
    assert.equal(r.isError, false, r.text);
  });
});

describe('a grant without a sql block (every table), with masks', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': MASKS + EVERYTHING });
  });
  after(async () => {
    await w?.close();
  });

  for (const [sql, relation] of STATS_READS) {
    test(`${sql}: refused`, async () => {
      assertStatisticsRefusal(await w.query(sql), sql, relation);
    });
  }

  test('describe_database lists a view over pg_stats as not readable, with the same reason', async () => {
    const r = await w.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; access: string[]; note?: string }[] } }).data.tables;
    // stats_opaque calls public.one(), whose body deny rules cannot see: its reads count all the same.
    for (const view of ['public.stats_view', 'public.stats_where', 'public.stats_over', 'public.stats_opaque']) {
      const t = tables.find((x) => x.table === view);
      assert.ok(t, `${view} is not described`);
      assert.deepEqual(t.access, [], `${view}: ${JSON.stringify(t)}`);
      assert.match(t.note ?? '', /pg_catalog\.pg_stats holds planner statistics/, view);
      const q = await w.query(`SELECT * FROM ${view}`);
      assertStatisticsRefusal(q, view, 'pg_catalog.pg_stats');
    }
    for (const readable of ['public.users', 'public.secrets']) {
      assert.deepEqual(tables.find((x) => x.table === readable)?.access, ['read'], readable);
    }
    // vip filters on the masked ssn in its own WHERE: not readable under the masks either.
    const vip = tables.find((x) => x.table === 'public.vip');
    assert.deepEqual(vip?.access, [], JSON.stringify(vip));
    assert.match(vip?.note ?? '', /masked column public\.users\.ssn .*view public\.vip's own definition/);
  });
});

describe('a grant without a sql block, with a deny rule and no masks', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': EVERYTHING + NO_SECRETS });
  });
  after(async () => {
    await w?.close();
  });

  test('the denied table is refused', async () => {
    const r = await w.query('SELECT token FROM secrets');
    assert.equal(r.isError, true);
    assertNoLeak(r, 'SELECT token FROM secrets');
  });

  for (const [sql, relation] of STATS_READS) {
    test(`${sql}: refused`, async () => {
      const r = await w.query(sql);
      assertStatisticsRefusal(r, sql, relation);
      assert.match(r.text, /deny rules/, sql);
    });
  }

  test('describe_database says the same of a view over pg_stats', async () => {
    const r = await w.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; access: string[]; note?: string }[] } }).data.tables;
    const t = tables.find((x) => x.table === 'public.stats_view');
    assert.deepEqual(t?.access, [], JSON.stringify(t));
    assert.match(t?.note ?? '', /pg_catalog\.pg_stats holds planner statistics/);
    assert.deepEqual(tables.find((x) => x.table === 'public.users')?.access, ['read']);
  });
});

describe('EXPLAIN prints the definitions of the views it reads', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': MASKS + grant(['public.users', 'public.vip'], ['select', 'explain']) });
  });
  after(async () => {
    await w?.close();
  });

  for (const sql of ['EXPLAIN SELECT id FROM vip', 'EXPLAIN VERBOSE SELECT * FROM vip', 'EXPLAIN SELECT u.id FROM users u JOIN vip v ON v.id = u.id']) {
    test(`${sql}: refused while masks apply`, async () => {
      const r = await w.query(sql);
      assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
      assert.match(r.text, /^WARDEN_DENIED: .*EXPLAIN/s, sql);
      assertNoLeak(r, sql);
    });
  }

  test('EXPLAIN of a table still runs; reading the view, whose WHERE compares the masked ssn, is refused', async () => {
    const plan = await w.query("EXPLAIN SELECT id FROM users WHERE name = 'x'");
    assert.equal(plan.isError, false, plan.text);
    assertNoLeak(plan, 'EXPLAIN SELECT id FROM users');
    const rows = await w.query('SELECT id, name FROM vip ORDER BY id LIMIT 1');
    assert.match(rows.text, /^WARDEN_DENIED: masked column public\.users\.ssn .*view public\.vip's own definition/);
    assertNoLeak(rows, 'SELECT id, name FROM vip');
  });
});

describe('view definitions and other sessions\' statements quote values too', () => {
  let w: SqlWarden;
  let plain: SqlWarden;
  const DEFS = ['public.users', 'public.vip', 'pg_catalog.pg_views', 'pg_catalog.pg_stat_activity', 'information_schema.views'];
  before(async () => {
    [w, plain] = await startAll([{ 'p.yaml': MASKS + grant(DEFS) }, { 'p.yaml': grant(DEFS) }], (started) => ([w, plain] = started));
  });
  after(async () => {
    await w?.close();
    await plain?.close();
  });

  test('the fixture: pg_views quotes the masked value in vip\'s definition (read without masks)', async () => {
    const r = await plain.query("SELECT definition FROM pg_views WHERE viewname = 'vip'");
    assert.equal(r.isError, false, r.text);
    assert.ok(r.text.includes(SSN_A), 'the definition quotes the value: the leak this rule closes');
  });

  for (const [sql, relation] of [
    ["SELECT definition FROM pg_views WHERE viewname = 'vip'", 'pg_catalog.pg_views'],
    ["SELECT view_definition FROM information_schema.views WHERE table_name = 'vip'", 'information_schema.views'],
    ['SELECT query FROM pg_stat_activity', 'pg_catalog.pg_stat_activity'],
  ] as const) {
    test(`${sql}: refused while masks apply`, async () => {
      const r = await w.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 400)}`);
      assert.match(r.text, new RegExp(`^WARDEN_DENIED: ${relation.replace('.', '\\.')} (holds|shows) `), sql);
      assertNoLeak(r, sql);
    });
  }
});

describe('without masks or deny rules, a grant that lists pg_stats reads it', () => {
  let w: SqlWarden;
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': grant(['public.users', 'pg_catalog.pg_stats', 'public.vip'], ['select', 'explain']) });
  });
  after(async () => {
    await w?.close();
  });

  test('pg_stats is read as granted (the grant covers every column the database role may read)', async () => {
    const r = await w.query("SELECT attname, most_common_vals FROM pg_stats WHERE tablename = 'users' AND attname = 'ssn'");
    assert.equal(r.isError, false, r.text);
    assert.equal(r.structured?.row_count, 1, r.text);
  });

  test('EXPLAIN of a view runs', async () => {
    const r = await w.query('EXPLAIN SELECT id FROM vip');
    assert.equal(r.isError, false, r.text);
  });
});

/**
 * Functions do what those catalogs do: pg_get_viewdef and pg_get_ruledef print definitions with
 * their constants, pg_stat_get_activity and pg_stat_get_backend_activity (what pg_stat_activity
 * reads) return other sessions' statements, and the query_to_xml family runs the query text (or
 * reads the table) its arguments give, which no deny rule or mask sees. A grant without a sql
 * block allows every function, and one may list them: while masks or deny rules apply, each is
 * refused, called directly or through a view, and describe_database says so of such a view.
 */
describe('functions that quote values or run query text', () => {
  let masked: SqlWarden;
  let denied: SqlWarden;
  let listed: SqlWarden;
  let plain: SqlWarden;
  let other: pg.Client;
  let otherQuery: Promise<unknown>;
  const CALLS = ['pg_get_viewdef', 'pg_get_ruledef', 'pg_stat_get_activity', 'pg_stat_get_backend_activity', 'pg_stat_get_backend_idset', 'query_to_xml', 'table_to_xml'];
  const RULEDEF = "SELECT pg_get_ruledef(objid) AS d FROM pg_catalog.pg_depend WHERE refobjid = 'public.vip'::regclass AND classid = 'pg_catalog.pg_rewrite'::regclass";

  before(async () => {
    // Another session of the database role (the application's, say) runs a statement with a literal.
    other = new pg.Client({ connectionString: db.url });
    // Terminated in after(): its query fails, then the client emits 'error' for the dead socket.
    other.on('error', () => undefined);
    await other.connect();
    otherQuery = other.query(`SELECT '${SSN_B}' AS probe, pg_sleep(60)`).catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      const r = await db.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()");
      if (r.rowCount) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    [masked, denied, listed, plain] = await startAll(
      [
        { 'p.yaml': MASKS + EVERYTHING },
        { 'p.yaml': EVERYTHING + NO_SECRETS },
        { 'p.yaml': MASKS + grant(['public.users', 'public.vip', 'pg_catalog.pg_depend', 'public.defs', 'public.acts'], ['select', 'explain'], [...CALLS, 'public.vip_ids']) },
        { 'p.yaml': EVERYTHING },
      ],
      (started) => ([masked, denied, listed, plain] = started),
    );
  });
  after(async () => {
    await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()");
    await otherQuery;
    await other?.end().catch(() => undefined);
    await Promise.all([masked, denied, listed, plain].map((w) => w?.close()));
  });

  const LEAKS: [string, string][] = [
    ["SELECT pg_get_viewdef('public.vip'::regclass) AS d", SSN_A],
    [RULEDEF, SSN_A],
    ['SELECT query FROM pg_stat_get_activity(NULL::integer)', SSN_B],
    ['SELECT pg_stat_get_backend_activity(s) AS q FROM pg_stat_get_backend_idset() AS s', SSN_B],
    ["SELECT query_to_xml('SELECT ssn FROM public.users ORDER BY id LIMIT 2', true, true, '') AS x", SSN_B],
    ["SELECT table_to_xml('public.secrets'::regclass, true, true, '') AS x", TOKEN],
    ['EXPLAIN SELECT * FROM public.vip_ids()', SSN_A],
  ];

  test('the fixture: without masks or deny rules each call quotes the value (the leak this rule closes)', async () => {
    for (const [sql, value] of LEAKS) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.ok(`${r.text}${JSON.stringify(r.structured ?? {})}`.includes(value), `${sql} does not quote ${value}: ${r.text.slice(0, 300)}`);
    }
  });

  const refusedCall = (r: Result, sql: string, fn: RegExp): void => {
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
    assert.match(r.text, /^WARDEN_DENIED: /, sql);
    assert.match(r.text, fn, sql);
    assertNoLeak(r, sql);
  };
  const CALL_OF: RegExp[] = [/pg_get_viewdef prints/, /pg_get_ruledef prints/, /pg_stat_get_activity returns/, /pg_stat_get_backend_activity returns/, /query_to_xml (runs|is never allowed under a read grant)/, /table_to_xml (runs|is never allowed under a read grant)/, /EXPLAIN .*public\.vip_ids/];

  for (const [name, w] of [['a grant without a sql block, with masks', () => masked], ['a grant without a sql block, with a deny rule', () => denied], ['a grant that lists the functions, with masks', () => listed]] as const) {
    test(`${name}: every call is refused, saying why`, async () => {
      for (const [i, [sql]] of LEAKS.entries()) refusedCall(await w().query(sql), sql, CALL_OF[i]!);
      const spelled = "SELECT pg_catalog.pg_get_viewdef('public.vip'::regclass, true) AS d";
      refusedCall(await w().query(spelled), spelled, /pg_get_viewdef prints/);
    });
  }

  test('a view that calls one is refused, and describe_database says the same', async () => {
    for (const w of [masked, denied]) {
      for (const [view, fn] of [['defs', 'pg_get_viewdef'], ['acts', 'pg_stat_get_activity']]) {
        const sql = `SELECT * FROM ${view}`;
        refusedCall(await w.query(sql), sql, new RegExp(`${fn} .*\\(called through public\\.${view}\\)`));
      }
      const r = await w.w.call('describe_database', { connection: 'db' });
      assert.equal(r.isError, false, r.text);
      const tables = (r.structured as { data: { tables: { table: string; access: string[]; note?: string }[] } }).data.tables;
      for (const [view, fn] of [['public.defs', 'pg_get_viewdef'], ['public.acts', 'pg_stat_get_activity']]) {
        const t = tables.find((x) => x.table === view);
        assert.deepEqual(t?.access, [], `${view}: ${JSON.stringify(t)}`);
        assert.match(t?.note ?? '', new RegExp(`^${fn} `), view);
      }
    }
  });
});
