/**
 * Stored settings and options, and pg_stat_monitor. Via `warden serve` against a real
 * PostgreSQL 15 (catalog-columns.ts, schema-constants.ts, statistics-values.ts):
 * - a setting given to a role or database (`ALTER ROLE ... SET app.api_key = '...'`) reads back
 *   from pg_db_role_setting.setconfig, pg_roles.rolconfig, pg_user.useconfig, pg_settings,
 *   current_setting() and SHOW; while a column mask or a conditional deny rule applies they are
 *   refused (pg_db_role_setting whole, the others by column; SHOW of a custom setting or ALL);
 * - options of foreign servers, tables, columns and user mappings (srvoptions, ftoptions,
 *   attfdwoptions, umoptions: a password), reloptions, pg_options_to_table(): refused the same;
 * - pg_stat_monitor (not installed here): a view of that name in any schema is refused by name;
 * - sequences read as before (a counter is no copy of a value), and nextval is still refused
 *   under a read (the read-only transaction), masks or not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, quotingSuite } from '../support/sql-warden.js';

const ROLE_KEY = 'ROLE-SETTING-SECRET-1';
const DB_KEY = 'DB-SETTING-SECRET-2';
const SRV = 'SRV-OPTION-SECRET-3';
const FT = 'FT-OPTION-SECRET-4';
const COL = 'COL-OPTION-SECRET-5';
const UM = 'UM-PASSWORD-SECRET-6';
const MONITOR = 'MONITOR-SECRET-7';
const RELOPT = 'fillfactor=71';
const SECRETS = [ROLE_KEY, DB_KEY, SRV, FT, COL, UM, MONITOR, RELOPT];

const MASKS = `
masking:
  columns:
    - { column: public.t.id, with: redact }
`;

let db: TestDatabase;

/** Statements that quote a stored setting or option, and the value each quotes without masks or denies. */
const LEAKS: [string, string][] = [
  ['SELECT setconfig::text AS c FROM pg_db_role_setting', DB_KEY],
  ['SELECT rolconfig::text AS c FROM pg_roles WHERE rolconfig IS NOT NULL', ROLE_KEY],
  ['SELECT useconfig::text AS c FROM pg_user WHERE useconfig IS NOT NULL', ROLE_KEY],
  ["SELECT current_setting('app.api_key') AS k", DB_KEY],
  ['SHOW app.api_key', DB_KEY],
  ["SELECT srvoptions::text AS o FROM pg_foreign_server WHERE srvname = 'remote'", SRV],
  ['SELECT ftoptions::text AS o FROM pg_foreign_table', FT],
  ["SELECT attfdwoptions::text AS o FROM pg_attribute WHERE attrelid = 'public.ft'::regclass AND attname = 'c'", COL],
  ['SELECT umoptions::text AS o FROM pg_user_mappings', UM],
  ['SELECT option_value FROM information_schema.user_mapping_options', UM],
  ["SELECT o.option_value FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o(option_name, option_value) WHERE s.srvname = 'remote'", SRV],
  ["SELECT reloptions::text AS o FROM pg_class WHERE relname = 'keys'", RELOPT],
  ['SELECT query FROM public.pg_stat_monitor', MONITOR],
];

/** Read as before under masks and deny rules. */
const STILL_READ: string[] = [
  "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'postgres'",
  "SELECT name, unit FROM pg_settings WHERE name = 'work_mem'",
  'SHOW search_path',
  "SELECT srvname FROM pg_foreign_server WHERE srvname = 'remote'",
  "SELECT relname, relkind FROM pg_class WHERE relname = 'keys'",
  'SELECT last_value FROM pg_sequences',
  'SELECT last_value, is_called FROM public.counter',
];

before(async () => {
  db = await createTestDatabase({ prefix: 'e2esetopt' });
  await db.query(`
    CREATE TABLE t (id int);
    INSERT INTO t VALUES (1);
    CREATE TABLE keys (id int, k text) WITH (fillfactor = 71);
    CREATE SEQUENCE counter;
    SELECT nextval('counter');
    CREATE EXTENSION postgres_fdw;
    CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${SRV}');
    CREATE USER MAPPING FOR ${db.role} SERVER remote OPTIONS (user 'u', password '${UM}');
    CREATE FOREIGN TABLE ft (c text OPTIONS (column_name '${COL}')) SERVER remote OPTIONS (table_name '${FT}');
    GRANT USAGE ON FOREIGN SERVER remote TO ${db.role};
    CREATE VIEW public.pg_stat_monitor AS SELECT '${MONITOR}'::text AS query;
    ALTER ROLE ${db.role} SET app.role_key = '${ROLE_KEY}';
    ALTER ROLE ${db.role} IN DATABASE ${db.dbName} SET app.api_key = '${DB_KEY}';
  `);
  await ownTables(db, ['t', 'keys', 'counter', 'ft', 'pg_stat_monitor']);
});

after(async () => {
  await db?.drop();
});

describe('stored settings and options, and pg_stat_monitor', () => {
  const g = quotingSuite({
    db: () => db,
    policies: { masks: MASKS },
    leaks: LEAKS,
    // pg_settings and SHOW ALL hide a placeholder (a custom setting no loaded extension defines), not one an extension defines.
    refused: ["SELECT setting FROM pg_settings WHERE name = 'app.api_key'", 'SHOW ALL', "SELECT setrole FROM pg_db_role_setting", 'SELECT * FROM pg_roles', 'SELECT usename FROM pg_user_mappings', "SHOW \"app.api_key\""],
    secrets: SECRETS,
    denyReason: /deny rules apply/,
    stillRead: { title: 'the catalogs\' other columns, built-in settings and sequences still read under masks and deny rules', sql: STILL_READ },
  });

  test('the reasons name the catalog, the column, the function or the extension view', async () => {
    const cases: [string, RegExp][] = [
      [LEAKS[0]![0], /^WARDEN_DENIED: pg_catalog\.pg_db_role_setting holds the settings given to roles and databases/],
      [LEAKS[1]![0], /^WARDEN_DENIED: pg_catalog\.pg_roles\.rolconfig holds the settings given to a role/],
      ["SELECT setting FROM pg_settings WHERE name = 'app.api_key'", /^WARDEN_DENIED: pg_catalog\.pg_settings\.setting holds the values of settings/],
      [LEAKS[3]![0], /^WARDEN_DENIED: current_setting returns the value of a setting/],
      [LEAKS[4]![0], /^WARDEN_DENIED: pg_catalog\.pg_settings\.setting /],
      [LEAKS[5]![0], /^WARDEN_DENIED: pg_catalog\.pg_foreign_server\.srvoptions holds the options of foreign servers/],
      [LEAKS[8]![0], /^WARDEN_DENIED: pg_catalog\.pg_user_mappings holds the options of user mappings, passwords included/],
      [LEAKS[10]![0], /^WARDEN_DENIED: (pg_options_to_table prints stored options|pg_catalog\.pg_foreign_server\.srvoptions )/],
      [LEAKS[12]![0], /^WARDEN_DENIED: public\.pg_stat_monitor shows the statements sessions ran/],
    ];
    for (const [sql, why] of cases) assert.match((await g.masked.query(sql)).text, why, sql);
  });

  test('nextval and setval write: refused under a read, masks or not', async () => {
    for (const w of [g.plain, g.masked]) {
      for (const sql of ["SELECT nextval('public.counter')", "SELECT setval('public.counter', 42)"]) {
        const r = await w.query(sql);
        assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      }
    }
    const after = await g.plain.query('SELECT last_value FROM public.counter');
    assert.ok(!after.text.includes('42'), after.text);
  });
});
