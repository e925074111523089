/**
 * Four writes under masks that the write-oracle checks once refused, each proved safe and run,
 * each beside the attack its check exists for (a real channel where the mask is off, refused
 * under it), end to end against a real PostgreSQL:
 * 1. `INSERT ... ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note` beside a masked email in
 *    one index: EXCLUDED.note is what the INSERT's VALUES give note, sized as that literal or
 *    parameter (sized-writes.ts); a long one, a computed one, an INSERT ... SELECT, a table whose
 *    BEFORE INSERT trigger may change EXCLUDED stay refused.
 * 2. A foreign key's SET NULL (ON DELETE, ON UPDATE) into a child with an index over (key, email):
 *    NULL is sized as `SET k = NULL` is; ON UPDATE CASCADE carrying a long new key, SET DEFAULT,
 *    stay refused.
 * 3. `UPDATE parent SET id = id`: PostgreSQL's RI triggers run no ON UPDATE action when the
 *    referenced key is unchanged (shown here as the admin: the child's trigger would raise); a key
 *    a BEFORE trigger changes (blind, or not read and run unjudged on a table with no mask), or
 *    `id = id + 0`, stays refused.
 * 4. `IF NEW IS DISTINCT FROM OLD` in a trigger body, judged as the whole-row WHEN clause: runs
 *    when the UPDATE writes no masked column; one writing the email (told whether it changed)
 *    stays refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const CAROL = 'carol.anne.lewis@example.com';
const DAVE = 'dave@example.com';
/** Incompressible text (pglz finds no repeats to shrink), cut to the length probed. */
const NOISE = randomBytes(3000).toString('base64url');

