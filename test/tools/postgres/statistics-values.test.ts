/**
 * The planner-statistics and EXPLAIN rule (statistics-values.ts) over a catalog that answers from
 * memory: which statements it refuses, under which guards, and that it asks the catalog nothing
 * when neither masks nor deny rules apply. Against a real server: test/e2e/sql-statistics.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { CONSTANT_FUNCTIONS, SCHEMA_CONSTANTS } from '../../../tools/postgres/schema-constants.js';
import { checkStatisticsValues, QUOTED_VALUES, statisticsRefusal, VALUE_STATISTICS, type ValueGuards } from '../../../tools/postgres/statistics-values.js';
import { ViewCatalog, type CatalogRelation, type ViewReader } from '../../../tools/postgres/view-catalog.js';
import type { ViewDefinition } from '../../../tools/postgres/view-lineage.js';

const VIEWS: ViewDefinition[] = [
  { name: 'public.stats_view', definition: 'SELECT s.attname, s.most_common_vals::text AS mcv FROM pg_catalog.pg_stats s', columns: ['attname', 'mcv'] },
  { name: 'public.stats_over', definition: 'SELECT stats_view.attname FROM public.stats_view', columns: ['attname'] },
  { name: 'public.stats_where', definition: 'SELECT u.id FROM public.users u WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_stats s)', columns: ['id'] },
  // A call deny rules cannot see into: the view's reads still count.
  { name: 'public.stats_opaque', definition: 'SELECT public.f(u.id) AS x FROM public.users u WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_statistic_ext_data d)', columns: ['x'] },
  { name: 'public.user_view', definition: 'SELECT users.id FROM public.users', columns: ['id'] },
  { name: 'public.defs_view', definition: 'SELECT v.viewname, v.definition FROM pg_catalog.pg_views v', columns: ['viewname', 'definition'] },
  { name: 'public.defaults_view', definition: 'SELECT c.table_name, c.column_default FROM information_schema.columns c', columns: ['table_name', 'column_default'] },
  { name: 'public.fndef_view', definition: "SELECT pg_catalog.pg_get_functiondef('f'::regproc) AS d", columns: ['d'] },
  { name: 'public.notes_view', definition: 'SELECT notes.id FROM public.notes', columns: ['id'] },
];

function fakeCatalog(): { catalog: ViewCatalog; asked: () => number } {
  let asked = 0;
  const kinds = new Map<string, string>([
    ['public.users', 'r'],
    ['public.notes', 'r'],
    ...[...SCHEMA_CONSTANTS.keys()].map((s) => [s, 'v'] as [string, string]),
    ...VIEWS.map((v) => [v.name, 'v'] as [string, string]),
    ...[...VALUE_STATISTICS].map((s) => [s, s.includes('pg_statistic') ? 'r' : 'v'] as [string, string]),
    ...[...QUOTED_VALUES.keys()].map((s) => [s, 'v'] as [string, string]),
  ]);
  const reader: ViewReader = {
    async relations(names) {
      asked++;
      const out = new Map<string, CatalogRelation>();
      for (const n of names) {
        if (kinds.has(n)) out.set(n, { kind: kinds.get(n)!, rowSecurity: n === 'public.notes', ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [] });
      }
      return out;
    },
    async viewDefinitions(names) {
      asked++;
      return VIEWS.filter((v) => names.includes(v.name));
    },
    async systemRelations() {
      asked++;
      return [...VALUE_STATISTICS, ...QUOTED_VALUES.keys(), ...SCHEMA_CONSTANTS.keys()];
    },
  };
  return { catalog: new ViewCatalog(reader, 60_000), asked: () => asked };
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

test('every statistics relation, named with or without its schema, is refused under masks and under deny rules', async () => {
  const { catalog } = fakeCatalog();
  for (const g of [MASKS, DENIES]) {
    for (const stat of VALUE_STATISTICS) {
      const bare = stat.slice('pg_catalog.'.length);
      for (const sql of [`SELECT * FROM ${stat}`, `SELECT count(*) FROM ${bare} WHERE true`, `SELECT u.id FROM public.users u WHERE EXISTS (SELECT 1 FROM ${bare})`]) {
        const why = await refusalOf(sql, g, catalog);
        assert.ok(why?.startsWith(`${stat} holds planner statistics`), `${sql}: ${why}`);
        assert.match(why!, g.masks ? /column masks apply/ : /deny rules apply/);
      }
    }
  }
});

test('views that reach statistics are refused, also through views and past a call deny rules cannot see into', async () => {
  const { catalog } = fakeCatalog();
  for (const [view, stat] of [
    ['public.stats_view', 'pg_catalog.pg_stats'],
    ['public.stats_over', 'pg_catalog.pg_stats'],
    ['public.stats_where', 'pg_catalog.pg_stats'],
    ['public.stats_opaque', 'pg_catalog.pg_statistic_ext_data'],
  ] as const) {
    const why = await refusalOf(`SELECT * FROM ${view}`, MASKS, catalog);
    assert.ok(why?.startsWith(`${stat} holds planner statistics (reached through ${view})`), `${view}: ${why}`);
    assert.equal(await statisticsRefusal(view, MASKS, catalog), why, `${view}: describe_database says what query_database does`);
  }
  assert.equal(await refusalOf('SELECT * FROM public.user_view', MASKS, catalog), null);
  assert.equal(await statisticsRefusal('public.user_view', MASKS, catalog), null);
});

test('EXPLAIN of a statement that reads a view is refused while masks or deny rules apply; of a table it is not', async () => {
  const { catalog } = fakeCatalog();
  for (const g of [MASKS, DENIES]) {
    assert.match((await refusalOf('EXPLAIN SELECT id FROM public.user_view', g, catalog)) ?? '', /^EXPLAIN prints the definition .* view public\.user_view/);
    assert.equal(await refusalOf('EXPLAIN SELECT id FROM public.users', g, catalog), null);
    assert.equal(await refusalOf('SELECT id FROM public.user_view', g, catalog), null);
  }
  // A system view's definition is PostgreSQL's own.
  assert.equal(await refusalOf('EXPLAIN SELECT rolname FROM pg_catalog.pg_roles', MASKS, catalog), null);
});

test('without masks or deny rules nothing is refused and the catalog is not asked', async () => {
  const { catalog, asked } = fakeCatalog();
  for (const sql of ['SELECT * FROM pg_catalog.pg_stats', 'SELECT * FROM public.stats_view', 'EXPLAIN SELECT id FROM public.user_view']) {
    assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  }
  assert.equal(await statisticsRefusal('public.stats_view', NONE, catalog), null);
  assert.equal(asked(), 0);
});

test('a statistics relation named directly costs no catalog round trip', async () => {
  const { catalog, asked } = fakeCatalog();
  assert.ok(await refusalOf('SELECT most_common_vals FROM pg_stats', MASKS, catalog));
  assert.equal(asked(), 0);
});

test('relations that quote values in text (view and policy definitions, other sessions\' statements) follow the same rule', async () => {
  const { catalog } = fakeCatalog();
  for (const [relation, why] of QUOTED_VALUES) {
    const bare = relation.startsWith('pg_catalog.') ? relation.slice('pg_catalog.'.length) : relation;
    for (const g of [MASKS, DENIES]) {
      const refused = await refusalOf(`SELECT * FROM ${bare}`, g, catalog);
      assert.ok(refused?.startsWith(`${relation} ${why}`), `${relation}: ${refused}`);
    }
    assert.equal(await refusalOf(`SELECT * FROM ${bare}`, NONE, catalog), null, `${relation} without masks or denies`);
  }
  const through = await refusalOf('SELECT * FROM public.defs_view', MASKS, catalog);
  assert.ok(through?.startsWith('pg_catalog.pg_views holds the definitions of views and rules, constants included (`WHERE ssn = ...`) (reached through public.defs_view)'), String(through));
  assert.equal(await statisticsRefusal('public.defs_view', MASKS, catalog), through, 'describe_database says what query_database does');
});

test('relations that quote the schema\'s constants (defaults, CHECK, function bodies) follow the same rule, named or through a view', async () => {
  const { catalog } = fakeCatalog();
  for (const [relation, why] of SCHEMA_CONSTANTS) {
    const bare = relation.startsWith('pg_catalog.') ? relation.slice('pg_catalog.'.length) : relation;
    for (const g of [MASKS, DENIES]) {
      const refused = await refusalOf(`SELECT * FROM ${bare}`, g, catalog);
      assert.ok(refused?.startsWith(`${relation} ${why}`), `${relation}: ${refused}`);
    }
    assert.equal(await refusalOf(`SELECT * FROM ${bare}`, NONE, catalog), null, `${relation} without masks or denies`);
  }
  const through = await refusalOf('SELECT * FROM public.defaults_view', DENIES, catalog);
  assert.match(through ?? '', /^information_schema\.columns shows column defaults.* \(reached through public\.defaults_view\)/);
  assert.equal(await statisticsRefusal('public.defaults_view', DENIES, catalog), through, 'describe_database says what query_database does');
  // Catalogs that expose only names are not refused.
  for (const sql of ['SELECT relname FROM pg_class', 'SELECT attname FROM pg_attribute', 'SELECT table_name FROM information_schema.tables', 'SELECT constraint_name FROM information_schema.domain_constraints', 'SELECT table_name FROM information_schema.view_routine_usage']) {
    assert.equal(await refusalOf(sql, MASKS, catalog), null, sql);
  }
});

test('functions that print the schema\'s constants are refused, called directly or through a view; those that print names are not', async () => {
  const { catalog } = fakeCatalog();
  for (const [fn, why] of CONSTANT_FUNCTIONS) {
    for (const sql of [`SELECT ${fn}(1)`, `SELECT pg_catalog.${fn}(1)`]) {
      const refused = await refusalOf(sql, MASKS, catalog);
      assert.ok(refused?.startsWith(`${fn} ${why}`), `${sql}: ${refused}`);
      assert.equal(await refusalOf(sql, NONE, catalog), null, `${sql} without masks or denies`);
    }
  }
  for (const fn of ['pg_prepared_statement', 'pg_cursor', 'pg_get_backend_memory_contexts']) {
    assert.match((await refusalOf(`SELECT * FROM ${fn}()`, DENIES, catalog)) ?? '', new RegExp(`^${fn} returns`), fn);
  }
  assert.match((await refusalOf('SELECT * FROM public.fndef_view', MASKS, catalog)) ?? '', /^pg_get_functiondef prints .*\(called through public\.fndef_view\)/);
  for (const fn of ['pg_get_function_identity_arguments', 'pg_get_function_result', 'pg_get_userbyid', 'format_type']) {
    assert.equal(await refusalOf(`SELECT ${fn}(1)`, MASKS, catalog), null, fn);
  }
});

test('EXPLAIN of a statement that reads a table with row level security, also through a view, is refused; reading it is not, and costs no extra round trip', async () => {
  const { catalog, asked } = fakeCatalog();
  assert.equal(await refusalOf('SELECT id FROM public.notes', MASKS, catalog), null);
  assert.equal(asked(), 1, 'the kind query answers row security too');
  for (const g of [MASKS, DENIES]) {
    for (const sql of ['EXPLAIN SELECT id FROM public.notes', 'EXPLAIN SELECT n.id FROM public.users u JOIN public.notes n ON n.id = u.id']) {
      assert.match((await refusalOf(sql, g, catalog)) ?? '', /^EXPLAIN prints the conditions of the row security policies .* public\.notes/, sql);
    }
  }
  assert.match((await refusalOf('EXPLAIN SELECT id FROM public.notes_view', MASKS, catalog)) ?? '', /^EXPLAIN prints the definition .* view public\.notes_view/);
  assert.equal(await refusalOf('EXPLAIN SELECT id FROM public.notes', NONE, catalog), null);
  assert.equal(await refusalOf('EXPLAIN SELECT id FROM public.users', MASKS, catalog), null);
});

test('EXPLAIN of a statement that fills columns (INSERT, UPDATE) is refused: its plan prints their defaults', async () => {
  const { catalog } = fakeCatalog();
  for (const sql of ['EXPLAIN VERBOSE INSERT INTO public.users (id) VALUES (1)', 'EXPLAIN UPDATE public.users SET id = 2']) {
    assert.match((await refusalOf(sql, MASKS, catalog)) ?? '', /^EXPLAIN \(VERBOSE\) of (INSERT|UPDATE) prints the defaults/, sql);
    assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  }
});

test('functions that keep a value outside the tables rules name (value-stores.ts) are refused under masks and deny rules, any spelling; a public one is the grant\'s', async () => {
  const { catalog } = fakeCatalog();
  const cases: [string, RegExp][] = [
    ['SELECT count(*) FROM public.users WHERE pg_try_advisory_xact_lock(id, ascii(email))', /^pg_try_advisory_xact_lock takes an advisory lock whose key pg_locks shows/],
    ['SELECT count(*) FROM public.users WHERE PG_CATALOG.PG_ADVISORY_LOCK(length(email)) IS NULL', /^pg_advisory_lock takes an advisory lock/],
    ["SELECT count(*) FROM public.users WHERE lo_from_bytea(0, convert_to(email, 'UTF8')) > 0", /^lo_from_bytea reads or writes large objects/],
    ['SELECT lo_get(4242)', /^lo_get reads or writes large objects/],
    ['SELECT loread(0, 10)', /^loread reads or writes large objects/],
    ["SELECT setval('public.s', 42)", /^setval stores a number in a sequence/],
    ["SELECT count(*) FROM public.users WHERE pg_notify('c', email) IS NULL", /^pg_notify sends its payload/],
    ["SELECT pg_logical_emit_message(true, 'p', 'x')", /^pg_logical_emit_message writes its message into the WAL/],
    ["SELECT * FROM pg_logical_slot_peek_changes('s', NULL, NULL)", /^pg_logical_slot_peek_changes returns the changes logical decoding read/],
    ['SELECT count(*) FROM pg_catalog.pg_largeobject', /^pg_catalog\.pg_largeobject holds the contents of large objects/],
    ["SELECT pg_read_binary_file(pg_relation_filepath('public.keys'))", /^pg_read_binary_file reads the server's files/],
    ["SELECT public.get_raw_page('public.keys', 0)", /^public\.get_raw_page runs the query text, or reads the relation, its arguments name/],
    ["SELECT encode(chunk_data, 'escape') FROM pg_toast.pg_toast_16386", /^pg_toast\.pg_toast_16386 holds, in chunks, the out-of-line values \(TOAST\)/],
  ];
  for (const g of [MASKS, DENIES]) {
    for (const [sql, why] of cases) {
      const said = await refusalOf(sql, g, catalog);
      assert.match(said ?? '', why, sql);
      assert.match(said!, g.masks ? /column masks apply/ : /deny rules apply/, sql);
    }
  }
  for (const sql of ['SELECT lo_get(4242)', "SELECT setval('public.s', 42)", 'SELECT count(*) FROM pg_catalog.pg_largeobject']) assert.equal(await refusalOf(sql, NONE, catalog), null, sql);
  for (const sql of ["SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory'", 'SELECT count(*) FROM pg_catalog.pg_largeobject_metadata', 'SELECT public.lo_get(1)']) {
    assert.equal(await refusalOf(sql, MASKS, catalog), null, sql);
  }
});
