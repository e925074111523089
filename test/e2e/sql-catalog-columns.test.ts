/**
 * Constants in catalogs every description of the schema reads, and in extension views. Via
 * `warden serve` against a real PostgreSQL 15 (catalog-columns.ts, schema-constants.ts,
 * statistics-values.ts):
 * - pg_attribute.attmissingval (the default of a column added later), pg_type.typdefault (a
 *   domain's default), pg_class.relpartbound (a partition's bound) quote constants; while a
 *   column mask or a conditional deny rule applies, a statement that reads one of them (by name
 *   anywhere, or through `*`, `t.*` or a whole-row reference) is refused, and so is one reading
 *   a view whose definition reads one, while the catalogs' other columns still read;
 * - pg_aggregate (agginitval, an aggregate's initial value) is refused whole;
 * - pg_stat_statements (the extension's view, in whatever schema, and its function) shows
 *   statements with their literal text; refused by name. Without shared_preload_libraries the
 *   view returns no rows, but the refusal comes before the statement runs;
 * - describe_database says the same of the views it lists.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, quotingSuite } from '../support/sql-warden.js';

const MISSING = 'MISSING-SECRET-1';
const DOMAIN = 'DOMAIN-SECRET-2';
const AGG = 'AGG-SECRET-3';
const BOUND = 'BOUND-SECRET-4';
const SECRETS = [MISSING, DOMAIN, AGG, BOUND];

const MASKS = `
masking:
  columns:
    - { column: public.t.id, with: redact }
`;

/** Statements that quote a constant, and the constant each quotes without masks or denies. */
const LEAKS: [string, string][] = [
  ["SELECT attmissingval FROM pg_attribute WHERE attrelid = 'public.t'::regclass AND attname = 'c'", MISSING],
  ["SELECT a.attmissingval::text AS v FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.t'::regclass", MISSING],
  ["SELECT * FROM pg_attribute WHERE attrelid = 'public.t'::regclass", MISSING],
  ["SELECT a FROM pg_attribute a WHERE a.attrelid = 'public.t'::regclass", MISSING],
  ["SELECT row_to_json(a) AS j FROM pg_attribute a WHERE a.attrelid = 'public.t'::regclass", MISSING],
  ["SELECT typdefault FROM pg_type WHERE typname = 'tok'", DOMAIN],
  ["SELECT * FROM pg_type WHERE typname = 'tok'", DOMAIN],
  ["SELECT agginitval FROM pg_aggregate WHERE aggfnoid = 'public.agg_secret'::regproc", AGG],
  ['SELECT * FROM public.missing_defaults', MISSING],
];

/** Statements refused all the same (they test a constant rather than return it, or quote none here). */
const REFUSED: string[] = [
  "SELECT attname FROM pg_attribute WHERE attmissingval::text LIKE '%SECRET%'",
  'SELECT attname FROM pg_attribute ORDER BY attmissingval::text',
  'SELECT a.* FROM pg_attribute a',
  'SELECT x.attname FROM pg_attribute x JOIN pg_class c ON c.oid = x.attrelid WHERE c.relpartbound IS NOT NULL',
  'SELECT relpartbound FROM pg_class',
  'SELECT (SELECT typdefault) AS d FROM pg_type',
  'SELECT * FROM (SELECT * FROM pg_type) s',
  'SELECT typdefaultbin FROM pg_type',
  'SELECT count(*) FROM pg_aggregate',
  'SELECT query FROM public.pg_stat_statements',
  'SELECT * FROM public.pg_stat_statements(true)',
  'SELECT public.pg_stat_statements(true)',
  'SELECT * FROM public.queries',
];

/** The catalogs' other columns: read under masks and deny rules as before. */
const STILL_READ: string[] = [
  "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = 'public.t'::regclass",
  "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 't' AND a.attnum > 0",
  "SELECT typname, typtype FROM pg_type WHERE typname = 'tok'",
  "SELECT relname, relispartition FROM pg_class WHERE relname = 'parted_b'",
  'SELECT count(*) AS n FROM pg_attribute',
  'SELECT * FROM public.att_names LIMIT 1',
];

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ecatcol' });
  await db.query(`
    CREATE TABLE t (id int);
    INSERT INTO t VALUES (1);
    ALTER TABLE t ADD COLUMN c text DEFAULT '${MISSING}';
    CREATE TABLE keys (id int, k text);
    CREATE DOMAIN public.tok AS text DEFAULT '${DOMAIN}';
    CREATE AGGREGATE public.agg_secret(text) (sfunc = textcat, stype = text, initcond = '${AGG}');
    CREATE TABLE parted (id int, k text) PARTITION BY LIST (k);
    CREATE TABLE parted_b PARTITION OF parted FOR VALUES IN ('${BOUND}');
    CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public;
    CREATE VIEW missing_defaults AS SELECT a.attname, a.attmissingval::text AS v FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.t'::regclass;
    CREATE VIEW att_names AS SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a;
    CREATE VIEW queries AS SELECT s.query FROM public.pg_stat_statements s;
  `);
  await ownTables(db, ['t', 'keys', 'parted', 'parted_b', 'missing_defaults', 'att_names', 'queries']);
});