const MASKED = ['x_up', 'x_upt', 'd_ch', 'd_cas', 'd_def', 'i_ch', 'i_ch2', 'i_ch3', 'b_tr', 'b_col', 'b_probe'];
const TABLES = [...MASKED, 'd_par', 'd_par2', 'd_par3', 'i_par', 'i_par2', 'i_par3'];
const GRANT = writersPolicy(TABLES);
const MASK = emailRedactions(MASKED);

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emwu' });
  await db.query(`
    -- 1. A plain index over the masked email and the note an upsert writes.
    CREATE TABLE x_up (id int PRIMARY KEY, email text, note text);
    CREATE INDEX x_up_en ON x_up (email, note);
    -- ... and one whose BEFORE INSERT trigger grows the proposed note (EXCLUDED shows it).
    CREATE TABLE x_upt (id int PRIMARY KEY, email text, note text, n int NOT NULL DEFAULT 0);
    CREATE INDEX x_upt_en ON x_upt (email, note);
    CREATE FUNCTION x_upt_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN NEW.note := substr('${NOISE}', 1, NEW.n); RETURN NEW; END $b$;
    CREATE TRIGGER x_upt_t BEFORE INSERT ON x_upt FOR EACH ROW EXECUTE FUNCTION x_upt_f();
    -- 2. SET NULL into a child whose index holds its text key beside the masked email.
    CREATE TABLE d_par (k text PRIMARY KEY);
    CREATE TABLE d_ch (id int PRIMARY KEY, k text REFERENCES d_par ON DELETE SET NULL ON UPDATE SET NULL, email text);
    CREATE INDEX d_ch_ke ON d_ch (k, email);
    -- ... CASCADE carries the parent's new key into such an index.
    CREATE TABLE d_par2 (k text PRIMARY KEY);
    CREATE TABLE d_cas (id int PRIMARY KEY, k text REFERENCES d_par2 ON UPDATE CASCADE, email text);
    CREATE INDEX d_cas_ke ON d_cas (k, email);
    -- ... SET DEFAULT writes the column's default, computed.
    CREATE TABLE d_par3 (k text PRIMARY KEY);
    CREATE TABLE d_def (id int PRIMARY KEY, k text DEFAULT 'a' REFERENCES d_par3 ON DELETE SET DEFAULT, email text);
    CREATE INDEX d_def_ke ON d_def (k, email);
    -- 3. A child whose UPDATE trigger raises whenever the cascade reaches it.
    CREATE FUNCTION cascaded() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN IF NEW.email IS NOT NULL THEN RAISE EXCEPTION 'cascaded'; END IF; RETURN NEW; END $b$;
    CREATE TABLE i_par (id int PRIMARY KEY, note text);
    CREATE TABLE i_ch (id int PRIMARY KEY, pid int REFERENCES i_par ON UPDATE CASCADE, email text);
    CREATE TRIGGER i_ch_t BEFORE UPDATE ON i_ch FOR EACH ROW EXECUTE FUNCTION cascaded();
    -- ... a parent whose blind BEFORE trigger moves the key the statement sets to itself.
    CREATE TABLE i_par2 (id int PRIMARY KEY);
    CREATE FUNCTION i_par2_f() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN NEW.id := NEW.id + 100; RETURN NEW; END $b$;
    CREATE TRIGGER i_par2_t BEFORE UPDATE ON i_par2 FOR EACH ROW EXECUTE FUNCTION i_par2_f();
    CREATE TABLE i_ch2 (id int PRIMARY KEY, pid int REFERENCES i_par2 ON UPDATE CASCADE, email text);
    CREATE TRIGGER i_ch2_t BEFORE UPDATE ON i_ch2 FOR EACH ROW EXECUTE FUNCTION cascaded();
    -- ... and one whose trigger is not read as blind (a SELECT), run unjudged on a table with no mask.
    CREATE TABLE i_par3 (id int PRIMARY KEY);
    CREATE FUNCTION i_par3_f() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN SELECT NEW.id + 100 INTO NEW.id; RETURN NEW; END $b$;
    CREATE TRIGGER i_par3_t BEFORE UPDATE ON i_par3 FOR EACH ROW EXECUTE FUNCTION i_par3_f();
    CREATE TABLE i_ch3 (id int PRIMARY KEY, pid int REFERENCES i_par3 ON UPDATE CASCADE, email text);
    CREATE TRIGGER i_ch3_t BEFORE UPDATE ON i_ch3 FOR EACH ROW EXECUTE FUNCTION cascaded();
    -- 4. Whole-row comparisons in trigger bodies.
    CREATE TABLE b_tr (id int PRIMARY KEY, email text, note text, updated_at timestamptz NOT NULL DEFAULT '2000-01-01');
    CREATE FUNCTION b_tr_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN IF NEW IS DISTINCT FROM OLD THEN NEW.updated_at := now(); END IF; RETURN NEW; END $b$;
    CREATE TRIGGER b_tr_t BEFORE UPDATE ON b_tr FOR EACH ROW EXECUTE FUNCTION b_tr_f();
    CREATE TABLE b_col (id int PRIMARY KEY, email text, note text, updated_at timestamptz NOT NULL DEFAULT '2000-01-01');
    CREATE FUNCTION b_col_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN IF NEW.note IS DISTINCT FROM OLD.note THEN NEW.updated_at := now(); END IF; RETURN NEW; END $b$;
    CREATE TRIGGER b_col_t BEFORE UPDATE ON b_col FOR EACH ROW EXECUTE FUNCTION b_col_f();
    CREATE TABLE b_probe (id int PRIMARY KEY, email text, note text);
    CREATE FUNCTION b_probe_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN IF OLD IS DISTINCT FROM NEW THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END $b$;
    CREATE TRIGGER b_probe_t BEFORE UPDATE ON b_probe FOR EACH ROW EXECUTE FUNCTION b_probe_f();
  `);
  for (const t of ['x_up', 'x_upt', 'b_tr', 'b_col', 'b_probe']) await db.query(`INSERT INTO ${t} (id, email) VALUES (1, '${CAROL}'), (2, '${DAVE}'), (3, '${DAVE}')`);
  for (const t of ['d_par', 'd_par2', 'd_par3']) await db.query(`INSERT INTO ${t} VALUES ('a'), ('b'), ('c'), ('e')`);
  for (const t of ['d_ch', 'd_cas', 'd_def']) await db.query(`INSERT INTO ${t} VALUES (1, 'a', '${CAROL}'), (2, 'b', '${DAVE}'), (3, 'c', '${DAVE}')`);
  await db.query(`INSERT INTO i_par VALUES (1, 'x'), (2, 'x'), (3, 'x'); INSERT INTO i_par2 VALUES (1), (2), (3); INSERT INTO i_par3 VALUES (1), (2), (3)`);
  for (const t of ['i_ch', 'i_ch2', 'i_ch3']) await db.query(`INSERT INTO ${t} VALUES (1, 1, '${CAROL}'), (2, 2, '${DAVE}'), (3, 3, '${DAVE}')`);
  await ownTables(db, TABLES);
  for (const f of ['x_upt_f', 'cascaded', 'i_par2_f', 'i_par3_f', 'b_tr_f', 'b_col_f', 'b_probe_f']) await db.query(`ALTER FUNCTION public.${f}() OWNER TO ${db.role}`);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;
