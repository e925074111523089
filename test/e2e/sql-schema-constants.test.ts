/**
 * The schema's own constants quote values too: a column DEFAULT holding a token, a CHECK
 * constraint, partial-index predicate, trigger condition or partition bound naming a value
 * (`WHERE email <> 'ceo@corp'`), a function body or argument default with a hard-coded key, a
 * row security policy's condition that EXPLAIN prints. Via `warden serve` against a real
 * PostgreSQL 15 (schema-constants.ts, statistics-values.ts):
 * - without masks or deny rules each statement below quotes its constant (the leak);
 * - while a column mask or a conditional deny rule applies, each is refused (WARDEN_DENIED),
 *   named or through a view, and describe_database lists such a view as not readable;
 * - catalogs that expose only names (pg_class, pg_attribute, information_schema.tables,
 *   domain_constraints, view_routine_usage, pg_get_function_identity_arguments) still read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, quotingSuite } from '../support/sql-warden.js';

const DEFAULT = 'DEFAULT-TOKEN-1';
const CHECK = 'CHECK-CEO-2';
const INDEX = 'INDEX-CEO-3';
const ARGDEF = 'ARGDEF-KEY-4';
const BODY = 'BODY-KEY-5';
const TRIGGER = 'TRIGGER-CEO-6';
const DOMAIN = 'DOMAIN-TOKEN-7';
const BOUND = 'PARTITION-CEO-8';
const RLS = 'RLS-CEO-9';
const STATS = 'STATS-EXPR-10';
const SECRETS = [DEFAULT, CHECK, INDEX, ARGDEF, BODY, TRIGGER, DOMAIN, BOUND, RLS, STATS];

const MASKS = `
masking:
  columns:
    - { column: public.users.ssn, with: redact }
`;

/** Statements that quote a constant of the schema, and the constant each quotes without masks or denies. */
const LEAKS: [string, string][] = [
  ["SELECT column_name, column_default FROM information_schema.columns WHERE table_name = 'users'", DEFAULT],
  ["SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'public.users'::regclass", DEFAULT],
  ["SELECT pg_get_functiondef(oid) AS d FROM pg_proc WHERE proname = 'api_key'", BODY],
  ["SELECT prosrc FROM pg_proc WHERE proname = 'api_key'", BODY],
  ["SELECT routine_definition FROM information_schema.routines WHERE routine_name = 'api_key'", BODY],
  ["SELECT pg_get_function_arguments('public.api_key'::regproc) AS a", ARGDEF],
  ["SELECT parameter_default FROM information_schema.parameters WHERE specific_schema = 'public'", ARGDEF],
  ["SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = 'users_email_check'", CHECK],
  ["SELECT check_clause FROM information_schema.check_constraints WHERE constraint_schema = 'public'", CHECK],
  ["SELECT indexdef FROM pg_indexes WHERE tablename = 'users'", INDEX],
  ["SELECT pg_get_indexdef('public.users_vip'::regclass) AS d", INDEX],
  ["SELECT pg_get_expr(indpred, indrelid) AS p FROM pg_index WHERE indrelid = 'public.users'::regclass", INDEX],
  ['SELECT action_condition FROM information_schema.triggers', TRIGGER],
  ["SELECT pg_get_triggerdef(oid) AS d FROM pg_trigger WHERE tgname = 'users_audit'", TRIGGER],
  ["SELECT domain_default FROM information_schema.domains WHERE domain_name = 'tok'", DOMAIN],
  ["SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = 'parted_ceo'", BOUND],
  ["SELECT pg_get_partition_constraintdef('public.parted_ceo'::regclass) AS c", BOUND],
  ["SELECT pg_get_statisticsobjdef(oid) AS d FROM pg_statistic_ext WHERE stxname = 'users_st'", STATS],
  ['EXPLAIN SELECT id FROM notes', RLS],
  ['EXPLAIN SELECT n.id FROM public.note_ids n', RLS],
  // The plan of a write prints the defaults of the columns it fills.
  ['EXPLAIN VERBOSE INSERT INTO users (id) VALUES (1000)', DEFAULT],
];

/** Statements refused all the same (their constants are node trees, other sessions' plans, or absent here). */
const REFUSED: string[] = [
  'SELECT indpred, indexprs FROM pg_index',
  'SELECT adbin FROM pg_attrdef',
  'SELECT conbin FROM pg_constraint',
  'SELECT tgargs, tgqual FROM pg_trigger',
  'SELECT partexprs FROM pg_partitioned_table',
  'SELECT stxexprs FROM pg_statistic_ext',
  'SELECT attribute_default FROM information_schema.attributes',
  'SELECT action_statement FROM information_schema.triggers',
  'SELECT statement FROM pg_prepared_statements',
  'SELECT statement FROM pg_cursors',
  'SELECT ident FROM pg_backend_memory_contexts',
  'SELECT rowfilter FROM pg_publication_tables',
  "SELECT pg_get_function_sqlbody('public.api_key'::regproc) AS b",
  "SELECT pg_get_function_arg_default('public.api_key'::regproc, 1) AS d",
  "SELECT pg_get_partkeydef('public.parted'::regclass) AS k",
  'SELECT pg_get_statisticsobjdef_expressions(oid) AS e FROM pg_catalog.pg_statistic_ext',
  'SELECT * FROM pg_prepared_statement()',
  'SELECT * FROM pg_cursor()',
  'SELECT * FROM pg_get_backend_memory_contexts()',
  'SELECT * FROM public.col_defaults',
  'SELECT * FROM public.fn_src',
  'SELECT * FROM public.idx_defs',
];

