/**
 * Red-team: a query table rebuilt with another definition under its own name. Verify compared
 * tables by name only, so whoever can write the file (not the key) could rebuild `calls` without
 * its primary key and add a second row for a recorded call (same id and seq, so every orphan
 * check finds its record) in another session, with made-up arguments: `warden transcripts show`
 * listed a call that session never made, and a signed verify passed. A column given another
 * type (affinity) hid a session from `list --subject` when the subject reads as a number (an
 * OIDC `sub` often does). Real store file, real `warden` CLI, signing key configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { keyPem, oneSession, twoSessions } from '../recorder/rollback-fixture.js';
import { session } from '../recorder/fixtures.js';
import { WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';

type Run = { status: number | null; stdout: string; stderr: string };

/** A warden folder whose config signs the SQLite store with a fresh key, and the real CLI on it. */
function signedDir(t: { after(fn: () => void): void }): { dbPath: string; pem: string; warden: (...args: string[]) => Run } {
  const pem = keyPem();
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n', {});
  t.after(() => wd.cleanup());
  writeFileSync(join(wd.dir, 'key.pem'), pem, { mode: 0o600 });
  const warden = (...args: string[]): Run =>
    spawnSync(process.execPath, [WARDEN_BIN, 'transcripts', ...args, '--config', wd.configPath], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { dbPath: wd.dbPath, pem, warden };
}

/** Rebuild `table` with the definition `edit` makes of its SQL, keeping its rowids, indexes and name. */
function rebuild(db: Database.Database, table: string, edit: (sql: string) => string): void {
  const sql = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(table) as string;
  const indexes = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).pluck().all(table) as string[];
  const next = edit(sql);
  assert.notEqual(next, sql);
  db.pragma('foreign_keys = OFF');
  db.exec(`${next.replace(new RegExp(`^CREATE TABLE "?${table}"?`), `CREATE TABLE ${table}_x`)};
    INSERT INTO ${table}_x (rowid, ${cols(db, table)}) SELECT rowid, ${cols(db, table)} FROM ${table};
    DROP TABLE ${table}; ALTER TABLE ${table}_x RENAME TO ${table}; ${indexes.join(';\n')};`);
}

function cols(db: Database.Database, table: string): string {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]).join(', ');
}

test('calls rebuilt without its primary key, a recorded call copied into another session with other arguments: verify reports it', async (t) => {
  const { dbPath, pem, warden } = signedDir(t);
  await (await twoSessions(dbPath, pem)).close();
  assert.equal(warden('verify').status, 0, 'the untouched store verifies');
  const evil = new Database(dbPath);
  rebuild(evil, 'calls', (sql) => sql.replace(/\bid(\s+)TEXT PRIMARY KEY/, 'id$1TEXT NOT NULL'));
  // c2 (bob's ssh_run in s2, records 6 and 7) shows up again in alice's s1, running something else.
  evil.exec(`INSERT INTO calls SELECT id, 's1', seq, tool, connection, '{"sql":"DROP TABLE customers"}', 'DROP customers', facts, decision,
      rule_ids, policy_version, started_at, status, error_code, result, masking, duration_ms, ended_at, outcome_seq FROM calls WHERE id = 'c2';
    UPDATE sessions SET call_count = call_count + 1 WHERE id = 's1';`);
  evil.close();
  const shown = warden('show', 's1');
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /ssh_run .* DROP customers/, 'the reviewer reads a call s1 never made');
  assert.match(warden('show', 's1', '--json').stdout, /DROP TABLE customers/);
  const v = warden('verify');
  assert.equal(v.status, 1, `verify must fail: ${v.stdout}`);
  assert.match(v.stderr, /schema differs .*table calls was altered/);
});

test('a query table column given another type (a numeric subject no longer matches --subject): verify reports it', async (t) => {
  const { dbPath, pem, warden } = signedDir(t);
  const store = openSqliteStore(dbPath, { signer: createChainSigner(pem) });
  await store.openSession(session('s0', '110169484474386276334', '2026-01-01T09:00:00.000Z'));
  await store.closeSession('s0', '2026-01-01T09:01:00.000Z');
  await oneSession(store, 's1', 'c1', '2026-01-02');
  await store.close();
  assert.match(warden('list', '--subject', '110169484474386276334').stdout, /s0/);
  const evil = new Database(dbPath);
  // The declaration alone changes (a rebuild would convert the stored text, which the walk compares).
  evil.unsafeMode(true);
  evil.pragma('writable_schema = ON');
  evil.prepare(`UPDATE sqlite_master SET sql = replace(sql, 'subject    TEXT', 'subject    NUMERIC') WHERE name = 'sessions'`).run();
  evil.close();
  assert.match(warden('list', '--subject', '110169484474386276334').stdout, /no sessions/, 'the session is hidden from its subject filter');
  const v = warden('verify');
  assert.equal(v.status, 1, `verify must fail: ${v.stdout}`);
  assert.match(v.stderr, /schema differs .*table sessions was altered/);
});
