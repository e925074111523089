/**
 * The TLS files a PostgreSQL transcript store URL names (`?sslrootcert=`, `?sslcert=`, `?sslkey=`)
 * are read by pg itself, so they get the `file:` secrets' trust check (store-tls-files.ts): one
 * another user may replace (a root certificate of their own puts their server between Warden and
 * the store), a FIFO (startup would hang in pg's synchronous read) or a missing file is refused
 * with WARDEN_CONFIG before any connection, naming the parameter and never the URL's password; a
 * client key other users may read is a warning. `warden policy check` says the same of a URL
 * written in warden.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeTlsFileProblems } from '../../src/config/store-tls-files.js';
import { secretFileProblems } from '../../src/config/secret-files.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { startRuntime } from '../../src/server/runtime.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-store-tls-'));
chmodSync(dir, 0o700);
const file = (name: string, mode: number): string => {
  const p = join(dir, name);
  writeFileSync(p, '-----BEGIN CERTIFICATE-----\n', { mode });
  chmodSync(p, mode);
  return p;
};
const url = (params: string): string => `postgres://warden:pw-s3cr3t@127.0.0.1:1/store?sslmode=verify-full&${params}`;

test('a TLS file of the store URL that every user may write, that is not a regular file or that is absent is refused; a readable client key is a warning', () => {
  const ca = file('ca-open.pem', 0o666);
  const fifo = join(dir, 'ca.fifo');
  execFileSync('mkfifo', [fifo]);
  const missing = join(dir, 'absent.pem');
  const good = file('ca.pem', 0o644);
  const key = file('client-open.key', 0o644);
  const p = storeTlsFileProblems(url(`sslrootcert=${ca}&sslcert=${fifo}&sslkey=${missing}`));
  assert.equal(p.errors.length, 3, p.errors.join('\n'));
  assert.match(p.errors[0]!, new RegExp(`the sslrootcert file ${ca} is refused: writable by every user`));
  assert.match(p.errors[1]!, new RegExp(`the sslcert file ${fifo} is not a regular file`));
  assert.match(p.errors[2]!, new RegExp(`the sslkey file ${missing} cannot be found`));
  assert.ok(!p.errors.join('').includes('pw-s3cr3t'));
  const ok = storeTlsFileProblems(url(`sslrootcert=${good}&sslkey=${key}`));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.warnings.length, 1);
  assert.match(ok.warnings[0]!, /the sslkey file .*client-open\.key is readable by other users/);
  assert.deepEqual(storeTlsFileProblems(url(`sslrootcert=${good}`)), { errors: [], warnings: [] });
  assert.deepEqual(storeTlsFileProblems('postgres://warden@127.0.0.1:1/store'), { errors: [], warnings: [] });
});

test('a TLS file in a folder other users may write is refused (they could put their own at its name)', () => {
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const ca = join(open, 'ca.pem');
  writeFileSync(ca, 'x', { mode: 0o600 });
  const p = storeTlsFileProblems(url(`sslrootcert=${ca}`));
  assert.equal(p.errors.length, 1);
  assert.match(p.errors[0]!, /is refused: its folder .* is writable by every user/);
});

test('serve refuses the store before connecting, and policy check says so of a URL in warden.yaml', async (t) => {
  const ca = file('ca-serve.pem', 0o666);
  process.env.WARDEN_TLS_FILES_STORE_URL = url(`sslrootcert=${ca}`);
  t.after(() => delete process.env.WARDEN_TLS_FILES_STORE_URL);
  const config = (store: string) => `transcripts: { store: '${store}' }\nconnections: {}\npolicies: [policies/*.yaml]\n`;
  const w = writeWardenDir(config('env:WARDEN_TLS_FILES_STORE_URL'), { 'p.yaml': 'rules: []\n' });
  t.after(w.cleanup);
  await assert.rejects(startRuntime(w.configPath, families), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'WARDEN_CONFIG', e.message);
    assert.match(e.message, /the sslrootcert file .* is refused: writable by every user/);
    assert.ok(!e.message.includes('pw-s3cr3t'));
    return true;
  });
  const literal = `postgres://warden@127.0.0.1:1/store?sslmode=verify-full&sslrootcert=${ca}`;
  const w2 = writeWardenDir(config(literal), { 'p.yaml': 'rules: []\n' });
  t.after(w2.cleanup);
  const problems = secretFileProblems(loadServerConfig(w2.configPath, families), () => 1);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]!.severity, 'error');
  assert.equal(problems[0]!.path, 'transcripts.store');
  assert.match(problems[0]!.message, /sslrootcert file .* writable by every user.*the server refuses it/);
});
