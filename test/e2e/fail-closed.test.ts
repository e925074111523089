/**
 * Fail closed: a transcript store that cannot write stops the call (nothing runs), and a bad
 * config or policy file refuses the start with FILE:LINE messages.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { notesFixture } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

const CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: writer, groups: [writers] } }
connections:
  main: { type: postgres, url: env:TEST_DATABASE_URL }
policies: [policies/*.yaml]
`;
const POLICY = `rules:
  - id: notes-write
    effect: allow
    who: { groups: [writers] }
    tool: query_database
    sql: { statements: [insert, select], write: [public.notes], read: [public.notes] }
`;

describe('fail closed', () => {
  const fx = notesFixture('failclosed', CONFIG, POLICY);

  test('a transcript store that cannot write stops the call before it runs', async () => {
    const w = await connectWarden(fx.dir.configPath, { TEST_DATABASE_URL: fx.db.url });
    try {
      const ok = await w.call('query_database', { connection: 'main', sql: "INSERT INTO notes (body) VALUES ('first')" });
      assert.equal(ok.isError, false, ok.text);
      // Another process holds the write lock: the store cannot record the intent.
      const locker = new Database(fx.dir.dbPath);
      locker.exec('BEGIN EXCLUSIVE');
      let refused;
      try {
        refused = await w.call('query_database', { connection: 'main', sql: "INSERT INTO notes (body) VALUES ('second')" });
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      assert.equal(refused.isError, true);
      assert.match(refused.text, /WARDEN_TRANSCRIPT_UNAVAILABLE/);
      const n = await fx.db.query('SELECT count(*)::int AS n FROM notes');
      assert.equal((n.rows[0] as { n: number }).n, 1, 'the refused INSERT never reached the database');
      const again = await w.call('query_database', { connection: 'main', sql: 'SELECT count(*) FROM notes' });
      assert.equal(again.isError, false, 'service resumes when the store is writable again');
    } finally {
      await w.close();
    }
  });

  test('a config error refuses the start and names file, line and key', () => {
    const bad = writeWardenDir(
      `transcripts: { store: sqlite:warden.db }\nconnections:\n  main:\n    type: postgres\n    url: postgres://u:hunter2@localhost/db\npolicies: [policies/*.yaml]\nunknown_key: 1\n`,
      { 'p.yaml': POLICY },
    );
    try {
      const r = spawnSync(process.execPath, [WARDEN_BIN, 'serve', '--config', bad.configPath], { encoding: 'utf8', input: '' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /warden\.yaml:5: connections\.main\.url: must be a secret reference/);
      assert.match(r.stderr, /warden\.yaml:7: unknown_key: unknown key/);
      assert.ok(!r.stderr.includes('hunter2'), 'the inline secret is not echoed');
      assert.equal(r.stdout, '', 'nothing but MCP ever goes to stdout');
    } finally {
      bad.cleanup();
    }
  });

  test('a policy error refuses the start and policy check reports it', () => {
    const bad = writeWardenDir(CONFIG, {
      'p.yaml': `rules:\n  - id: a\n    effect: allow\n    tool: query_database\n  - id: b\n    effect: permit\n    sql: { statements: [select], colour: red }\n`,
    });
    try {
      const r = spawnSync(process.execPath, [WARDEN_BIN, 'serve', '--config', bad.configPath], { encoding: 'utf8', input: '', env: { ...process.env, TEST_DATABASE_URL: fx.db.url } });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /p\.yaml:6: rules\.1\.effect/);
      assert.match(r.stderr, /p\.yaml:7: rules\.1\.sql\.colour: unknown key/);
      const c = spawnSync(process.execPath, [WARDEN_BIN, 'policy', 'check', '--config', bad.configPath, '--json'], { encoding: 'utf8' });
      assert.equal(c.status, 1);
      const doc = JSON.parse(c.stdout) as { ok: boolean; problems: { line: number; path: string }[] };
      assert.equal(doc.ok, false);
      assert.ok(doc.problems.some((p) => p.line === 6 && p.path === 'rules.1.effect'));
    } finally {
      bad.cleanup();
    }
  });
});
