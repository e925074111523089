/**
 * The `tls:` block of a postgres connection in warden.yaml: modes with libpq's names, ca/cert/key
 * as secret references only (an inline PEM is refused and never echoed), combinations that would
 * not mean what they say refused at load, and `policy check` looks at the nested file: secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../../src/config/server-config.js';
import { secretFileProblems } from '../../../src/config/secret-files.js';
import { ConfigError } from '../../../src/config/yaml-source.js';
import { families } from '../../../tools/index.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-tls-cfg-'));
writeFileSync(join(dir, 'rules.yaml'), 'rules: []\n');

function load(tls: string) {
  return loadServerConfig(join(dir, 'warden.yaml'), families, `connections:\n  main:\n    type: postgres\n    url: env:DB\n    tls: ${tls}\npolicies: [rules.yaml]\n`);
}

function problemsOf(tls: string): string[] {
  try {
    load(tls);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => `${p.line}:${p.path}:${p.message}`);
  }
}

test('a tls: block with a mode and secret references loads as written', () => {
  const c = load('{ mode: verify-full, ca: file:/etc/warden/db-ca.pem, cert: env:DB_CERT, key: file:db.key, server_name: db.internal }');
  assert.deepEqual(c.connections[0]!['tls'], { mode: 'verify-full', ca: 'file:/etc/warden/db-ca.pem', cert: 'env:DB_CERT', key: 'file:db.key', server_name: 'db.internal' });
  assert.deepEqual(load('{ mode: require }').connections[0]!['tls'], { mode: 'require' });
});

test('an inline PEM in tls: is refused at its key, and not echoed', () => {
  const p = problemsOf('{ mode: verify-full, ca: "-----BEGIN CERTIFICATE-----MIIBs3cr3t" }');
  assert.ok(p.some((s) => s.startsWith('5:connections.main.tls.ca:must be a secret reference')), p.join('\n'));
  assert.ok(!p.join('\n').includes('MIIB'), 'the value is not echoed');
});

test('tls: combinations that would not do what they say are refused at load', () => {
  const refused = (tls: string, path: string, msg: RegExp) => {
    const p = problemsOf(tls);
    assert.ok(p.some((s) => s.includes(`connections.main.tls.${path}:`) && msg.test(s)), `${tls}\n${p.join('\n')}`);
  };
  refused('{ mode: verify-ca }', 'ca', /verify-ca needs a ca/);
  refused('{ mode: require, ca: env:CA }', 'ca', /does not check the certificate/);
  refused('{ mode: verify-full, cert: env:C }', 'key', /cert and key go together/);
  refused('{ mode: disable, ca: env:CA }', 'ca', /not used with mode: disable/);
  refused('{ mode: prefer }', 'mode', /./);
  refused('{ mode: verify-full, sslmode: require }', 'sslmode', /unknown key/);
});

test('policy check looks at the tls: block\'s file: secrets too', () => {
  writeFileSync(join(dir, 'db.key'), 'not really a key\n');
  chmodSync(join(dir, 'db.key'), 0o666);
  const c = load('{ mode: verify-full, ca: env:CA, cert: env:CERT, key: file:db.key }');
  const p = secretFileProblems(c, () => 1);
  assert.ok(p.some((x) => x.path === 'connections.main.tls.key' && x.severity === 'error' && /writable by every user/.test(x.message)), JSON.stringify(p));
});
