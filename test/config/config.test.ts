import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/server-config.js';
import { createSecretResolver } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { families } from '../../tools/index.js';

function problemsOf(text: string): string[] {
  try {
    loadServerConfig('/x/warden.yaml', families, text);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems.map((p) => `${p.line}:${p.path}:${p.message}`);
  }
}

test('a valid config loads with defaults and resolved policy globs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
  writeFileSync(join(dir, 'a.yaml'), 'rules: []\n');
  writeFileSync(join(dir, 'b.yml'), 'rules: []\n');
  writeFileSync(join(dir, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: ["*.yaml"]\n');
  const c = loadServerConfig(join(dir, 'warden.yaml'), families);
  assert.equal(c.connections[0]!.name, 'db');
  assert.equal(c.connections[0]!.statement_timeout, 5000);
  assert.equal(c.transcripts.synchronous, 'FULL');
  assert.deepEqual(c.policyFiles.map((f) => f.slice(dir.length + 1)), ['a.yaml', 'warden.yaml']);
});

test('problems name the line and key; inline secrets and unknown types are refused', () => {
  const p = problemsOf('connections:\n  db:\n    type: postgres\n    url: postgres://u:pw@h/db\n  x:\n    type: mongo\nfoo: 1\n');
  assert.ok(p.some((s) => s.startsWith('4:connections.db.url:must be a secret reference')), p.join('\n'));
  assert.ok(p.some((s) => s.startsWith('6:connections.x.type:unknown connection type "mongo"')), p.join('\n'));
  assert.ok(p.some((s) => s.startsWith('7:foo:unknown key (allowed here: transcripts, identity, connections, policies,')), p.join('\n'));
  assert.ok(!p.join('\n').includes('pw@'), 'the secret is not echoed');
});

test('YAML syntax errors carry their line', () => {
  const p = problemsOf('connections:\n  db: { type: postgres\n');
  assert.ok(p.length > 0 && /^[23]:/.test(p[0]!), p.join('\n'));
});

test('secret references resolve env and files and never echo values in errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sec-'));
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  const r = createSecretResolver(dir, { DB: 'postgres://x' });
  assert.equal(await r.resolve('env:DB'), 'postgres://x');
  assert.equal(await r.resolve('file:pw'), 's3cret');
  await assert.rejects(r.resolve('env:MISSING'), /WARDEN|not set/);
  await assert.rejects(r.resolve('file:/nonexistent/x'), (e: Error) => !e.message.includes('s3cret'));
  await assert.rejects(r.resolve('hunter2'), (e: Error) => !e.message.includes('hunter2'));
});

test('an empty or comment-only warden.yaml is refused: caught mid-write on a reload it would load the default policies/*.yaml', () => {
  for (const text of ['', '# being rewritten\n', '---\n']) assert.deepEqual(problemsOf(text), ['1::configuration file is empty (it would load the defaults, policies/*.yaml among them); write at least `policies: [...]`'], JSON.stringify(text));
  assert.deepEqual(problemsOf('policies: []\n'), []);
});

test('jwks_cooldown has a floor: at 0 every token with an unknown key id would refetch the issuer keys', () => {
  const oidc = (cooldown: string) => `identity:\n  oidc:\n    issuer: https://idp.example\n    audience: warden\n    jwks_cooldown: ${cooldown}\n`;
  for (const bad of ['0ms', '999ms']) {
    const p = problemsOf(oidc(bad));
    assert.ok(p.some((s) => /jwks_cooldown:jwks_cooldown must be at least 1s/.test(s)), `${bad}: ${p.join('\n')}`);
  }
  assert.ok(problemsOf(oidc('5000')).some((s) => /jwks_cooldown:a duration needs a unit: 5000ms/.test(s)), 'a bare number names the spellings');
  for (const good of ['1s', '2m']) assert.ok(!problemsOf(oidc(good)).some((s) => s.includes('jwks_cooldown')), good);
});

