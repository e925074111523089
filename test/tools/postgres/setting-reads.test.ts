/**
 * current_setting() under masks and deny rules (analysis/settings.ts, setting-reads.ts): facts
 * record the name each call reads when it is a string constant PostgreSQL and Warden read alike
 * (lower-cased: setting names are case-insensitive), null otherwise; a built-in setting (a name
 * without a dot) reads under masks and deny rules, a custom one (`app.api_key`, which ALTER
 * ROLE/DATABASE ... SET may have given a secret) or an unknown name is refused, saying which and
 * why. Against a real server: test/e2e/sql-current-setting.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { isBuiltInSetting } from '../../../tools/postgres/analysis/settings.js';
import { checkStatisticsValues, type ValueGuards } from '../../../tools/postgres/statistics-values.js';
import { ViewCatalog, type CatalogRelation, type ViewReader } from '../../../tools/postgres/view-catalog.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';
const settings = (sql: string): (string | null)[] => analyzeSql(sql).settings;

function fakeCatalog(): ViewCatalog {
  const reader: ViewReader = {
    async relations(names) {
      const out = new Map<string, CatalogRelation>();
      for (const n of names) if (n === 'public.t') out.set(n, { kind: 'r', ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [] });
      return out;
    },
    async viewDefinitions() {
      return [];
    },
    async systemRelations() {
      return [];
    },
  };
  return new ViewCatalog(reader, 60_000);
}

const MASKS: ValueGuards = { masks: true, denies: false };
const DENIES: ValueGuards = { masks: false, denies: true };
const NONE: ValueGuards = { masks: false, denies: false };

async function refusalOf(sql: string, g: ValueGuards): Promise<string | null> {
  try {
    await checkStatisticsValues(analyzeSql(sql), g, fakeCatalog());
    return null;
  } catch (e) {
    assert.ok(e instanceof WardenError && e.code === 'WARDEN_DENIED', String(e));
    return e.message;
  }
}

test('facts record the setting a current_setting call reads when it is a string constant, lower-cased', () => {
  const cases: [string, (string | null)[]][] = [
    ["SELECT current_setting('search_path')", ['search_path']],
    ["SELECT current_setting('TimeZone', true)", ['timezone']],
    ["SELECT CURRENT_SETTING('Server_Version_Num')", ['server_version_num']],
    ["SELECT pg_catalog.current_setting('work_mem')", ['work_mem']],
    ["SELECT \"current_setting\"('work_mem')", ['work_mem']],
    ["SELECT current_setting('search_path'::text)", ['search_path']],
    ["SELECT current_setting(CAST('search_path' AS text))", ['search_path']],
    ["SELECT current_setting('search_path'::varchar, false)", ['search_path']],
    ["SELECT current_setting(('search_path'))", ['search_path']],
    ['SELECT current_setting($$search_path$$)', ['search_path']],
    ['SELECT current_setting($x$App.Secret$x$)', ['app.secret']],
    ["SELECT current_setting(E'search_path')", ['search_path']],
    ["SELECT current_setting /* c */ ( -- c\n 'search_path' \n)", ['search_path']],
    ["SELECT current_setting('app.api_key')", ['app.api_key']],
    ["SELECT current_setting('APP.Api_Key', true)", ['app.api_key']],
    ["SELECT current_setting('search_path'), current_setting('app.x')", ['app.x', 'search_path']],
    ["SELECT 1 WHERE current_setting('search_path') IS NOT NULL", ['search_path']],
    ["SELECT lower('app.x')", []],
    ["SELECT other.current_setting('app.x')", []],
  ];
  for (const [sql, want] of cases) assert.deepEqual(settings(sql), want, sql);
});

test('a name Warden does not read as PostgreSQL does, or that is no constant, is unknown (null)', () => {
  for (const sql of [
    "SELECT current_setting(E'app.\\x73ecret')", // \x73 is s: PostgreSQL reads app.secret
    "SELECT current_setting(E'app\\x2esecret')", // \x2e is the dot
    "SELECT current_setting(E'search\\_path')",
    "SELECT current_setting(B'101')",
    "SELECT current_setting(X'41')",
    "SELECT current_setting(N'search_path')", // a typed bpchar
    "SELECT current_setting('search_path'::text[])",
    "SELECT current_setting('search_path'::varchar(6))",
    "SELECT current_setting('search_' || 'path')",
    'SELECT current_setting($1)',
    'SELECT current_setting(name) FROM t',
    'SELECT current_setting((SELECT name FROM t))',
    "SELECT current_setting(lower('SEARCH_PATH'))",
    'SELECT t.current_setting FROM t',
    "SELECT current_setting(CASE WHEN true THEN 'search_path' END)",
  ]) {
    assert.ok(settings(sql).includes(null), `${sql}: ${JSON.stringify(settings(sql))}`);
  }
  // A quoted type name is a type of one's own (its cast may return anything): refused at parse (type-names.ts).
  assert.throws(() => analyzeSql('SELECT current_setting(\'search_path\'::"TEXT")'), isParse);
  // Unicode escapes are refused by the lexer, as everywhere.
  assert.throws(() => analyzeSql("SELECT current_setting(U&'app\\002esecret')"), isParse);
  assert.throws(() => analyzeSql("SELECT current_setting(u&'search_path')"), isParse);
});