const call = (w: SqlWarden, sql: string, params: unknown[] = []) => w.w.call('query_database', { connection: 'db', sql, params });
const answer = (r: { isError: boolean }): string => (r.isError ? 'error' : 'ran');

/** Each of `probes` refused under the mask by the check `by`, leaking nothing: the ones that were not (empty when all were). */
async function unrefused(probes: readonly (readonly [string, unknown[]])[], by: RegExp): Promise<string[]> {
  const ran: string[] = [];
  for (const [sql, params] of probes) {
    const r = await call(masked, sql, params);
    noLeak(r, sql);
    if (!r.isError || !by.test(r.text)) ran.push(`${sql.slice(0, 90)}: ${r.text.slice(0, 200)}`);
    else assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
  }
  return ran;
}

/** The first length n (from 2500) at which `sql(n)` fails on row 1 and runs on row 2, found as the admin in transactions rolled back. */
async function tellingLength(sql: (n: number, id: number) => string): Promise<number> {
  const fits = async (id: number, n: number): Promise<boolean> => {
    try {
      await db.query(`BEGIN; ${sql(n, id)}; ROLLBACK`);
      return true;
    } catch {
      await db.query('ROLLBACK');
      return false;
    }
  };
  let n = 2500;
  while (n < 2900 && !(!(await fits(1, n)) && (await fits(2, n)))) n++;
  assert.ok(n < 2900, 'no length told the two emails apart');
  return n;
}

