/**
 * Catalog facts that change between Warden's check of a masked write and the statement
 * (catalog-lock.ts), end to end against a real PostgreSQL. Row 1's email starts with 'c', row 2's
 * with 'd'; a CHECK or trigger function over the masked email added after the check would fail
 * exactly for row 1, a bit per statement.
 * - What an agent may not do at all: replace or alter a function (the parser refuses the DDL), so
 *   a trigger function changes only from outside Warden.
 * - What it may: add a CHECK through another connection of the same database (or another
 *   replica), whose catalog cache the first connection does not share: the next masked UPDATE on
 *   the first is refused, nothing committed, never run with the CHECK it was not judged with.
 * - A trigger function replaced by an admin while the masked UPDATE waits for the catalog lock
 *   (parked deterministically: a side session holds the lock exclusively): refused when it runs.
 * - DDL through Warden takes the lock exclusively: it waits for a side session's shared hold.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, ranOk, startSqlWarden, type SqlResult, type SqlWarden } from '../support/sql-warden.js';
import { CATALOG_LOCK } from '../../tools/postgres/catalog-lock.js';

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const TABLES = ['r', 's'];
const NAMES = [...TABLES, 'v'].map((t) => `public.${t}`).join(', ');

const CONFIG = `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: agent, groups: [analysts] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 10s }
  db2: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 10s }
policies: [policies/*.yaml]
`;
const POLICY = `
masking:
  columns:
${TABLES.map((t) => `    - { column: public.${t}.email, with: redact }`).join('\n')}
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db, db2]
    sql:
      statements: [select, update, alter, create, drop]
      read: [${NAMES}]
      write: [${NAMES}]
      functions: [public.ddl_fn]
`;
const STAMP = 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
const LEAKY = `BEGIN IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`;

let db: TestDatabase;
let w: SqlWarden;
/** A second Warden on the same database (a replica): its catalog cache is its own. */
let replica: SqlWarden;
const noLeak = noLeakOf([CAROL, DAVE]);
const on = (connection: string, sql: string): Promise<SqlResult> => w.w.call('query_database', { connection, sql });

