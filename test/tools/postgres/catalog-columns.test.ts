/**
 * Constants in columns of catalogs every description of the schema reads (catalog-columns.ts:
 * pg_attribute.attmissingval, pg_type.typdefault, pg_class.relpartbound), pg_aggregate and
 * pg_stat_statements, over a catalog that answers from memory: which statements the rule of
 * statistics-values.ts refuses while masks or deny rules apply, and which still run; the columns
 * facts record as read. Against a real server: test/e2e/sql-catalog-columns.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkStatisticsValues, statisticsRefusal, type ValueGuards } from '../../../tools/postgres/statistics-values.js';
import { ViewCatalog, type CatalogRelation, type ViewReader } from '../../../tools/postgres/view-catalog.js';
import type { ViewDefinition } from '../../../tools/postgres/view-lineage.js';

const VIEWS: ViewDefinition[] = [
  { name: 'public.missing', definition: 'SELECT a.attname, a.attmissingval::text AS v FROM pg_catalog.pg_attribute a', columns: ['attname', 'v'] },
  { name: 'public.missing_where', definition: 'SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attmissingval IS NOT NULL', columns: ['attname'] },
  { name: 'public.over_missing', definition: 'SELECT missing.attname FROM public.missing', columns: ['attname'] },
  { name: 'public.att_names', definition: 'SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a', columns: ['attrelid', 'attname'] },
  { name: 'public.queries', definition: 'SELECT s.query FROM ext.pg_stat_statements s', columns: ['query'] },
  { name: 'public.role_keys', definition: 'SELECT r.rolname, r.rolconfig FROM pg_catalog.pg_roles r', columns: ['rolname', 'rolconfig'] },
  { name: 'public.monitored', definition: 'SELECT m.query FROM ext.pg_stat_monitor m', columns: ['query'] },
  { name: 'ext.pg_stat_monitor', definition: 'SELECT pg_stat_monitor.query FROM ext.pg_stat_monitor_internal(true) pg_stat_monitor(query)', columns: ['query'] },
  { name: 'ext.pg_stat_statements', definition: 'SELECT pg_stat_statements.query FROM ext.pg_stat_statements(true) pg_stat_statements(query)', columns: ['query'] },
];

function fakeCatalog(): ViewCatalog {
  const kinds = new Map<string, string>([
    ['public.users', 'r'],
    ['pg_catalog.pg_attribute', 'r'],
    ['pg_catalog.pg_type', 'r'],
    ['pg_catalog.pg_class', 'r'],
    ['pg_catalog.pg_aggregate', 'r'],
    ...['pg_roles', 'pg_user', 'pg_settings', 'pg_foreign_server', 'pg_foreign_table', 'pg_foreign_data_wrapper', 'pg_sequences'].map((r) => [`pg_catalog.${r}`, 'v'] as [string, string]),
    ['public.s', 'S'],
    ...VIEWS.map((v) => [v.name, 'v'] as [string, string]),
  ]);
  const reader: ViewReader = {
    async relations(names) {
      const out = new Map<string, CatalogRelation>();
      for (const n of names) if (kinds.has(n)) out.set(n, { kind: kinds.get(n)!, ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [] });
      return out;
    },
    async viewDefinitions(names) {
      return VIEWS.filter((v) => names.includes(v.name));
    },
    async systemRelations() {
      return [...kinds.keys()].filter((k) => k.startsWith('pg_catalog.'));
    },
  };
  return new ViewCatalog(reader, 60_000);
}

const MASKS: ValueGuards = { masks: true, denies: false };
const DENIES: ValueGuards = { masks: false, denies: true };
const NONE: ValueGuards = { masks: false, denies: false };

async function refusalOf(sql: string, g: ValueGuards, catalog: ViewCatalog): Promise<string | null> {
  try {
    await checkStatisticsValues(analyzeSql(sql), g, catalog);
    return null;
  } catch (e) {
    assert.ok(e instanceof WardenError && e.code === 'WARDEN_DENIED', String(e));
    return e.message;
  }
}

test('facts record every column a statement reads, anywhere, and * for a whole row', () => {
  const cols = (sql: string): string[] => analyzeSql(sql).readColumns.map((c) => `${c.table}.${c.column}`);
  assert.deepEqual(cols("SELECT attname FROM pg_attribute WHERE attmissingval::text LIKE 'x%' ORDER BY attnum"), [
    'pg_catalog.pg_attribute.attmissingval', 'pg_catalog.pg_attribute.attname', 'pg_catalog.pg_attribute.attnum',
  ]);
  assert.ok(cols('SELECT a FROM pg_attribute a').includes('pg_catalog.pg_attribute.*'));
  assert.deepEqual(cols('SELECT a.* FROM pg_attribute a'), ['pg_catalog.pg_attribute.*']);
  assert.deepEqual(cols('SELECT x FROM (SELECT * FROM pg_type) s(x)'), ['pg_catalog.pg_type.*']);
  assert.deepEqual(cols('SELECT 1 FROM pg_attribute a JOIN public.t USING (attmissingval)'), ['pg_catalog.pg_attribute.attmissingval', 'public.t.attmissingval']);
  assert.deepEqual(cols('SELECT 1 FROM pg_attribute NATURAL JOIN public.t'), ['pg_catalog.pg_attribute.*', 'public.t.*']);
  assert.deepEqual(cols('SELECT count(*) FROM pg_attribute'), []);
  assert.deepEqual(cols('UPDATE public.users SET name = t.typname FROM pg_type t WHERE t.typdefault = users.name RETURNING users.id'), [
    'pg_catalog.pg_type.typdefault', 'pg_catalog.pg_type.typname', 'public.users.id', 'public.users.name',
  ]);
  assert.deepEqual(cols('INSERT INTO public.t (c) SELECT typdefault FROM pg_type'), ['pg_catalog.pg_type.typdefault']);
  assert.ok(cols("CREATE VIEW public.v AS SELECT c.relpartbound FROM pg_class c").includes('pg_catalog.pg_class.relpartbound'));
});

test('a statement reading attmissingval, typdefault or relpartbound, by name anywhere or through a star or whole row, is refused under masks and deny rules', async () => {
  const catalog = fakeCatalog();
  const named: [string, RegExp][] = [
    ['SELECT attmissingval FROM pg_attribute', /^pg_catalog\.pg_attribute\.attmissingval holds the default of a column added/],
    ["SELECT attname FROM pg_attribute WHERE attmissingval::text LIKE 'x%'", /^pg_catalog\.pg_attribute\.attmissingval /],
    ['SELECT attname FROM pg_catalog.pg_attribute a ORDER BY a.attmissingval::text', /^pg_catalog\.pg_attribute\.attmissingval /],
    ['SELECT (SELECT typdefault) AS d FROM pg_type', /^pg_catalog\.pg_type\.typdefault /],
    ['SELECT t.typdefaultbin FROM pg_type t', /^pg_catalog\.pg_type\.typdefaultbin /],
    ['SELECT c.relname FROM pg_class c WHERE c.relpartbound IS NOT NULL', /^pg_catalog\.pg_class\.relpartbound /],
    ['SELECT * FROM pg_attribute', /^pg_catalog\.pg_attribute\.attmissingval .*every column of pg_catalog\.pg_attribute is read/],
    ['SELECT a.* FROM pg_attribute a', /pg_catalog\.pg_attribute.*attmissingval/],
    ['SELECT a FROM pg_attribute a', /pg_catalog\.pg_attribute.*attmissingval/],
    ['SELECT row_to_json(c) FROM pg_class c', /pg_catalog\.pg_class.*relpartbound/],
    ['SELECT * FROM (SELECT * FROM pg_type) s', /pg_catalog\.pg_type.*typdefault/],
    ['SELECT x FROM pg_type t(x)', /pg_catalog\.pg_type.*typdefault/],
    ['SELECT 1 FROM pg_attribute NATURAL JOIN public.users', /pg_catalog\.pg_attribute.*attmissingval/],
  ];
  for (const g of [MASKS, DENIES]) {
    for (const [sql, why] of named) {
      const refused = await refusalOf(sql, g, catalog);
      assert.match(refused ?? '', why, sql);
      assert.match(refused!, g.masks ? /column masks apply/ : /deny rules apply/, sql);
      assert.equal(await refusalOf(sql, NONE, catalog), null, `${sql} without masks or denies`);
    }
  }
});

test('the catalogs\' other columns still read under masks and deny rules', async () => {
  const catalog = fakeCatalog();
  for (const sql of [
    "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = 'x'::regclass",
    'SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = $1',
    'SELECT typname FROM pg_type',
    'SELECT relname, relispartition FROM pg_catalog.pg_class',
    'SELECT count(*) FROM pg_attribute',
    'SELECT * FROM public.att_names',
  ]) {
    for (const g of [MASKS, DENIES]) assert.equal(await refusalOf(sql, g, catalog), null, sql);
  }
});

test('a view whose definition reads such a column anywhere is refused, also through views; describe_database says the same', async () => {
  const catalog = fakeCatalog();
  for (const [view, column] of [['public.missing', 'attmissingval'], ['public.missing_where', 'attmissingval'], ['public.over_missing', 'attmissingval']] as const) {
    const why = await refusalOf(`SELECT attname FROM ${view}`, MASKS, catalog);
    assert.match(why ?? '', new RegExp(`^pg_catalog\\.pg_attribute\\.${column} .*\\(read by a view reached through ${view.replace('.', '\\.')}\\)`), view);
    assert.equal(await statisticsRefusal(view, MASKS, catalog), why, `${view}: describe_database says what query_database does`);
  }
  assert.equal(await statisticsRefusal('public.att_names', MASKS, catalog), null);
});

test('pg_aggregate is refused whole: agginitval holds aggregates\' initial values', async () => {
  const catalog = fakeCatalog();
  for (const sql of ['SELECT agginitval FROM pg_aggregate', 'SELECT aggfnoid FROM pg_catalog.pg_aggregate']) {
    assert.match((await refusalOf(sql, DENIES, catalog)) ?? '', /^pg_catalog\.pg_aggregate holds the initial values of aggregates/, sql);
    assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  }
});

test('pg_stat_statements, in any schema, and its function are refused; through a view too', async () => {
  const catalog = fakeCatalog();
  for (const sql of ['SELECT query FROM pg_stat_statements', 'SELECT query FROM public.pg_stat_statements', 'SELECT s.query FROM ext.pg_stat_statements s']) {
    assert.match((await refusalOf(sql, MASKS, catalog)) ?? '', /^[a-z_]+\.pg_stat_statements shows the statements sessions ran/, sql);
    assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  }
  for (const sql of ['SELECT * FROM public.pg_stat_statements(true)', 'SELECT pg_stat_statements(false)', 'SELECT * FROM ext.pg_stat_statements(true) s']) {
    assert.match((await refusalOf(sql, DENIES, catalog)) ?? '', /pg_stat_statements returns the statements sessions ran/, sql);
  }
  const through = await refusalOf('SELECT * FROM public.queries', MASKS, catalog);
  assert.match(through ?? '', /^ext\.pg_stat_statements shows the statements sessions ran.*\(reached through public\.queries\)/);
  assert.equal(await statisticsRefusal('public.queries', MASKS, catalog), through);
  // Other relations of the extension's name family are not the view.
  assert.equal(await refusalOf('SELECT 1 FROM public.pg_stat_statements_info', MASKS, catalog), null);
});

test('stored settings and options: their columns (rolconfig, setting, reloptions, srvoptions...) are refused under masks and deny rules, the catalogs\' other columns still read', async () => {
  const catalog = fakeCatalog();
  const refused: [string, RegExp][] = [
    ["SELECT rolconfig FROM pg_roles WHERE rolname = 'agent'", /^pg_catalog\.pg_roles\.rolconfig holds the settings given to a role/],
    ['SELECT * FROM pg_roles', /^pg_catalog\.pg_roles\.rolconfig .*every column of pg_catalog\.pg_roles is read/],
    ['SELECT usename FROM pg_user WHERE useconfig IS NOT NULL', /^pg_catalog\.pg_user\.useconfig /],
    ["SELECT setting FROM pg_settings WHERE name = 'app.api_key'", /^pg_catalog\.pg_settings\.setting holds the values of settings/],
    ['SELECT name, reset_val FROM pg_catalog.pg_settings', /^pg_catalog\.pg_settings\.reset_val /],
    ['SHOW app.api_key', /^pg_catalog\.pg_settings\.setting /],
    ['SHOW "app.api_key"', /^pg_catalog\.pg_settings\.setting /],
    ['SHOW ALL', /^pg_catalog\.pg_settings\.setting /],
    ['SELECT relname, reloptions FROM pg_class', /^pg_catalog\.pg_class\.reloptions holds storage options/],
    ['SELECT attname FROM pg_attribute WHERE attoptions IS NOT NULL', /^pg_catalog\.pg_attribute\.attoptions /],
    ['SELECT a.attfdwoptions FROM pg_attribute a', /^pg_catalog\.pg_attribute\.attfdwoptions holds the options of foreign table columns/],
    ['SELECT srvname, srvoptions FROM pg_foreign_server', /^pg_catalog\.pg_foreign_server\.srvoptions holds the options of foreign servers/],
    ['SELECT ftoptions FROM pg_foreign_table', /^pg_catalog\.pg_foreign_table\.ftoptions /],
    ['SELECT fdwoptions FROM pg_foreign_data_wrapper', /^pg_catalog\.pg_foreign_data_wrapper\.fdwoptions /],
    ['SELECT rolname FROM public.role_keys', /^pg_catalog\.pg_roles\.rolconfig .*\(read by a view reached through public\.role_keys\)/],
  ];
  for (const g of [MASKS, DENIES]) {
    for (const [sql, why] of refused) {
      assert.match((await refusalOf(sql, g, catalog)) ?? '', why, sql);
      assert.equal(await refusalOf(sql, NONE, catalog), null, `${sql} without masks or denies`);
    }
  }
  for (const sql of [
    "SELECT rolname, rolsuper FROM pg_roles WHERE rolname = 'agent'",
    'SELECT usename FROM pg_user',
    "SELECT name, unit, short_desc FROM pg_settings WHERE name = 'work_mem'",
    'SHOW search_path',
    'SHOW "TimeZone"',
    'SELECT relname, relkind FROM pg_class',
    'SELECT srvname FROM pg_foreign_server',
    'SELECT ftrelid, ftserver FROM pg_foreign_table',
  ]) {
    for (const g of [MASKS, DENIES]) assert.equal(await refusalOf(sql, g, catalog), null, sql);
  }
});

test('sequence values are no copies of stored values: pg_sequences, a sequence relation, currval and lastval read under masks and deny rules', async () => {
  const catalog = fakeCatalog();
  for (const sql of ['SELECT last_value FROM pg_sequences', 'SELECT last_value, is_called FROM public.s', "SELECT currval('public.s')", 'SELECT lastval()']) {
    for (const g of [MASKS, DENIES]) assert.equal(await refusalOf(sql, g, catalog), null, sql);
  }
});

test('pg_stat_monitor, in any schema, and the function behind it are refused like pg_stat_statements; through a view too', async () => {
  const catalog = fakeCatalog();
  for (const sql of ['SELECT query FROM pg_stat_monitor', 'SELECT query FROM public.pg_stat_monitor', 'SELECT m.query FROM ext.pg_stat_monitor m']) {
    assert.match((await refusalOf(sql, MASKS, catalog)) ?? '', /^[a-z_]+\.pg_stat_monitor shows the statements sessions ran/, sql);
    assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  }
  for (const sql of ['SELECT * FROM public.pg_stat_monitor_internal(true)', 'SELECT pg_stat_monitor_internal(false)']) {
    assert.match((await refusalOf(sql, DENIES, catalog)) ?? '', /pg_stat_monitor_internal returns the statements sessions ran/, sql);
  }
  const through = await refusalOf('SELECT * FROM public.monitored', MASKS, catalog);
  assert.match(through ?? '', /^ext\.pg_stat_monitor shows the statements sessions ran.*\(reached through public\.monitored\)/);
  assert.equal(await statisticsRefusal('public.monitored', MASKS, catalog), through);
});
