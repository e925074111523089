/**
 * `warden policy check|test|explain|schema` as a user runs them: the real bin as a child
 * process, against the repository's example config and against broken temp configs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const tmp = mkdtempSync(join(tmpdir(), 'warden-policy-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** `warden policy ARGS` as a child process; asynchronous, so the independent tests below run side by side. */
function warden(args: string[], cwd = REPO_ROOT): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_BIN, 'policy', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err });
    });
  });
}

// Each test has its own temp folder and only reads the repository's config: four at a time.
describe('warden policy', { concurrency: 4 }, () => {
  test('check: the example config is clean (also with --strict)', async () => {
    const r = await warden(['check', '--strict', '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { ok: boolean; errors: number; warnings: number; rules: number };
    assert.equal(doc.ok, true);
    assert.equal(doc.errors, 0);
    assert.equal(doc.warnings, 0);
    assert.ok(doc.rules >= 10);
  });

  test('check: errors and warnings as FILE:LINE with the key; non-zero on an error only', async () => {
    const d = join(tmp, 'check');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n');
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules:\n  - id: open\n    effect: allow\n    tool: query_database\n    on: [dbx]\n    sql: { statements: [select] }\n');
    const bad = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /p\.yaml:5: rules\.0\.on\.0: rule open: unknown connection "dbx"/);
    assert.match(bad.err, /p\.yaml:2: warning: rules\.0: rule open: allow without who/);
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules:\n  - id: open\n    effect: allow\n    tool: query_database\n    on: [db]\n    sql: { statements: [select] }\n');
    const warn = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(warn.code, 0, 'warnings alone do not fail');
    assert.match(warn.err, /warning: .*allow without who/);
    assert.equal((await warden(['check', '--strict', '--config', join(d, 'warden.yaml')])).code, 1, '--strict fails on warnings');
  });

  test('check: an unknown SQL statement kind fails the check at FILE:LINE with the key', async () => {
    const d = join(tmp, 'kinds');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n');
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules:\n  - id: no-schema-changes\n    effect: deny\n    tool: query_database\n    sql: { statements: [dorp, truncate] }\n');
    const bad = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /p\.yaml:5: rules\.0\.sql\.statements\.0: unknown statement kind "dorp" \(known: select, /);
    const j = await warden(['check', '--json', '--config', join(d, 'warden.yaml')]);
    const doc = JSON.parse(j.out) as { ok: boolean; problems: { line: number; path: string; severity: string }[] };
    assert.equal(doc.ok, false);
    assert.deepEqual(doc.problems.map((p) => [p.line, p.path, p.severity]), [[5, 'rules.0.sql.statements.0', 'error']]);
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules:\n  - id: no-schema-changes\n    effect: deny\n    tool: query_database\n    sql: { statements: [drop, truncate] }\n');
    const good = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /^ok: 1 rules in 1 policy files .*0 errors, 0 warnings/);
  });

  test('check: a policies: folder that does not exist is an error at its line in the config file named by --config', async () => {
    const d = join(tmp, 'nofolder');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'prod.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies:\n  - nowhere/*.yaml\n');
    const r = await warden(['check', '--config', join(d, 'prod.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /prod\.yaml:4: policies\.0: policy folder .*nowhere cannot be read/);
  });

  test('check: a policies: glob that matches no file is a warning at its line in warden.yaml', async () => {
    const d = join(tmp, 'glob');
    mkdirSync(join(d, 'policies'), { recursive: true });
    mkdirSync(join(d, 'extra'), { recursive: true });
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies:\n  - policies/*.yaml\n  - extra/*.yml\n');
    const r = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 0, 'a warning alone does not fail');
    assert.match(r.out, /^ok: 0 rules in 0 policy files .*0 errors, 2 warnings/);
    assert.match(r.err, /warden\.yaml:4: warning: policies\.0: policies\/\*\.yaml matches no policy file/);
    assert.match(r.err, /warden\.yaml:5: warning: policies\.1: extra\/\*\.yml matches no policy file/);
    assert.equal((await warden(['check', '--strict', '--config', join(d, 'warden.yaml')])).code, 1, '--strict fails on it');
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules: []\n');
    const j = await warden(['check', '--json', '--config', join(d, 'warden.yaml')]);
    const doc = JSON.parse(j.out) as { warnings: number; problems: { line: number; path: string }[] };
    assert.equal(doc.warnings, 1);
    assert.deepEqual(doc.problems.map((p) => [p.line, p.path]), [[5, 'policies.1']]);
  });

  test('check: masking typos are errors at their own FILE:LINE, all of them', async () => {
    const d = join(tmp, 'masking');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n');
    writeFileSync(join(d, 'policies', 'a.yaml'), 'rules: []\n');
    writeFileSync(join(d, 'policies', 'b.yaml'), 'masking:\n  columns:\n    - { column: public.users.email, with: partal }\n  detectors: [email, emial]\n');
    const r = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /b\.yaml:3: masking\.columns\.0\.with: unknown masking strategy "partal"/);
    assert.match(r.err, /b\.yaml:4: masking\.detectors\.1: unknown detector "emial"/);
    assert.doesNotMatch(r.err, /:0:/, 'no problem at line 0');
    assert.doesNotMatch(r.err, /a\.yaml/, 'not blamed on the first policy file');
  });

  test('test: the shipped cases pass in test-runner style', async () => {
    const r = await warden(['test']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^policies\/tests\/analyst\.yaml$/m);
    assert.match(r.out, /ok {3}fixing an order needs a DBA approval/);
    assert.match(r.out, /tests \d+, pass \d+, fail 0/);
  });

  test('test: a failing case exits non-zero and names FILE:LINE', async () => {
    const d = join(tmp, 'cases');
    mkdirSync(d, { recursive: true });
    writeFileSync(
      join(d, 'wrong.yaml'),
      'cases:\n  - name: analysts may drop tables (wrong)\n    principal: { subject: ana, groups: [analysts] }\n    tool: query_database\n    arguments: { connection: analytics, sql: DROP TABLE users }\n    expect: { effect: allow }\n',
    );
    const r = await warden(['test', d, '--config', join(REPO_ROOT, 'warden.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL analysts may drop tables/);
    assert.match(r.out, /wrong\.yaml:2: expected allow, got deny/);
    assert.match(r.out, /tests 1, pass 0, fail 1/);
    const j = await warden(['test', d, '--json']);
    assert.equal(j.code, 1);
    assert.equal((JSON.parse(j.out) as { failed: number }).failed, 1);
  });

  test('explain: a rule the principal is not in says whom its who names, and a group given in another case', async () => {
    const args = JSON.stringify({ connection: 'analytics', sql: 'SELECT id FROM users' });
    const r = await warden(['explain', '--as', 'ana', '--groups', 'Analysts', '--tool', 'query_database', '--args', args]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /skip {2}allow analysts-read \(.*\): principal ana is not in who \(who: groups analysts; group "Analysts" differs only in case from "analysts", and an allow matches names exactly\)\n/);
    assert.match(r.out, /decision: DENY/);
    const j = await warden(['explain', '--json', '--as', 'ana', '--groups', 'Analysts', '--tool', 'query_database', '--args', args]);
    const doc = JSON.parse(j.out) as { rules: { id: string; why: string }[] };
    assert.match(doc.rules.find((t) => t.id === 'analysts-read')?.why ?? '', /differs only in case/);
  });

  test('explain: facts, rules and decision, as text and JSON', async () => {
    const args = JSON.stringify({ connection: 'shop', sql: "UPDATE orders SET status = 'x' WHERE id = 1" });
    const r = await warden(['explain', '--as', 'sam', '--groups', 'sre', '--tool', 'query_database', '--args', args]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /statements: update/);
    assert.match(r.out, /writes: public\.orders/);
    assert.match(r.out, /writtenColumns: public\.orders\.status\n/);
    assert.match(r.out, /MATCH allow sre-fix-orders/);
    assert.match(r.out, /skip {2}allow analysts-read .*principal sam is not in who/);
    assert.match(r.out, /decision: ALLOW by sre-fix-orders/);
    assert.match(r.out, /needs approval \(rule sre-fix-orders\)/);
    const j = await warden(['explain', '--as', 'x', '--claims', '{"repository":"acme/shop","ref":"refs/heads/main"}', '--tool', 'query_database', '--args', JSON.stringify({ connection: 'shop', sql: 'SELECT max(version) FROM schema_migrations' }), '--json']);
    const doc = JSON.parse(j.out) as { decision: { effect: string; rule_ids: string[] }; facts: { reads: string[] } };
    assert.deepEqual(doc.decision.rule_ids, ['ci-check-migrations']);
    assert.deepEqual(doc.facts.reads, ['public.schema_migrations']);
    assert.equal((await warden(['explain', '--tool', 'query_database'])).code, 2, 'usage error without --as');
  });

  test('schema: prints a JSON Schema', async () => {
    const r = await warden(['schema', 'warden']);
    assert.equal(r.code, 0);
    const s = JSON.parse(r.out) as { title: string; properties: Record<string, unknown> };
    assert.match(s.title, /warden\.yaml/);
    assert.ok(s.properties.admins && s.properties.connections);
  });

  test('check: an alias bomb is a FILE:LINE error in --json (not a stack trace); anchors used often still load', async () => {
    const d = join(tmp, 'aliases');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n');
    // One `who` anchored in the first rule and reused by 60 more (the yaml library's own alias limit refused this, uncoded).
    const rules = Array.from({ length: 60 }, (_, i) => `  - { id: r${i}, effect: allow, who: *sre, tool: query_database, on: [db], sql: { read: [public.t${i}] } }\n`).join('');
    writeFileSync(join(d, 'policies', 'p.yaml'), `rules:\n  - { id: a, effect: allow, who: &sre { groups: [sre] }, tool: query_database, on: [db], sql: { read: [public.t] } }\n${rules}`);
    const ok = await warden(['check', '--json', '--config', join(d, 'warden.yaml')]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal((JSON.parse(ok.out) as { rules: number }).rules, 61);
    let bomb = 'rules: []\nb0: &b0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) bomb += `b${i}: &b${i} [${Array(10).fill(`*b${i - 1}`).join(', ')}]\n`;
    writeFileSync(join(d, 'policies', 'p.yaml'), bomb);
    const r = await warden(['check', '--json', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out) as { ok: boolean; problems: { file: string; line: number; message: string }[] };
    assert.equal(doc.ok, false);
    assert.match(`${doc.problems[0]!.file}:${doc.problems[0]!.line}: ${doc.problems[0]!.message}`, /p\.yaml:\d+: more than 200000 values once aliases are expanded/);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  });

  test('check: identity settings the server refuses at start are errors at their line', async () => {
    const d = join(tmp, 'identity');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules: []\n');
    const cfg = (oidc: string) => `identity:\n  oidc:\n    audience: https://warden.example.com/mcp\n${oidc}policies: [policies/*.yaml]\n`;
    writeFileSync(join(d, 'warden.yaml'), cfg('    issuer: http://idp.example.com\n    clock_tolerance: 10m\n'));
    const r = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /warden\.yaml:4: identity\.oidc\.issuer: must be an https URL/);
    assert.match(r.err, /warden\.yaml:5: identity\.oidc\.clock_tolerance: at most 300s/);
    writeFileSync(join(d, 'warden.yaml'), cfg('    issuer: https://idp.example.com\n    jwks_uri: http://127.0.0.1:9999/jwks\n    clock_tolerance: 1m\n'));
    const ok = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(ok.code, 0, ok.err);
  });

  test('check: a file: secret other users can read is a warning at its line; one anyone can write is an error', async () => {
    const d = join(tmp, 'secret-perms');
    mkdirSync(join(d, 'policies'), { recursive: true });
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules: []\n');
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db:\n    type: postgres\n    url: file:db-url\npolicies: [policies/*.yaml]\n');
    writeFileSync(join(d, 'db-url'), 'postgres://warden:pw@db/app\n', { mode: 0o644 });
    chmodSync(join(d, 'db-url'), 0o644);
    const r = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warden\.yaml:4: warning: connections\.db\.url: file:db-url is readable by other users/);
    assert.doesNotMatch(r.out + r.err, /pw@/, 'the secret is not read into the output');
    chmodSync(join(d, 'db-url'), 0o666);
    const w = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(w.code, 1);
    assert.match(w.err, /warden\.yaml:4: connections\.db\.url: file:db-url is writable by every user/);
    chmodSync(join(d, 'db-url'), 0o600);
    assert.doesNotMatch((await warden(['check', '--config', join(d, 'warden.yaml')])).err, /db-url/);
  });

  test('check: a file: secret in a folder every user may write is an error, as the server refuses it', async () => {
    const d = join(tmp, 'secret-folder');
    mkdirSync(join(d, 'policies'), { recursive: true });
    mkdirSync(join(d, 'shared'));
    writeFileSync(join(d, 'policies', 'p.yaml'), 'rules: []\n');
    writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db:\n    type: postgres\n    url: file:shared/db-url\npolicies: [policies/*.yaml]\n');
    writeFileSync(join(d, 'shared', 'db-url'), 'postgres://warden:pw@db/app\n', { mode: 0o600 });
    chmodSync(join(d, 'shared'), 0o1777);
    const r = await warden(['check', '--config', join(d, 'warden.yaml')]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /warden\.yaml:4: connections\.db\.url: file:shared\/db-url: the server refuses it: its folder .*shared is writable by every user/);
    chmodSync(join(d, 'shared'), 0o700);
    assert.doesNotMatch((await warden(['check', '--config', join(d, 'warden.yaml')])).err, /db-url/);
  });
});