/** Poll pg_locks until a session waits for (not holds) the catalog lock in `mode`; a condition, not a clock. */
async function waitForLockWaiter(mode: 'ShareLock' | 'ExclusiveLock'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const r = await db.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = $1 AND classid = $2::int::oid AND objid = $3::int::oid AND objsubid = 2`,
      [mode, CATALOG_LOCK[0], CATALOG_LOCK[1]],
    );
    if (r.rowCount) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`no session waited for the catalog lock in ${mode}`);
}

before(async () => {
  db = await createTestDatabase({ prefix: 'e2erace' });
  await db.query(`
    CREATE TABLE public.r (id int PRIMARY KEY, email text, note text);
    CREATE TABLE public.s (id int PRIMARY KEY, email text, note text, updated_at timestamptz NOT NULL DEFAULT '2000-01-01');
    CREATE FUNCTION public.stamp_f() RETURNS trigger LANGUAGE plpgsql AS $b$${STAMP}$b$;
    CREATE TRIGGER s_t BEFORE UPDATE ON public.s FOR EACH ROW EXECUTE FUNCTION public.stamp_f();
    CREATE FUNCTION public.ddl_fn() RETURNS int LANGUAGE plpgsql AS $b$BEGIN
      ALTER TABLE public.r ADD CONSTRAINT r_fn CHECK (note <> 'fn' OR email >= 'd') NOT VALID; RETURN 1; END$b$;`);
  await db.query('CREATE VIEW public.v AS SELECT id, note FROM public.r');
  await db.query(`ALTER VIEW public.v OWNER TO ${db.role}; GRANT CREATE ON SCHEMA public TO ${db.role}`);
  for (const t of TABLES) await db.query(`INSERT INTO public.${t} (id, email, note) VALUES (1, '${CAROL}', 'a'), (2, '${DAVE}', 'a')`);
  await ownTables(db, TABLES);
  [w, replica] = await Promise.all([startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG), startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG)]);
});

after(async () => {
  await w?.close();
  await replica?.close();
  await db?.drop();
});

const notes = async (t: string) => (await db.query(`SELECT note FROM public.${t} ORDER BY id`)).rows.map((x) => (x as { note: string }).note);

describe('catalog facts that change between the check and the statement', () => {
  test('an agent cannot replace or alter a function through Warden (the trigger function changes only from outside)', async () => {
    for (const sql of [
      `CREATE OR REPLACE FUNCTION public.stamp_f() RETURNS trigger LANGUAGE plpgsql AS $b$${LEAKY}$b$`,
      'ALTER FUNCTION public.stamp_f() SECURITY DEFINER',
      'DROP FUNCTION public.stamp_f()',
      `DO $$ BEGIN EXECUTE 'CREATE OR REPLACE FUNCTION public.stamp_f() RETURNS trigger LANGUAGE sql AS ''SELECT NULL'''; END $$`,
    ]) {
      const r = await on('db', sql);
      assert.equal(r.isError, true, sql);
      assert.match(r.text, /^WARDEN_PARSE: /, sql);
    }
  });

  test('a CHECK added through another replica is seen by the next masked UPDATE of a Warden whose cache predates it', async () => {
    // A write's checks fill the connection's catalog cache; one refused after them (a qualified
    // column the table lacks, the last check) leaves it filled: nothing ran to forget it.
    const warm = await on('db', `UPDATE public.r SET note = 'warm' WHERE r.nosuch = 2`);
    assert.match(warm.text, /^WARDEN_\w+: .*nosuch/, warm.text);
    const alter = `ALTER TABLE public.r ADD CONSTRAINT r_leak CHECK (note <> 'probe' OR email >= 'd') NOT VALID`;
    ranOk(await replica.w.call('query_database', { connection: 'db', sql: alter }), 'the CHECK, on the replica');
    // Row 1 would fail the CHECK (carol < 'd'), row 2 would not: both must be refused alike, before anything commits.
    // The first is refused in its transaction (the facts re-read differ), the second by the CHECK judged anew.
    for (const [id, why] of [[1, /catalog changed/], [2, /constraint r_leak of public\.r/]] as const) {
      const sql = `UPDATE public.r SET note = 'probe' WHERE id = ${id}`;
      const r = await on('db', sql);
      noLeak(r, sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_DENIED: /, sql);
      assert.match(r.text, why, sql);
    }
    assert.deepEqual(await notes('r'), ['a', 'a']);
  });

  test('a trigger function replaced while a masked UPDATE waits for the catalog lock: refused, nothing committed', async () => {
    ranOk(await on('db', `UPDATE public.s SET note = 'warm' WHERE id = 2`), 'warming the cache');
    const side: pg.PoolClient = await db.admin().connect();
    try {
      await side.query('SELECT pg_advisory_lock($1, $2)', [...CATALOG_LOCK]);
      const parked = on('db', `UPDATE public.s SET note = 'probe' WHERE id = 1`);
      await waitForLockWaiter('ShareLock');
      await side.query(`CREATE OR REPLACE FUNCTION public.stamp_f() RETURNS trigger LANGUAGE plpgsql AS $b$${LEAKY}$b$`);
      await side.query('SELECT pg_advisory_unlock($1, $2)', [...CATALOG_LOCK]);
      const r = await parked;
      noLeak(r, 'the parked UPDATE');
      assert.equal(r.isError, true, r.text.slice(0, 300));
      assert.match(r.text, /^WARDEN_DENIED: .*catalog changed/, r.text);
    } finally {
      await side.query(`CREATE OR REPLACE FUNCTION public.stamp_f() RETURNS trigger LANGUAGE plpgsql AS $b$${STAMP}$b$`);
      side.release();
    }
    assert.deepEqual(await notes('s'), ['a', 'warm']);
    // Asked again, it is judged with the function as it is now.
    ranOk(await on('db', `UPDATE public.s SET note = 'again' WHERE id = 1`), 'the UPDATE asked again');
  });

  test('a view redefined through another connection is masked on the next read of the first (a write forgets every connection\'s catalog answers)', async () => {
    const before = await on('db', 'SELECT note FROM public.v ORDER BY id');
    ranOk(before, 'the read that caches the view');
    ranOk(await on('db2', 'CREATE OR REPLACE VIEW public.v AS SELECT id, email AS note FROM public.r'), 'the view redefined on db2');
    const after = await on('db', 'SELECT note FROM public.v ORDER BY id');
    noLeak(after, 'the read after');
    ranOk(after, 'the read after');
    ranOk(await on('db2', 'CREATE OR REPLACE VIEW public.v AS SELECT id, note FROM public.r'), 'the view as it was');
  });

  test('a read calling a function that runs DDL changes no catalog: it runs read-only', async () => {
    const r = await on('db', 'SELECT public.ddl_fn()');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /read-only transaction/, r.text);
    assert.equal((await db.query(`SELECT 1 FROM pg_constraint WHERE conname = 'r_fn'`)).rowCount, 0);
  });

  test('DDL through Warden takes the catalog lock exclusively: it waits for a masked write in flight elsewhere', async () => {
    const side: pg.PoolClient = await db.admin().connect();
    let done: Promise<SqlResult> | undefined;
    try {
      await side.query('SELECT pg_advisory_lock_shared($1, $2)', [...CATALOG_LOCK]);
      done = on('db2', 'ALTER TABLE public.s ADD COLUMN extra int');
      await waitForLockWaiter('ExclusiveLock');
    } finally {
      await side.query('SELECT pg_advisory_unlock_shared($1, $2)', [...CATALOG_LOCK]);
      side.release();
    }
    ranOk(await done!, 'the ALTER, once the lock was free');
  });
});
