/**
 * Every call starts from a clean session. Reads run on pooled read-only sessions; a read that
 * changes its session (set_config(..., false), SET, an advisory lock, LISTEN) left that state to
 * the next call on the session, whoever made it: a search_path, standard_conforming_strings or
 * default_transaction_read_only of the caller's choosing (so the statement the policy saw is
 * not the one the server reads, and reads run writable), no statement_timeout, or a masked value
 * stored in a setting that SHOW then returned unmasked. A real `warden serve` with one pooled
 * session (pool_size: 1, so the next call gets the same session) under a grant without a `sql:`
 * block, which allows every function.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig, startSqlWarden, type SqlWarden } from '../../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
let db: TestDatabase;
let sw: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'session_reset' });
  await db.query(`CREATE TABLE public.users (id int, email text); INSERT INTO public.users VALUES (1, '${SECRET}'); GRANT SELECT ON public.users TO ${db.role}`);
  const config = sqlConfig().replace('statement_timeout: 3s }', 'statement_timeout: 3s, pool_size: 1 }');
  assert.match(config, /pool_size: 1/);
  sw = await startSqlWarden(db, { 'p.yaml': `${ANALYSTS_READ_ALL}masking:\n  columns: [{ column: public.users.email, with: redact }]\n` }, config);
});

after(async () => {
  await sw?.close();
  await db?.drop();
});

/** The value SHOW gives for `name` on the next call. */
async function shown(name: string): Promise<string> {
  const r = await sw.query(`SHOW ${name}`);
  assert.equal(r.isError, false, r.text);
  return (r.structured as { rows: string[][] }).rows[0]![0]!;
}

test('settings a read changes with set_config do not reach the next call', async () => {
  const before = new Map<string, string>();
  const changes: [string, string][] = [
    ['search_path', 'attacker, public'],
    ['standard_conforming_strings', 'off'],
    ['default_transaction_read_only', 'off'],
    ['statement_timeout', '0'],
    ['application_name', 'not-warden'],
  ];
  for (const [name] of changes) before.set(name, await shown(name));
  assert.equal(before.get('default_transaction_read_only'), 'on');
  for (const [name, value] of changes) {
    const r = await sw.query(`SELECT set_config('${name}', '${value}', false) AS v`);
    assert.equal(r.isError, false, r.text);
    assert.equal(await shown(name), before.get(name), `${name} is back to the session's start`);
  }
});

test('a masked value stored in a setting by a read is not there for the next call to show', async () => {
  const r = await sw.query("SELECT count(*) AS n FROM public.users WHERE set_config('application_name', email, false) <> ''");
  assert.equal(r.isError, false, r.text);
  const name = await shown('application_name');
  assert.notEqual(name, SECRET);
  assert.ok(!name.includes('alice'), name);
});

test('session-level advisory locks and LISTEN do not outlive the call', async () => {
  const r = await sw.query('SELECT pg_advisory_lock(4242) AS locked');
  assert.equal(r.isError, false, r.text);
  const l = await sw.query('LISTEN warden_test_channel');
  assert.equal(l.isError, false, l.text);
  // The reset runs once the answer is sent; it is done before the session serves again.
  await sw.query('SELECT 1 AS one');
  const locks = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.datname = $1`, [db.dbName]);
  assert.equal(locks.rows[0]!.n, 0, 'no advisory lock is held');
  const listening = await sw.query('SELECT count(*) AS n FROM pg_listening_channels()');
  assert.equal((listening.structured as { rows: unknown[][] }).rows[0]![0], '0');
});