test('http per-principal caps: defaults without settings, configured values, wrong types refused at their line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\n');
  const d = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([d.max_requests_per_principal, d.max_streams_per_principal, d.request_timeout], [32, 4, 120_000]);
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\nhttp:\n  max_body_bytes: 4096\n');
  const partial = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([partial.max_requests_per_principal, partial.max_streams_per_principal, partial.request_timeout], [32, 4, 120_000], 'another http key set keeps the defaults');
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\nhttp:\n  max_requests_per_principal: 8\n  max_streams_per_principal: 1\n  request_timeout: 30s\n');
  const c = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([c.max_requests_per_principal, c.max_streams_per_principal, c.request_timeout], [8, 1, 30_000]);

  const p = problemsOf('policies: []\nhttp:\n  max_requests_per_principal: many\n  max_streams_per_principal: 0\n  request_timeout: 30\n  max_inflight: 3\n');
  assert.ok(p.some((s) => /^3:http\.max_requests_per_principal:.*number/i.test(s)), p.join('\n'));
  assert.ok(p.some((s) => /^4:http\.max_streams_per_principal:.*(>|greater|positive)/i.test(s)), p.join('\n'));
  assert.ok(p.some((s) => s.startsWith('5:http.request_timeout:a duration needs a unit')), p.join('\n'));
  assert.ok(p.some((s) => s.startsWith('6:http.max_inflight:unknown key (allowed here: allowed_hosts,') && s.includes('max_requests_per_principal')), p.join('\n'));
  const q = problemsOf('policies: []\nhttp:\n  max_requests_per_principal: 2.5\n  request_timeout: 500ms\n');
  assert.ok(q.some((s) => /^3:http\.max_requests_per_principal:/.test(s)), q.join('\n'));
  assert.ok(q.some((s) => s.startsWith('4:http.request_timeout:request_timeout must be between 1s and 1h')), q.join('\n'));
});

test('http server-wide caps and stream buffer: defaults, configured values, per-identity above server-wide refused at its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\n');
  const d = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([d.max_requests, d.max_streams, d.max_stream_buffer], [512, 256, 8 * 1024 * 1024]);
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\nhttp:\n  max_body_bytes: 4096\n');
  const partial = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([partial.max_requests, partial.max_streams, partial.max_stream_buffer], [512, 256, 8 * 1024 * 1024], 'another http key set keeps the defaults');
  writeFileSync(join(dir, 'warden.yaml'), 'policies: []\nhttp:\n  max_requests: 8\n  max_streams: 2\n  max_requests_per_principal: 8\n  max_streams_per_principal: 1\n  max_stream_buffer: 65536\n');
  const c = loadServerConfig(join(dir, 'warden.yaml'), families).http;
  assert.deepEqual([c.max_requests, c.max_streams, c.max_stream_buffer], [8, 2, 65536]);

  const p = problemsOf('policies: []\nhttp:\n  max_requests: 0\n  max_streams: 1.5\n  max_stream_buffer: 100\n');
  assert.ok(p.some((s) => /^3:http\.max_requests:.*(>|greater|positive)/i.test(s)), p.join('\n'));
  assert.ok(p.some((s) => /^4:http\.max_streams:/.test(s)), p.join('\n'));
  assert.ok(p.some((s) => /^5:http\.max_stream_buffer:/.test(s)), p.join('\n'));
  // The defaults of the per-identity caps (32, 4) are above these server-wide caps.
  const q = problemsOf('policies: []\nhttp:\n  max_requests: 16\n  max_streams: 2\n');
  assert.ok(q.some((s) => /^3:http\.max_requests:.*max_requests_per_principal \(32\)/.test(s)), q.join('\n'));
  assert.ok(q.some((s) => /^4:http\.max_streams:.*max_streams_per_principal \(4\)/.test(s)), q.join('\n'));
  const r = problemsOf('policies: []\nhttp:\n  max_requests_per_principal: 600\n');
  assert.ok(r.some((s) => /^3:http\.max_requests_per_principal:.*max_requests \(512\)/.test(s)), r.join('\n'));
});

