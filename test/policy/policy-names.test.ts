/**
 * Policy names of tables and columns follow SQL identifier rules everywhere the policy layer
 * reads them (masking.columns, lint): unquoted parts fold to lower case, "quoted" parts keep
 * their case, "" is one quote. Ill-formed names are load errors at FILE:LINE with the key.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { explainCall, offlineFamilies, offlineTools } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { normaliseColumnName } from '../../src/policy/load.js';
import { blockTables } from '../../src/policy/lint-blocks.js';
import { ConfigError, type ConfigProblem } from '../../src/config/yaml-source.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(policy: string): { problems: ConfigProblem[]; lint: ConfigProblem[]; masks: string[] } {
  const d = mkdtempSync(join(dir, 'p-'));
  writeFileSync(join(d, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  writeFileSync(join(d, 'p.yaml'), policy);
  try {
    const config = loadServerConfig(join(d, 'warden.yaml'), families);
    const compiled = compileForConfig(config, families);
    const lint = lintPolicy({ policy: compiled, connections: config.connections, families: offlineFamilies(families, config.connections), builtins: [] });
    return { problems: [], lint, masks: compiled.masking.columns.map((c) => c.column) };
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems.map((p) => ({ ...p, file: basename(p.file) })), lint: [], masks: [] };
    throw e;
  }
}

test('masked column names: quoted parts keep their case, "" is a quote, pg_* tables are in pg_catalog', () => {
  assert.equal(normaliseColumnName('"Secrets"."Value"'), 'public.Secrets.Value');
  assert.equal(normaliseColumnName('Public.Users.Email'), 'public.users.email');
  assert.equal(normaliseColumnName('"Sales"."Or""ders".id'), 'Sales.Or"ders.id');
  assert.equal(normaliseColumnName('pg_authid.rolpassword'), 'pg_catalog.pg_authid.rolpassword');
  assert.deepEqual(blockTables({ read: ['"Secrets"', 'Users'], write: ['"Sales".Orders'] }), ['public.Secrets', 'public.users', 'Sales.orders']);
});

test('a quoted masked column read by a quoted grant is not reported as a dead mask', () => {
  const r = load(`masking:
  columns: [{ column: '"Secrets"."Value"', with: redact }]
rules:
  - id: read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: ['"Secrets"'] }
`);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.masks, ['public.Secrets.Value']);
  assert.deepEqual(r.lint, []);
});

test('a masked column of another table than the quoted one granted is still reported', () => {
  const r = load(`masking:
  columns: [{ column: 'Secrets.value', with: redact }]
rules:
  - id: read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    sql: { statements: [select], read: ['"Secrets"'] }
`);
  assert.match(r.lint.find((p) => p.path === 'masking.columns.0.column')?.message ?? '', /public\.secrets\.value: no allow rule's read covers public\.secrets/);
});

test('ill-formed table and column names are load errors at their line', () => {
  const r = load(`masking:
  columns:
    - { column: '"Users.email', with: redact }
    - { column: 'users.email.x.y', with: redact }
rules:
  - id: deny-secrets
    effect: deny
    tool: query_database
    sql:
      read: ['"Secrets', public.users]
      write: [a.b.c]
`);
  const at = (path: string) => r.problems.find((p) => p.path === path);
  assert.equal(at('masking.columns.0.column')?.line, 3);
  assert.match(at('masking.columns.0.column')?.message ?? '', /\[schema\.\]table\.column/);
  assert.equal(at('masking.columns.1.column')?.line, 4);
  assert.equal(at('rules.0.sql.read.0')?.line, 10);
  assert.match(at('rules.0.sql.read.0')?.message ?? '', /unterminated quoted identifier/);
  assert.equal(at('rules.0.sql.read.1'), undefined);
  assert.equal(at('rules.0.sql.write.0')?.line, 11);
  assert.match(at('rules.0.sql.write.0')?.message ?? '', /\[schema\.\]table/);
});

test('ill-formed write_columns entries are load errors at their line', () => {
  const r = load(`rules:
  - id: no-role
    effect: deny
    tool: query_database
    sql:
      write_columns:
        - public.users.role
        - users
        - '"Users.role'
        - a.b.c.d
`);
  const at = (path: string) => r.problems.find((p) => p.path === path);
  assert.equal(at('rules.0.sql.write_columns.0'), undefined);
  assert.equal(at('rules.0.sql.write_columns.1')?.line, 8);
  assert.match(at('rules.0.sql.write_columns.1')?.message ?? '', /\[schema\.\]table\.column/);
  assert.equal(at('rules.0.sql.write_columns.2')?.line, 9);
  assert.match(at('rules.0.sql.write_columns.2')?.message ?? '', /unterminated/);
  assert.equal(at('rules.0.sql.write_columns.3')?.line, 10);
});

test('a deny on an unqualified function reaches the call that names its schema (public or pg_catalog), and public.f reaches f()', async () => {
  const d = mkdtempSync(join(dir, 'f-'));
  writeFileSync(join(d, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  // The contractors' deny names the function as an admin calls it; the team's grant names its schema.
  writeFileSync(join(d, 'p.yaml'), `rules:
  - id: reports
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    sql: { functions: [public.export_report, export_all, app.export_report, public.purge] }
  - id: no-exports
    effect: deny
    who: { groups: [contractors] }
    tool: query_database
    sql: { functions: [export_report, public.export_all] }
`);
  const config = loadServerConfig(join(d, 'warden.yaml'), families);
  const env = { policy: compileForConfig(config, families), tools: offlineTools(families, config.connections), connections: config.connections };
  const contractor = { subject: 'carl', groups: ['staff', 'contractors'], claims: {}, authMethod: 'local' as const };
  const decide = async (sql: string) => (await explainCall(env, contractor, 'query_database', { connection: 'analytics', sql })).decision;
  for (const sql of ['SELECT public.export_report()', 'SELECT "public"."export_report"()', 'SELECT export_all()']) {
    const r = await decide(sql);
    assert.equal(r.effect, 'deny', `${sql}: ${r.reason}`);
    assert.deepEqual(r.rule_ids, ['no-exports'], sql);
  }
  // Another schema's function of that name is another function, as another schema's table is another table.
  assert.equal((await decide('SELECT app.export_report()')).effect, 'allow');
  assert.equal((await decide('SELECT public.purge()')).effect, 'allow');
});
