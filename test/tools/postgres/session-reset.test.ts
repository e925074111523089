/**
 * Every call starts from a clean session. Reads run on pooled read-only sessions; a read that
 * changes its session (set_config(..., false), SET, an advisory lock, LISTEN) left that state to
 * the next call on the session, whoever made it: a search_path, standard_conforming_strings or
 * default_transaction_read_only of the caller's choosing (so the statement the policy saw is
 * not the one the server reads, and reads run writable), no statement_timeout, or a value kept
 * in a setting for SHOW to return. Real `warden serve`s with one pooled session each (pool_size:
 * 1, so the next call gets the same session) under a grant without a `sql:` block, which allows
 * every function: one without masks, where set_config runs, and one with a mask on
 * public.users.email, where set_config is refused (it would store the masked value in a setting
 * that current_setting or SHOW returns unmasked, in the same statement or the next).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig, startSqlWarden, type SqlWarden } from '../../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
let db: TestDatabase;
let sw: SqlWarden;
let masked: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'session_reset' });
  await db.query(`CREATE TABLE public.users (id int, email text); INSERT INTO public.users VALUES (1, '${SECRET}'); GRANT SELECT ON public.users TO ${db.role}`);
  const config = sqlConfig().replace('statement_timeout: 3s }', 'statement_timeout: 3s, pool_size: 1 }');
  assert.match(config, /pool_size: 1/);
  [sw, masked] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }, config),
    startSqlWarden(db, { 'p.yaml': `${ANALYSTS_READ_ALL}masking:\n  columns: [{ column: public.users.email, with: redact }]\n` }, config),
  ]);
});

after(async () => {
  await Promise.all([sw?.close(), masked?.close()]);
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

test('a value a read stores in a setting from a row is not there for the next call to show', async () => {
  const r = await sw.query("SELECT count(*) AS n FROM public.users WHERE set_config('application_name', email, false) <> ''");
  assert.equal(r.isError, false, r.text);
  const name = await shown('application_name');
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

test('nor can the same statement store a masked value in a setting and read it back (set_config is refused under masks)', async () => {
  const sqls = [
    "SELECT current_setting('application_name') AS s FROM public.users WHERE set_config('application_name', email, false) <> ''",
    "SELECT current_setting('search_path') AS s FROM public.users WHERE set_config('search_path', email, true) <> ''",
    "SELECT count(*) AS n FROM public.users WHERE pg_catalog.set_config('application_name', 'x', false) <> ''",
  ];
  for (const sql of sqls) {
    const r = await masked.query(sql);
    assert.equal(r.isError, true, `${sql}: ${r.text}`);
    assert.match(r.text, /^WARDEN_DENIED: set_config stores a value/, sql);
    assert.ok(!r.text.includes(SECRET), r.text);
  }
});

test('the reset keeps the session: the next call runs on the same backend, not a new connection', async () => {
  const pid = async () => (((await sw.query('SELECT pg_backend_pid() AS pid')).structured as { rows: unknown[][] }).rows[0]![0]);
  const first = await pid();
  const r = await sw.query("SELECT set_config('application_name', 'x', false) AS v");
  assert.equal(r.isError, false, r.text);
  assert.equal(await pid(), first);
});