test('transcripts.trusted_roles: PostgreSQL role names, as transcripts.owner; none by default', () => {
  const load = (text: string) => loadServerConfig('/x/warden.yaml', families, `policies: []\n${text}`);
  assert.deepEqual(load('').transcripts.trusted_roles, []);
  assert.deepEqual(load('transcripts: { store: sqlite:w.db }\n').transcripts.trusted_roles, []);
  assert.deepEqual(load('transcripts: { owner: warden, trusted_roles: [rds_admin, "Admin Role"] }\n').transcripts.trusted_roles, ['rds_admin', 'Admin Role']);
  for (const bad of ['[""]', `[${'a'.repeat(64)}]`, '["adm\\nin"]', 'rds_admin']) {
    const p = problemsOf(`policies: []\ntranscripts: { trusted_roles: ${bad} }\n`);
    assert.ok(p.some((s) => /^2:transcripts\.trusted_roles/.test(s)), `${bad}: ${p.join('\n')}`);
  }
  assert.ok(problemsOf(`policies: []\ntranscripts: { trusted_roles: [${'é'.repeat(32)}] }\n`).some((s) => s.includes('at most 63 bytes')), '64 bytes in 32 characters');
});

test('transcripts.store: a postgres:// URL with a password inline is refused (a secret reference holds it), one without loads', () => {
  for (const bad of ['postgres://warden:s3cret@db.example.com/warden', 'postgresql://warden:s3cret@db:5432/w?sslmode=verify-full', 'postgres://db/w?user=warden&password=s3cret', 'postgres://db/w?pass%77ord=s3cret', 'postgres://db/w?x=1&%70assword=s3cret', 'postgres://d b/w?pass%77ord=s3cret']) {
    const p = problemsOf(`policies: []\ntranscripts: { store: "${bad}" }\n`);
    assert.ok(p.some((s) => /^2:transcripts\.store:.*password inline.*env:NAME/.test(s)), `${bad}: ${p.join('\n')}`);
    assert.ok(!p.join('\n').includes('s3cret'), 'the password is not repeated in the error');
  }
  const load = (text: string) => loadServerConfig('/x/warden.yaml', families, `policies: []\n${text}`);
  for (const good of ['postgres://warden@db.example.com/warden', 'postgres://db/w?sslmode=require', 'env:WARDEN_STORE_URL', 'sqlite:recordings/w.db']) {
    assert.equal(load(`transcripts: { store: "${good}" }\n`).transcripts.store, good);
  }
});

test("a postgres connection's trusted_foreign_servers: foreign server names, none by default; empty, too long, repeated or not a list is refused at its line", () => {
  const load = (extra: string) =>
    loadServerConfig('/x/warden.yaml', families, `policies: []\nconnections:\n  db: { type: postgres, url: env:DB${extra} }\n`).connections[0] as unknown as { trusted_foreign_servers?: string[] };
  assert.equal(load('').trusted_foreign_servers, undefined);
  assert.deepEqual(load(', trusted_foreign_servers: []').trusted_foreign_servers, []);
  assert.deepEqual(load(', trusted_foreign_servers: [reporting, "Sales DW"]').trusted_foreign_servers, ['reporting', 'Sales DW']);
  for (const bad of ['[""]', `[${'a'.repeat(64)}]`, '["rep\\norting"]', '[reporting, reporting]', 'reporting', '[1]']) {
    const p = problemsOf(`policies: []\nconnections:\n  db: { type: postgres, url: env:DB, trusted_foreign_servers: ${bad} }\n`);
    assert.ok(p.some((s) => /^3:connections\.db\.trusted_foreign_servers/.test(s)), `${bad}: ${p.join('\n')}`);
  }
  assert.ok(problemsOf(`policies: []\nconnections:\n  db: { type: postgres, url: env:DB, trusted_foreign_servers: [${'é'.repeat(32)}] }\n`).some((s) => s.includes('at most 63 bytes')), '64 bytes in 32 characters');
});