describe('1. an upsert writing EXCLUDED.note beside a masked column in one index', () => {
  const upsert = (id: number, value: string) => `INSERT INTO public.x_up (id, note) VALUES (${id}, ${value}) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note`;

  test('the channel is real: without the mask, a long EXCLUDED.note fails on one row only', async () => {
    const n = await tellingLength((len, id) => upsert(id, `'${NOISE.slice(0, len)}'`));
    assert.deepEqual([answer(await open.query(upsert(1, `'${NOISE.slice(0, n)}'`))), answer(await open.query(upsert(2, `'${NOISE.slice(0, n)}'`)))], ['error', 'ran']);
    await db.query('UPDATE x_up SET note = NULL');
  });

  test('under the mask, EXCLUDED of a short literal or parameter runs, one row or several', async () => {
    for (const [sql, params] of [
      [upsert(3, "'short'"), []],
      [upsert(3, `'${NOISE.slice(0, 256)}'`), []],
      ['INSERT INTO public.x_up (id, note) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note', [3, 'a parameter']],
      ["INSERT INTO public.x_up (id, note) VALUES (2, 'two'), (3, $1) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note", ['three']],
    ] as [string, unknown[]][]) ok(await call(masked, sql, params), sql);
    assert.deepEqual((await db.query('SELECT id, note FROM x_up WHERE id IN (2, 3) ORDER BY id')).rows, [{ id: 2, note: 'two' }, { id: 3, note: 'three' }]);
  });

  test('under the mask, a long, computed or trigger-changed EXCLUDED value is refused before it runs', async () => {
    const by = /^WARDEN_DENIED: masked column public\.x_upt?\.email would be sized by index x_upt?_en of public\.x_upt?\b/;
    const ran = await unrefused([
      [upsert(3, `'${NOISE.slice(0, 2700)}'`), []],
      [upsert(3, `'${NOISE.slice(0, 257)}'`), []],
      ['INSERT INTO public.x_up (id, note) VALUES (3, $1) ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note', [NOISE.slice(0, 2700)]],
      // Several rows: each row's update writes its own value; the longest counts.
      [`INSERT INTO public.x_up (id, note) VALUES (2, 'two'), (3, '${NOISE.slice(0, 2700)}') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note`, []],
      [upsert(3, "repeat('x', 2700)"), []],
      [upsert(3, "'ab'::char(3000)"), []],
      [upsert(3, 'DEFAULT'), []],
      ["INSERT INTO public.x_up (id, note) SELECT 3, 'x' ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note", []],
      ["INSERT INTO public.x_up (id, note) VALUES (3, 'x') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note || 'y'", []],
      // EXCLUDED shows what a BEFORE INSERT trigger made of the row: here a note as long as n asks.
      ["INSERT INTO public.x_upt (id, n, note) VALUES (3, 2700, 'x') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note", []],
    ], by);
    assert.deepEqual(ran, []);
  });

  test('the trigger-changed EXCLUDED is a real channel without the mask', async () => {
    const sql = (n: number, id: number) => `INSERT INTO public.x_upt (id, n, note) VALUES (${id}, ${n}, 'x') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note`;
    const n = await tellingLength(sql);
    assert.deepEqual([answer(await open.query(sql(n, 1))), answer(await open.query(sql(n, 2)))], ['error', 'ran']);
  });
});

describe('2. a foreign key SET NULL into a child indexing its key beside a masked column', () => {
  test('under the mask, ON DELETE SET NULL and ON UPDATE SET NULL run, and the child keys are NULL', async () => {
    for (const sql of ["DELETE FROM public.d_par WHERE k = 'c'", "UPDATE public.d_par SET k = 'z' WHERE k = 'b'"]) ok(await masked.query(sql), sql);
    assert.deepEqual((await db.query('SELECT id FROM d_ch WHERE k IS NULL ORDER BY id')).rows, [{ id: 2 }, { id: 3 }]);
  });

  test('the channel is real: without the mask, ON UPDATE CASCADE of a long key fails on one row only', async () => {
    const sql = (n: number, id: number) => `UPDATE public.d_par2 SET k = '${NOISE.slice(0, n)}' WHERE k = '${id === 1 ? 'a' : 'b'}'`;
    const n = await tellingLength(sql);
    assert.deepEqual([answer(await open.query(sql(n, 1))), answer(await open.query(sql(n, 2)))], ['error', 'ran']);
    await db.query("UPDATE d_par2 SET k = 'b' WHERE length(k) > 100");
  });

  test('under the mask, CASCADE carrying a new key and SET DEFAULT stay refused', async () => {
    const ran = await unrefused([
      [`UPDATE public.d_par2 SET k = '${NOISE.slice(0, 2700)}' WHERE k = 'c'`, []],
      ["UPDATE public.d_par2 SET k = 'short' WHERE k = 'c'", []],
      ["DELETE FROM public.d_par3 WHERE k = 'c'", []],
    ], /^WARDEN_DENIED: masked column public\.d_(cas|def)\.email would be sized by index d_(cas|def)_ke of public\.d_(cas|def)\b.*reached through foreign key d_(cas|def)_k_fkey of public\.d_(cas|def) ON (UPDATE CASCADE|DELETE SET DEFAULT)/);
    assert.deepEqual(ran, []);
  });
});