test('a setting a DDL expression reads is recorded too', () => {
  assert.deepEqual(analyzeSql("CREATE TABLE public.x (a text DEFAULT current_setting('app.api_key'))").settings, ['app.api_key']);
  assert.deepEqual(analyzeSql("CREATE TABLE public.x (a text DEFAULT current_setting('search_path'))").settings, ['search_path']);
});

test('built-in setting names: no dot, a plain name; SHOW uses the same rule', () => {
  for (const n of ['search_path', 'timezone', 'TimeZone', 'server_version_num']) assert.equal(isBuiltInSetting(n), true, n);
  for (const n of ['app.api_key', 'App.Key', '.x', 'x.', '', 'all', 'ALL', 'search path', 'a\u00e9']) assert.equal(isBuiltInSetting(n), false, n);
});

test('under masks and deny rules current_setting of a built-in setting reads; of a custom or unknown one it is refused, saying which and why', async () => {
  for (const g of [MASKS, DENIES]) {
    for (const sql of [
      "SELECT current_setting('search_path')",
      "SELECT current_setting('TimeZone'), current_setting('server_version_num', true)",
      "SELECT pg_catalog.current_setting('WORK_MEM'::text)",
      'SELECT current_setting($$DateStyle$$)',
    ]) {
      assert.equal(await refusalOf(sql, g), null, sql);
    }
    const refused: [string, RegExp][] = [
      ["SELECT current_setting('app.api_key')", /^current_setting returns the value of a setting.*current_setting\('app\.api_key'\) reads a custom setting/],
      ["SELECT current_setting('App.Api_Key', true)", /current_setting\('app\.api_key'\) reads a custom setting/],
      ["SELECT current_setting('search_path'), current_setting($$app.x$$)", /current_setting\('app\.x'\) reads a custom setting/],
      ["SELECT current_setting(E'app.\\x73ecret')", /^current_setting returns the value of a setting.*name is not a string constant/],
      ['SELECT current_setting(name) FROM public.t', /name is not a string constant/],
      ['SELECT current_setting($1)', /name is not a string constant/],
      ["SELECT current_setting('search_' || 'path')", /name is not a string constant/],
    ];
    for (const [sql, why] of refused) {
      const msg = await refusalOf(sql, g);
      assert.match(msg ?? '', why, sql);
      assert.match(msg ?? '', g.masks ? /column masks apply to you/ : /deny rules apply to you/, sql);
    }
  }
  for (const sql of ["SELECT current_setting('app.api_key')", 'SELECT current_setting(name) FROM public.t']) {
    assert.equal(await refusalOf(sql, NONE), null, `${sql} without masks or denies`);
  }
});

test('set_config is refused under masks; pg_settings.setting keeps its behaviour', async () => {
  // set_config stores what it is given in a setting that current_setting('application_name') or
  // SHOW returns as it is, in the same statement or the next: a masked value would come back unmasked.
  assert.match((await refusalOf("SELECT set_config('search_path', 'public', true)", MASKS)) ?? '', /^set_config stores a value in a setting/);
  // pg_settings.setting stays refused, even for a built-in name: the WHERE clause is not read.
  assert.match((await refusalOf("SELECT setting FROM pg_settings WHERE name = 'search_path'", MASKS)) ?? '', /^pg_catalog\.pg_settings\.setting /);
});

test('a read grant that lists current_setting allows a built-in setting by a constant name, and still never a custom or unknown one', async () => {
  const { compilePolicy } = await import('../../../src/policy/load.js');
  const { decide } = await import('../../../src/policy/engine.js');
  const { sqlCondition } = await import('../../../tools/postgres/sql-condition.js');
  const policy = compilePolicy(['p.yaml'], [sqlCondition], {
    'p.yaml': 'rules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.t], functions: [current_setting, lower] }\n',
  });
  const principal = { subject: 'a', groups: ['g'], claims: {}, authMethod: 'stdio' as const };
  const run = (sql: string) => decide(policy, principal, { tool: 'query_database', connection: 'db', args: { sql } }, analyzeSql(sql));
  for (const sql of ["SELECT current_setting('search_path')", "SELECT current_setting('TimeZone', true) AS tz", "SELECT pg_catalog.current_setting('server_version_num')"]) {
    assert.equal(run(sql).effect, 'allow', sql);
  }
  for (const sql of ["SELECT current_setting('app.api_key')", 'SELECT current_setting(name) FROM public.t', "SELECT current_setting(lower('SEARCH_PATH'))", "SELECT current_setting('search_path'), current_setting('app.x')"]) {
    const d = run(sql);
    assert.equal(d.effect, 'deny', sql);
    assert.match(d.trace[0]!.why, /current_setting is never allowed under a read grant/, sql);
  }
  // set_config stays never allowed under a read grant.
  const p2 = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': 'rules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], functions: [set_config] }\n' });
  assert.equal(decide(p2, principal, { tool: 'query_database', connection: 'db', args: {} }, analyzeSql("SELECT set_config('search_path', 'x', true)")).effect, 'deny');
});
