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
  assert.ok(p.some((s) => s === '7:foo:unknown key'), p.join('\n'));
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