describe('3. an UPDATE setting a referenced key to itself', () => {
  test('PostgreSQL runs no ON UPDATE action when the key is unchanged (the child trigger would raise), and runs it when it changes', async () => {
    await db.query('UPDATE i_par SET id = id WHERE id = 1');
    await db.query("UPDATE i_par SET id = id, note = 'y' WHERE id = 1");
    await assert.rejects(db.query('UPDATE i_par SET id = id + 100 WHERE id = 1'), /cascaded/);
    // A BEFORE trigger that moves the key sets the action off, though the statement says id = id.
    await assert.rejects(db.query('UPDATE i_par2 SET id = id WHERE id = 1'), /cascaded/);
    await assert.rejects(db.query('UPDATE i_par3 SET id = id WHERE id = 1'), /cascaded/);
  });

  test('under the mask, SET id = id runs', async () => {
    for (const sql of ['UPDATE public.i_par SET id = id WHERE id = 2', "UPDATE public.i_par p SET id = p.id, note = 'z' WHERE id = 2"]) ok(await masked.query(sql), sql);
    assert.equal((await db.query("SELECT 1 FROM i_par WHERE id = 2 AND note = 'z'")).rowCount, 1);
  });

  test('under the mask, a key that changes or may change stays refused', async () => {
    const ran = await unrefused([
      ['UPDATE public.i_par SET id = id + 100 WHERE id = 2', []],
      ['UPDATE public.i_par SET id = id + 0 WHERE id = 2', []],
      ['UPDATE public.i_par2 SET id = id WHERE id = 2', []],
      ['UPDATE public.i_par3 SET id = id WHERE id = 2', []],
    ], /^WARDEN_DENIED: masked column public\.i_ch[23]?\.email would be read by trigger i_ch[23]?_t of public\.i_ch[23]?\b.*reached through foreign key i_ch[23]?_pid_fkey/);
    assert.deepEqual(ran, []);
  });
});

describe('4. IF NEW IS DISTINCT FROM OLD in a trigger body', () => {
  test('the channel is real: without the mask, writing the email tells whether it changed', async () => {
    const sql = (id: number) => `UPDATE public.b_probe SET email = '${CAROL}' WHERE id = ${id}`;
    assert.deepEqual([answer(await open.query(sql(1))), answer(await open.query(sql(2)))], ['ran', 'error']);
  });

  test('under the mask, an UPDATE writing no masked column runs, the stamp set when the row changes', async () => {
    for (const sql of ["UPDATE public.b_tr SET note = 'y' WHERE id = 3", "UPDATE public.b_col SET note = 'y' WHERE id = 3", "UPDATE public.b_probe SET note = note WHERE id = 3"]) {
      ok(await masked.query(sql), sql);
    }
    assert.equal((await db.query("SELECT 1 FROM b_tr WHERE id = 3 AND updated_at > '2000-01-01'")).rowCount, 1);
    assert.equal((await db.query("SELECT 1 FROM b_col WHERE id = 3 AND updated_at > '2000-01-01'")).rowCount, 1);
  });

  test('under the mask, a statement writing the masked column, or an upsert stays refused', async () => {
    const ran = await unrefused([
      [`UPDATE public.b_probe SET email = '${CAROL}' WHERE id = 3`, []],
      [`UPDATE public.b_tr SET email = '${CAROL}', note = 'y' WHERE id = 3`, []],
      [`INSERT INTO public.b_probe (id, note) VALUES (3, 'x') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note`, []],
    ], /^WARDEN_DENIED: masked column public\.b_\w+\.email would be read by trigger b_\w+_t of public\.b_\w+\b.*compares the whole rows OLD and NEW/);
    assert.deepEqual(ran, []);
  });
});