/** Statements over catalogs that expose names only: read under masks and deny rules as before. */
const NAMES_ONLY: string[] = [
  "SELECT relname, reltuples FROM pg_class WHERE relname = 'users'",
  "SELECT attname FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0",
  "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
  'SELECT constraint_name FROM information_schema.domain_constraints',
  'SELECT table_name FROM information_schema.view_routine_usage',
  "SELECT pg_get_function_identity_arguments('public.api_key'::regproc) AS a",
  'EXPLAIN SELECT id FROM users',
  // Row security filters the rows; only EXPLAIN prints its condition.
  'SELECT id FROM notes',
  'SELECT id FROM public.note_ids',
];

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2econst' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text DEFAULT '${DEFAULT}' CHECK (email <> '${CHECK}'), ssn text);
    INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com', 'SSN' || g FROM generate_series(1, 20) g;
    CREATE INDEX users_vip ON users (id) WHERE email <> '${INDEX}';
    CREATE TABLE keys (id int, k text);
    CREATE FUNCTION public.api_key(x text DEFAULT '${ARGDEF}') RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '${BODY}' $$;
    CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER users_audit BEFORE INSERT ON users FOR EACH ROW WHEN (NEW.email = '${TRIGGER}') EXECUTE FUNCTION public.audit();
    CREATE DOMAIN public.tok AS text DEFAULT '${DOMAIN}';
    CREATE TABLE parted (id int, email text) PARTITION BY LIST (email);
    CREATE TABLE parted_ceo PARTITION OF parted FOR VALUES IN ('${BOUND}');
    CREATE TABLE notes (id int, owner text);
    INSERT INTO notes VALUES (1, 'me');
    CREATE POLICY notes_hide ON notes USING (owner <> '${RLS}');
    ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
    ALTER TABLE notes FORCE ROW LEVEL SECURITY;
    CREATE VIEW note_ids AS SELECT id FROM notes;
    CREATE STATISTICS users_st ON (email = '${STATS}'), id FROM users;
    CREATE VIEW col_defaults AS SELECT table_name, column_default FROM information_schema.columns;
    CREATE VIEW fn_src AS SELECT p.proname, p.prosrc FROM pg_catalog.pg_proc p;
    CREATE VIEW idx_defs AS SELECT pg_catalog.pg_get_indexdef('public.users_vip'::regclass) AS d;
    ANALYZE users;
  `);
  await ownTables(db, ['users', 'keys', 'parted', 'parted_ceo', 'notes', 'note_ids', 'col_defaults', 'fn_src', 'idx_defs']);
  await db.query(`ALTER FUNCTION public.api_key(text) OWNER TO ${db.role}; ALTER DOMAIN public.tok OWNER TO ${db.role}`);
});

after(async () => {
  await db?.drop();
});

describe('the schema\'s constants', () => {
  const g = quotingSuite({
    db: () => db,
    policies: { masks: MASKS },
    leaks: LEAKS,
    refused: REFUSED,
    secrets: SECRETS,
    denyReason: /deny rules apply/,
    stillRead: { title: 'catalogs that expose only names still read under masks and deny rules', sql: NAMES_ONLY },
  });

  test('the reasons name what quotes the constant', async () => {
    const cases: [string, RegExp][] = [
      [LEAKS[0]![0], /^WARDEN_DENIED: information_schema\.columns shows column defaults/],
      [LEAKS[3]![0], /^WARDEN_DENIED: pg_catalog\.pg_proc holds function bodies/],
      [LEAKS[5]![0], /^WARDEN_DENIED: pg_get_function_arguments prints/],
      ['EXPLAIN SELECT id FROM notes', /^WARDEN_DENIED: EXPLAIN prints the conditions of the row security policies .*public\.notes/s],
      ['SELECT * FROM public.col_defaults', /information_schema\.columns .*\(reached through public\.col_defaults\)/],
      ['SELECT * FROM public.fn_src', /^WARDEN_DENIED: pg_catalog\.pg_proc holds function bodies.* \(reached through public\.fn_src\)/],
      ['SELECT * FROM public.idx_defs', /^WARDEN_DENIED: pg_get_indexdef prints .*\(called through public\.idx_defs\)/],
    ];
    for (const [sql, why] of cases) assert.match((await g.masked.query(sql)).text, why, sql);
  });

  test('without masks or deny rules the same statements still run', async () => {
    for (const sql of [...NAMES_ONLY, 'SELECT indpred FROM pg_index', 'SELECT * FROM public.col_defaults', 'SELECT statement FROM pg_prepared_statements']) {
      const r = await g.plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    }
  });

  test('describe_database lists a view over such a catalog as not readable, with the same reason', async () => {
    for (const w of [g.masked, g.denied]) {
      const r = await w.w.call('describe_database', { connection: 'db' });
      assert.equal(r.isError, false, r.text);
      const tables = (r.structured as { data: { tables: { table: string; access: string[]; note?: string }[] } }).data.tables;
      for (const [view, why] of [['public.col_defaults', /^information_schema\.columns shows column defaults/], ['public.fn_src', /^pg_catalog\.pg_proc holds function bodies/], ['public.idx_defs', /^pg_get_indexdef prints/]] as const) {
        const t = tables.find((x) => x.table === view);
        assert.deepEqual(t?.access, [], `${view}: ${JSON.stringify(t)}`);
        assert.match(t?.note ?? '', why, view);
      }
      assert.deepEqual(tables.find((x) => x.table === 'public.users')?.access, ['read']);
      // A view over a table with row security reads as before: only EXPLAIN of it prints the policy.
      assert.deepEqual(tables.find((x) => x.table === 'public.note_ids')?.access, ['read']);
    }
  });
});
