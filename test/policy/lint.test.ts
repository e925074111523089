/**
 * `warden policy check` lint: each finding names FILE:LINE and the offending key, with the
 * right severity; a clean policy has no findings. Real families, real YAML files in a temp dir.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { offlineFamilies } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { ConfigError, type ConfigProblem } from '../../src/config/yaml-source.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `connections:
  analytics: { type: postgres, url: env:DB }
  web-1: { type: ssh, host: 10.0.0.5, user: deploy, private_key: file:/k, host_key: "SHA256:lTftO+26+9iM5c8NlMGDjFpORdDwtp1/tKI3rbA39LU" }
policies: [p.yaml]
`;

function lint(policy: string): ConfigProblem[] {
  writeFileSync(join(dir, 'warden.yaml'), CONFIG);
  writeFileSync(join(dir, 'p.yaml'), policy);
  const config = loadServerConfig(join(dir, 'warden.yaml'), families);
  const compiled = compileForConfig(config, families);
  return lintPolicy({ policy: compiled, connections: config.connections, families: offlineFamilies(families, config.connections), builtins: ['list_connections'] });
}

const find = (ps: ConfigProblem[], re: RegExp) => ps.find((p) => re.test(p.message));

test('a least-privilege policy has no findings', () => {
  const ps = lint(`masking:
  columns: [{ column: public.users.email, with: partial }]
rules:
  - id: read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users] }
  - id: no-drop
    effect: deny
    tool: query_database
    sql: { statements: [drop] }
`);
  assert.deepEqual(ps, []);
});

test('unknown tools and connections are errors on their own line', () => {
  const ps = lint(`rules:
  - id: typo
    effect: allow
    who: { groups: [a] }
    tool: [query_database, query_databse]
    on: [analytcs]
    sql: { statements: [select] }
`);
  const tool = find(ps, /unknown tool "query_databse"/)!;
  assert.equal(tool.severity, 'error');
  assert.equal(tool.line, 5);
  assert.equal(tool.path, 'rules.0.tool.1');
  const conn = find(ps, /unknown connection "analytcs"/)!;
  assert.equal(conn.severity, 'error');
  assert.equal(conn.line, 6);
  assert.equal(conn.path, 'rules.0.on.0');
});

test('rules that can never match: a connection of another type, a block of another family', () => {
  const ps = lint(`rules:
  - id: wrong-conn
    effect: allow
    who: { groups: [a] }
    tool: query_database
    on: [web-1]
    sql: { statements: [select] }
  - id: wrong-block
    effect: deny
    tool: query_database
    shell: { programs: { rm: {} } }
`);
  const a = find(ps, /rule wrong-conn: can never match on web-1/)!;
  assert.equal(a.severity, 'error');
  assert.equal(a.line, 6);
  const b = find(ps, /rule wrong-block: can never match: a shell: block/)!;
  assert.equal(b.severity, 'error');
  assert.equal(b.line, 11);
  assert.equal(b.path, 'rules.1.shell');
});

test('an allow shadowed by a deny is a warning naming the deny', () => {
  const ps = lint(`rules:
  - id: ops-update
    effect: allow
    who: { groups: [ops] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
  - id: no-writes
    effect: deny
    who: { groups: [ops, interns] }
    tool: query_database
    sql: { statements: [update, delete] }
`);
  const s = find(ps, /shadowed by deny rule no-writes/)!;
  assert.equal(s.severity, 'warning');
  assert.equal(s.line, 2);
  assert.equal(s.path, 'rules.0');
});

test('a deny that does not cover the allow is not reported as shadowing', () => {
  const ps = lint(`rules:
  - id: ops-update
    effect: allow
    who: { groups: [ops] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update, select], write: [public.orders] }
  - id: no-deletes
    effect: deny
    tool: query_database
    sql: { statements: [update, delete] }
`);
  assert.equal(find(ps, /shadowed/), undefined);
});

test('overly broad grants, dead masks and never-usable functions are warnings', () => {
  const ps = lint(`masking:
  columns:
    - { column: public.customers.ssn, with: redact }
rules:
  - id: everyone
    effect: allow
    tool: query_database
    on: [analytics]
    sql:
      statements: [select]
      read: [public.users]
      functions: [count, pg_read_file]
  - id: anything-goes
    effect: allow
    who: { subjects: [root] }
    tool: query_database
`);
  const who = find(ps, /allow without who/)!;
  assert.equal(who.severity, 'warning');
  assert.equal(who.line, 5);
  const mask = find(ps, /masked column public\.customers\.ssn/)!;
  assert.equal(mask.severity, 'warning');
  assert.equal(mask.line, 3);
  assert.equal(mask.path, 'masking.columns.0.column');
  const fn = find(ps, /function pg_read_file can never be used/)!;
  assert.equal(fn.severity, 'warning');
  assert.equal(fn.line, 12);
  assert.equal(fn.path, 'rules.0.sql.functions.1');
  assert.equal(find(ps, /function count/), undefined, 'a usable function is not reported');
  const broad = find(ps, /rule anything-goes: allow on query_database without a condition block/)!;
  assert.equal(broad.severity, 'warning');
  assert.equal(broad.line, 13);
});

/** Load errors (ConfigError problems) for a config whose policies are `files`; [] when it loads. */
function loadProblems(files: Record<string, string>): ConfigProblem[] {
  const d = mkdtempSync(join(dir, 'load-'));
  writeFileSync(join(d, 'warden.yaml'), `connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [${Object.keys(files).join(', ')}]\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  try {
    compileForConfig(loadServerConfig(join(d, 'warden.yaml'), families), families);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => ({ ...p, file: basename(p.file) }));
    throw e;
  }
}

test('an unknown SQL statement kind is a load error at its FILE:LINE with the key', () => {
  const ps = loadProblems({
    'p.yaml': `rules:
  - id: no-schema-changes
    effect: deny
    tool: query_database
    sql: { statements: [dorp, truncate] }
  - id: read
    effect: allow
    who: { groups: [a] }
    tool: query_database
    sql:
      statements:
        - select
        - selct
`,
  });
  assert.deepEqual(ps.map((p) => [p.file, p.line, p.path, p.severity]), [
    ['p.yaml', 5, 'rules.0.sql.statements.0', 'error'],
    ['p.yaml', 13, 'rules.1.sql.statements.1', 'error'],
  ]);
  assert.match(ps[0]!.message, /^unknown statement kind "dorp" \(known: .*\bdrop\b/);
  assert.match(ps[1]!.message, /^unknown statement kind "selct"/);
});

test('a valid statement list still loads (any case), and the deny matches what it names', () => {
  writeFileSync(join(dir, 'warden.yaml'), CONFIG);
  writeFileSync(join(dir, 'p.yaml'), `rules:
  - id: no-schema-changes
    effect: deny
    tool: query_database
    sql: { statements: [drop, TRUNCATE, alter, grant, revoke, create] }
  - id: tx
    effect: allow
    who: { groups: [a] }
    tool: query_database
    sql: { statements: [select, insert, update, delete, begin, commit, rollback, savepoint, release, set, show, explain] }
`);
  const policy = compileForConfig(loadServerConfig(join(dir, 'warden.yaml'), families), families);
  assert.equal(policy.rules.length, 2);
  const deny = policy.rules[0]!.conditions[0]!.fn;
  const call = { tool: 'query_database', connection: 'analytics', args: {} };
  assert.equal(deny(analyzeSql('drop table public.orders'), call).matched, true);
  assert.equal(deny(analyzeSql('truncate public.orders'), call).matched, true);
  assert.equal(deny(analyzeSql('select 1'), call).matched, false);
});

test('masking problems are errors at their own FILE:LINE, every one of them, across files', () => {
  const ps = loadProblems({
    'a.yaml': `masking:
  columns:
    - { column: public.users.email, with: partal }
    - { column: public.users.ssn, with: redact }
  detectors: [email, emial]
  custom:
    - { name: ticket, pattern: "(" }
    - { name: order, pattern: "O-[0-9]+" }
`,
    'b.yaml': `rules: []
masking:
  detectors:
    - jwt
    - credit_crad
  custom:
    - { name: order, pattern: "ORD-[0-9]+" }
`,
  });
  assert.deepEqual(ps.map((p) => [p.file, p.line, p.path]), [
    ['a.yaml', 3, 'masking.columns.0.with'],
    ['a.yaml', 5, 'masking.detectors.1'],
    ['a.yaml', 7, 'masking.custom.0.pattern'],
    ['b.yaml', 5, 'masking.detectors.1'],
    ['b.yaml', 7, 'masking.custom.0.name'],
  ]);
  assert.ok(ps.every((p) => p.severity === 'error'));
  assert.match(ps[0]!.message, /unknown masking strategy "partal" \(known: .*partial/);
  assert.match(ps[1]!.message, /^unknown detector "emial"/);
  assert.match(ps[2]!.message, /custom detector "ticket": pattern does not compile/);
  assert.match(ps[3]!.message, /^unknown detector "credit_crad"/);
  assert.match(ps[4]!.message, /custom detector "order" is defined twice \(first at .*a\.yaml:8\)/);
});

test('a masking typo is reported even when the same file has a schema error elsewhere', () => {
  const ps = loadProblems({ 'p.yaml': 'masking:\n  detectors: [emial]\nrules:\n  - id: x\n    effect: permit\n' });
  assert.deepEqual(ps.map((p) => [p.line, p.path]), [[2, 'masking.detectors.0'], [5, 'rules.0.effect']]);
});

test('a relative file: webhook in a policy file resolves against that policy file folder, not warden.yaml', async () => {
  const { mkdirSync } = await import('node:fs');
  const { compilePolicy } = await import('../../src/policy/load.js');
  const sub = join(dir, 'team-policies');
  mkdirSync(sub, { recursive: true });
  const file = join(sub, 'gated.yaml');
  writeFileSync(file, `rules:
  - id: gated
    effect: allow
    who: { groups: [g] }
    tool: query_database
    approval:
      reviewers: { groups: [dba] }
      notify: { webhook: "file:secrets/hook-url" }
  - id: absolute
    effect: allow
    who: { groups: [g] }
    tool: query_database
    approval:
      reviewers: { groups: [dba] }
      notify: { webhook: "file:/etc/warden/hook-url" }
`);
  const policy = compilePolicy([file], []);
  const hook = (id: string) => policy.rules.find((r) => r.id === id)?.approval?.notify?.webhook;
  assert.equal(hook('gated'), `file:${join(sub, 'secrets', 'hook-url')}`);
  assert.equal(hook('absolute'), 'file:/etc/warden/hook-url');
});

test('an approval without reviewers is a warning at its line (anyone but the requester may approve it)', () => {
  const ps = lint(`rules:
  - id: fixes
    effect: allow
    who: { groups: [support] }
    tool: query_database
    sql: { statements: [update], write: [public.orders] }
    approval:
      approvals: 1
  - id: named
    effect: allow
    who: { groups: [support] }
    tool: query_database
    sql: { statements: [delete], write: [public.orders] }
    approval:
      reviewers: { groups: [dba] }
`);
  const open = ps.filter((p) => /approval without reviewers/.test(p.message));
  assert.equal(open.length, 1, JSON.stringify(ps));
  assert.equal(open[0]!.severity, 'warning');
  assert.equal(open[0]!.line, 7);
  assert.match(open[0]!.message, /^rule fixes: /);
});

test('reveal_secret_keys naming a key that credential Secret types use is a warning on that key', () => {
  const ps = lint(`rules:
  - id: reveal
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    kubernetes:
      kinds: [secrets]
      reveal_secret_keys:
        - username
        - token
        - tls.key
        - .dockerconfigjson
        - ssh-privatekey
        - password
        - tls.crt
  - id: no-reveal
    effect: deny
    tool: kubectl_get
    kubernetes: { reveal_secret_keys: [token] }
`);
  const hits = ps.filter((p) => /reveal_secret_keys/.test(p.message));
  assert.deepEqual(hits.map((p) => [p.line, p.path, p.severity]), [
    [10, 'rules.0.kubernetes.reveal_secret_keys.1', 'warning'],
    [11, 'rules.0.kubernetes.reveal_secret_keys.2', 'warning'],
    [12, 'rules.0.kubernetes.reveal_secret_keys.3', 'warning'],
    [13, 'rules.0.kubernetes.reveal_secret_keys.4', 'warning'],
    [14, 'rules.0.kubernetes.reveal_secret_keys.5', 'warning'],
  ], JSON.stringify(ps));
  assert.match(hits[0]!.message, /^rule reveal: .*"token".*kubernetes\.io\/service-account-token/);
  assert.match(hits[1]!.message, /"tls\.key".*kubernetes\.io\/tls/);
  assert.match(hits[4]!.message, /"password".*kubernetes\.io\/basic-auth/);
});

test('a grant that lists a catalog quoting column values is flagged: refused under masks or denies, and unmasked without', () => {
  const ps = lint(`rules:
  - id: stats
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { read: [public.users, pg_stats, pg_catalog.pg_stat_activity] }
`);
  const stats = find(ps, /pg_catalog\.pg_stats quotes column values/);
  assert.ok(stats, ps.map((p) => p.message).join('\n'));
  assert.equal(stats.severity, 'warning');
  assert.equal(stats.path, 'rules.0.sql.read.1');
  assert.match(stats.message, /planner statistics.*refuses it while any column mask or deny rule applies/);
  assert.ok(find(ps, /pg_catalog\.pg_stat_activity quotes column values .*definitions or statements/), ps.map((p) => p.message).join('\n'));
  assert.equal(find(ps, /public\.users quotes/), undefined);
});

test('a grant that lists a catalog quoting the schema\'s constants (defaults, function bodies) is flagged; one listing names only is not', () => {
  const ps = lint(`rules:
  - id: schema
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { read: [information_schema.columns, pg_proc, pg_class, information_schema.tables, information_schema.domain_constraints] }
`);
  const columns = find(ps, /information_schema\.columns quotes constants of the schema/);
  assert.ok(columns, ps.map((p) => p.message).join('\n'));
  assert.equal(columns.severity, 'warning');
  assert.equal(columns.path, 'rules.0.sql.read.0');
  assert.match(columns.message, /column defaults.*refuses it while any column mask or deny rule applies/);
  assert.equal(find(ps, /pg_catalog\.pg_proc quotes constants of the schema .*function bodies/)?.path, 'rules.0.sql.read.1');
  for (const names of ['pg_class', 'information_schema\\.tables', 'domain_constraints']) assert.equal(find(ps, new RegExp(`${names} quotes`)), undefined, names);
});

test('a grant that lists pg_aggregate, pg_stat_statements (any schema) or a catalog with a constant-quoting column is flagged', () => {
  const ps = lint(`rules:
  - id: catalogs
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { read: [pg_aggregate, ext.pg_stat_statements, pg_attribute, pg_catalog.pg_type, pg_class, pg_namespace] }
`);
  const all = ps.map((p) => p.message).join('\n');
  assert.equal(find(ps, /pg_catalog\.pg_aggregate quotes constants of the schema .*initial values of aggregates/)?.path, 'rules.0.sql.read.0', all);
  assert.equal(find(ps, /ext\.pg_stat_statements quotes column values .*statements/)?.path, 'rules.0.sql.read.1', all);
  const attribute = find(ps, /pg_catalog\.pg_attribute\.attmissingval quotes constants of the schema/);
  assert.equal(attribute?.path, 'rules.0.sql.read.2', all);
  assert.equal(attribute?.severity, 'warning');
  assert.match(attribute!.message, /refuses statements that read it \(by name or through \*\) while any column mask or deny rule applies.*its other columns read/);
  assert.equal(find(ps, /pg_catalog\.pg_type\.typdefault quotes/)?.path, 'rules.0.sql.read.3', all);
  assert.equal(find(ps, /pg_catalog\.pg_class\.relpartbound quotes/)?.path, 'rules.0.sql.read.4', all);
  assert.equal(find(ps, /pg_namespace/), undefined, all);
});

test('a grant naming a function outside pg_catalog under column masks is flagged: its body\'s reads are returned unmasked', () => {
  const rules = `rules:
  - id: fn
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users], functions: [count, pg_catalog.lower, public.all_users, '@safe-read'] }
`;
  const masked = lint(`masking:
  columns: [{ column: public.users.email, with: partial }]
${rules}`);
  const hits = masked.filter((p) => /outside pg_catalog and column masks/.test(p.message));
  assert.equal(hits.length, 1, JSON.stringify(masked));
  assert.equal(hits[0]!.severity, 'warning');
  assert.equal(hits[0]!.path, 'rules.0.sql.functions.2');
  assert.match(hits[0]!.message, /public\.all_users .*its body's reads are returned without column masks/);
  assert.equal(lint(rules).filter((p) => /outside pg_catalog and column masks/.test(p.message)).length, 0, 'no masks: nothing to say');
});