after(async () => {
  await db?.drop();
});

describe('constants in catalogs the schema\'s descriptions read, and in pg_stat_statements', () => {
  // The extension's view calls its function, whose body deny rules cannot see: refused by them first.
  const g = quotingSuite({
    db: () => db,
    policies: { masks: MASKS },
    leaks: LEAKS,
    refused: REFUSED,
    secrets: SECRETS,
    denyReason: /deny rules apply|deny rules cannot be followed through view public\.pg_stat_statements/,
    stillRead: { title: 'the catalogs\' other columns still read under masks and deny rules', sql: STILL_READ },
  });

  test('the reasons name the column, the catalog or the extension view', async () => {
    const cases: [string, RegExp][] = [
      [LEAKS[0]![0], /^WARDEN_DENIED: pg_catalog\.pg_attribute\.attmissingval holds the default of a column added/],
      [LEAKS[2]![0], /^WARDEN_DENIED: pg_catalog\.pg_attribute\.attmissingval .*every column of pg_catalog\.pg_attribute is read/],
      [LEAKS[5]![0], /^WARDEN_DENIED: pg_catalog\.pg_type\.typdefault /],
      [LEAKS[7]![0], /^WARDEN_DENIED: pg_catalog\.pg_aggregate holds the initial values of aggregates/],
      [LEAKS[8]![0], /^WARDEN_DENIED: pg_catalog\.pg_attribute\.attmissingval .*\(read by a view reached through public\.missing_defaults\)/],
      ['SELECT relpartbound FROM pg_class', /^WARDEN_DENIED: pg_catalog\.pg_class\.relpartbound /],
      ['SELECT query FROM public.pg_stat_statements', /^WARDEN_DENIED: public\.pg_stat_statements shows the statements sessions ran/],
      ['SELECT * FROM public.pg_stat_statements(true)', /^WARDEN_DENIED: public\.pg_stat_statements returns the statements sessions ran/],
      ['SELECT * FROM public.queries', /^WARDEN_DENIED: public\.pg_stat_statements .*\(reached through public\.queries\)/],
    ];
    for (const [sql, why] of cases) assert.match((await g.masked.query(sql)).text, why, sql);
  });

  test('pg_stat_statements named without its schema is refused even without masks or deny rules (public has it, not pg_catalog)', async () => {
    for (const sql of ['SELECT query FROM pg_stat_statements', 'SELECT pg_stat_statements(true)']) {
      const r = await g.plain.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /write the schema/, sql);
    }
  });

  test('describe_database lists a view reading such a column, and pg_stat_statements, as not readable, with the same reason', async () => {
    for (const w of [g.masked, g.denied]) {
      const r = await w.w.call('describe_database', { connection: 'db' });
      assert.equal(r.isError, false, r.text);
      const tables = (r.structured as { data: { tables: { table: string; access: string[]; note?: string }[] } }).data.tables;
      // Under deny rules the extension's view is refused by them first (it calls a function outside pg_catalog), as query_database does.
      const calls = w === g.denied ? /^deny rules cannot be followed through view public\.pg_stat_statements/ : null;
      for (const [view, why] of [
        ['public.missing_defaults', /^pg_catalog\.pg_attribute\.attmissingval .*\(read by a view reached through public\.missing_defaults\)/],
        ['public.pg_stat_statements', calls ?? /^public\.pg_stat_statements shows the statements sessions ran/],
        ['public.queries', calls ?? /^public\.pg_stat_statements .*\(reached through public\.queries\)/],
      ] as const) {
        const t = tables.find((x) => x.table === view);
        assert.deepEqual(t?.access, [], `${view}: ${JSON.stringify(t)}`);
        assert.match(t?.note ?? '', why, view);
      }
      assert.deepEqual(tables.find((x) => x.table === 'public.att_names')?.access, ['read']);
    }
  });
});
