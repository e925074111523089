/**
 * Four precision fixes of the write-oracle checks under masks, each beside the attack its check
 * exists for (a real channel where the mask is off, refused under it), end to end against a real
 * PostgreSQL:
 * 1. `ON DELETE SET NULL (pid)` (PostgreSQL 15's column list) sets only pid to NULL: a CHECK over
 *    the key's other column and the masked email is not evaluated anew, so the DELETE runs; a
 *    CHECK over pid and the email stays refused.
 * 2. A literal written into a `char(n)` column is stored padded to n characters: sized so (a
 *    short `'x'` into char(2600) beside a masked email in one index is refused); into char(10) it runs.
 * 3. `IF OLD IS DISTINCT FROM NEW` in a DELETE trigger's body: NEW is NULL there, so the answer is
 *    the same for every row (shown as the admin on rows differing only in the email): the DELETE
 *    runs; the same function under an UPDATE writing the email stays refused.
 * 4. An upsert's `DO UPDATE SET id = t.id`: the existing row's key set to itself fires no ON
 *    UPDATE action (shown as the admin), so it runs; `SET id = EXCLUDED.id` stays refused (the
 *    arbiter's equality is not the byte equality PostgreSQL's RI check uses: numeric 1.0 and 1.00
 *    conflict, and the cascade fires, shown as the admin), as do a changed key, a BEFORE
 *    trigger moving it, and the table's key written through a view in another writable CTE of
 *    the statement (which ran the cascade before).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const CAROL = 'carol.anne.lewis@example.com';
const DAVE = 'dave@example.com';

const MASKED = ['n_ch', 'n_ch2', 'c_wide', 'c_narrow', 'c_dom', 'c_arr', 'r_del', 'r_both', 'q_ch', 'q_ch2', 'q_chn'];
const TABLES = [...MASKED, 'n_par', 'n_par2', 'q_par', 'q_par_v', 'q_par2', 'q_parn'];
const GRANT = writersPolicy(TABLES);
const MASK = emailRedactions(MASKED);

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emwp' });
  await db.query(`
    -- 1. SET NULL (pid) leaves t; the CHECK reads t and the email.
    CREATE TABLE n_par (t text, id int, PRIMARY KEY (t, id));
    CREATE TABLE n_ch (id int PRIMARY KEY, t text NOT NULL, pid int, email text,
      FOREIGN KEY (t, pid) REFERENCES n_par ON DELETE SET NULL (pid),
      CONSTRAINT n_ch_c CHECK (t <> 'x' OR ascii(email) <> 99));
    -- ... one whose CHECK reads pid, which SET NULL (pid) writes.
    CREATE TABLE n_par2 (t text, id int, PRIMARY KEY (t, id));
    CREATE TABLE n_ch2 (id int PRIMARY KEY, t text NOT NULL, pid int, email text,
      FOREIGN KEY (t, pid) REFERENCES n_par2 ON DELETE SET NULL (pid),
      CONSTRAINT n_ch2_c CHECK (pid IS NOT NULL OR ascii(email) <> 99));
    -- 2. A wide char(n) beside the masked email in one index, stored uncompressed.
    CREATE TABLE c_wide (id int PRIMARY KEY, email text, code char(2600));
    ALTER TABLE c_wide ALTER COLUMN code SET STORAGE PLAIN, ALTER COLUMN email SET STORAGE PLAIN;
    CREATE INDEX c_wide_ec ON c_wide (email, code);
    CREATE TABLE c_narrow (id int PRIMARY KEY, email text, code char(10));
    CREATE INDEX c_narrow_ec ON c_narrow (email, code);
    -- ... char(n) through a domain (padded alike), and an array of char(n) (each element padded: not read).
    CREATE DOMAIN c_code AS char(2600);
    CREATE TABLE c_dom (id int PRIMARY KEY, email text, code c_code);
    CREATE INDEX c_dom_ec ON c_dom (email, code);
    CREATE TABLE c_arr (id int PRIMARY KEY, email text, codes char(10)[]);
    CREATE INDEX c_arr_ec ON c_arr (email, codes);
    -- 3. A DELETE trigger comparing the whole rows; the email is the first column, nothing else set.
    CREATE TABLE r_del (email text, note text);
    CREATE FUNCTION r_del_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN IF OLD IS DISTINCT FROM NEW THEN RETURN OLD; END IF; RAISE EXCEPTION 'probe'; END $b$;
    CREATE TRIGGER r_del_t BEFORE DELETE ON r_del FOR EACH ROW EXECUTE FUNCTION r_del_f();
    -- ... and one firing on UPDATE too, where the comparison tells whether the email changed.
    CREATE TABLE r_both (id int PRIMARY KEY, email text, note text);
    CREATE FUNCTION r_both_f() RETURNS trigger LANGUAGE plpgsql AS $b$
      BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; IF NEW IS DISTINCT FROM OLD THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END $b$;
    CREATE TRIGGER r_both_t BEFORE UPDATE OR DELETE ON r_both FOR EACH ROW EXECUTE FUNCTION r_both_f();
    -- 4. A child whose UPDATE trigger raises whenever the cascade reaches it.
    CREATE FUNCTION q_cascaded() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN IF NEW.email IS NOT NULL THEN RAISE EXCEPTION 'cascaded'; END IF; RETURN NEW; END $b$;
    CREATE TABLE q_par (id int PRIMARY KEY, note text);
    CREATE TABLE q_ch (id int PRIMARY KEY, pid int REFERENCES q_par ON UPDATE CASCADE, email text);
    CREATE TRIGGER q_ch_t BEFORE UPDATE ON q_ch FOR EACH ROW EXECUTE FUNCTION q_cascaded();
    CREATE VIEW q_par_v AS SELECT id, note FROM q_par;
    -- ... a parent whose blind BEFORE trigger moves the key.
    CREATE TABLE q_par2 (id int PRIMARY KEY, note text);
    CREATE FUNCTION q_par2_f() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN NEW.id := NEW.id + 100; RETURN NEW; END $b$;
    CREATE TRIGGER q_par2_t BEFORE UPDATE ON q_par2 FOR EACH ROW EXECUTE FUNCTION q_par2_f();
    CREATE TABLE q_ch2 (id int PRIMARY KEY, pid int REFERENCES q_par2 ON UPDATE CASCADE, email text);
    CREATE TRIGGER q_ch2_t BEFORE UPDATE ON q_ch2 FOR EACH ROW EXECUTE FUNCTION q_cascaded();
    -- ... a numeric key: 1.00 conflicts with 1.0, and EXCLUDED.id is another image of it.
    CREATE TABLE q_parn (id numeric PRIMARY KEY, note text);
    CREATE TABLE q_chn (id int PRIMARY KEY, pid numeric REFERENCES q_parn ON UPDATE CASCADE, email text);
    CREATE TRIGGER q_chn_t BEFORE UPDATE ON q_chn FOR EACH ROW EXECUTE FUNCTION q_cascaded();
  `);
  for (const t of ['n_par', 'n_par2']) await db.query(`INSERT INTO ${t} VALUES ('x', 1), ('x', 2), ('x', 3)`);
  for (const t of ['n_ch', 'n_ch2']) await db.query(`INSERT INTO ${t} VALUES (1, 'x', 1, 'd@x'), (2, 'x', 2, 'd@x'), (3, 'x', 3, 'd@x')`);
  await db.query(`UPDATE n_ch2 SET email = CASE id WHEN 1 THEN '${CAROL}' ELSE '${DAVE}' END`);
  for (const t of ['c_wide', 'c_narrow', 'c_dom', 'c_arr', 'r_both']) await db.query(`INSERT INTO ${t} (id, email) VALUES (1, '${CAROL}'), (2, '${DAVE}'), (3, '${DAVE}')`);
  await db.query(`INSERT INTO r_del VALUES ('${CAROL}', NULL), (NULL, NULL), ('${DAVE}', NULL), (NULL, NULL)`);
  for (const t of ['q_par', 'q_par2']) await db.query(`INSERT INTO ${t} VALUES (1, 'x'), (2, 'x'), (3, 'x')`);
  for (const t of ['q_ch', 'q_ch2']) await db.query(`INSERT INTO ${t} VALUES (1, 1, '${CAROL}'), (2, 2, '${DAVE}'), (3, 3, '${DAVE}')`);
  await db.query(`INSERT INTO q_parn VALUES (1.0, 'x'), (2.0, 'x'), (3.0, 'x'); INSERT INTO q_chn VALUES (1, 1.0, '${CAROL}'), (2, 2.0, '${DAVE}'), (3, 3.0, '${DAVE}')`);
  await ownTables(db, TABLES);
  for (const f of ['r_del_f', 'r_both_f', 'q_cascaded', 'q_par2_f']) await db.query(`ALTER FUNCTION public.${f}() OWNER TO ${db.role}`);
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

/** Whether `sql` runs as the admin, rolled back either way. */
async function fits(sql: string): Promise<boolean> {
  try {
    await db.query(`BEGIN; ${sql}; ROLLBACK`);
    return true;
  } catch {
    await db.query('ROLLBACK');
    return false;
  }
}

describe('1. ON DELETE SET NULL (pid): only the listed column is written', () => {
  test('the channel is real: without the mask, SET NULL (pid) under a CHECK over pid and the email fails on one row only', async () => {
    assert.deepEqual([answer(await open.query("DELETE FROM public.n_par2 WHERE id = 1")), answer(await open.query("DELETE FROM public.n_par2 WHERE id = 2"))], ['error', 'ran']);
  });

  test('under the mask, SET NULL (pid) under a CHECK over the other key column and the email runs, t kept', async () => {
    ok(await masked.query("DELETE FROM public.n_par WHERE t = 'x' AND id = 3"), 'SET NULL (pid)');
    assert.deepEqual((await db.query('SELECT t, pid FROM n_ch WHERE id = 3')).rows, [{ t: 'x', pid: null }]);
  });

  test('under the mask, SET NULL (pid) under a CHECK over pid and the email stays refused', async () => {
    const ran = await unrefused([["DELETE FROM public.n_par2 WHERE t = 'x' AND id = 3", []]],
      /^WARDEN_DENIED: masked column public\.n_ch2\.email would be checked by constraint n_ch2_c of public\.n_ch2\b.*reached through foreign key n_ch2_t_pid_fkey of public\.n_ch2 ON DELETE SET NULL/);
    assert.deepEqual(ran, []);
    assert.equal((await db.query('SELECT 1 FROM n_par2 WHERE id = 3')).rowCount, 1);
  });
});

describe('2. a literal written into char(n) is sized padded to n', () => {
  const set = (s: string, id: number) => `UPDATE public.c_wide SET code = '${s}' WHERE id = ${id}`;

  test('the channel is real: without the mask, a short literal of k two-byte characters fails on one row only', async () => {
    let k = 0;
    while (k < 200 && !(!(await fits(set('é'.repeat(k), 1))) && (await fits(set('é'.repeat(k), 2))))) k++;
    assert.ok(k < 200, 'no k told the two emails apart');
    assert.ok(Buffer.byteLength('é'.repeat(k)) <= 256, 'a literal the old rule let through');
    assert.deepEqual([answer(await open.query(set('é'.repeat(k), 1))), answer(await open.query(set('é'.repeat(k), 2)))], ['error', 'ran']);
  });

  test('under the mask, a short literal or parameter into the wide char(n) is refused before it runs', async () => {
    const ran = await unrefused([
      [set('x', 3), []],
      [set('é'.repeat(60), 3), []],
      ['UPDATE public.c_wide SET code = $1 WHERE id = 3', ['x']],
      ["UPDATE public.c_dom SET code = 'x' WHERE id = 3", []],
      ["UPDATE public.c_arr SET codes = '{a}' WHERE id = 3", []],
    ], /^WARDEN_DENIED: masked column public\.c_(wide|dom|arr)\.email would be sized by index c_(wide|dom|arr)_ec of public\.c_(wide|dom|arr)\b/);
    assert.deepEqual(ran, []);
    assert.equal((await db.query('SELECT 1 FROM c_wide WHERE id = 3 AND code IS NULL')).rowCount, 1);
  });

  test('under the mask, NULL into the wide char(n), and a literal or parameter into char(10), run', async () => {
    for (const [sql, params] of [
      ['UPDATE public.c_wide SET code = NULL WHERE id = 3', []],
      ["UPDATE public.c_narrow SET code = 'ab' WHERE id = 3", []],
      ['UPDATE public.c_narrow SET code = $1 WHERE id = 3', ['abc']],
    ] as [string, unknown[]][]) ok(await call(masked, sql, params), sql);
    assert.equal((await db.query("SELECT 1 FROM c_narrow WHERE id = 3 AND code = 'abc'")).rowCount, 1);
  });
});

describe('3. a whole-row comparison in a DELETE trigger body', () => {
  test('PostgreSQL: NEW is NULL in a DELETE trigger, the comparison answers alike for every row, none raises', async () => {
    for (const where of [`email = '${CAROL}'`, 'email IS NULL']) assert.equal(await fits(`DELETE FROM r_del WHERE ${where}`), true, where);
  });

  test('the channel is real: without the mask, an UPDATE writing the email under the same comparison tells whether it changed', async () => {
    const sql = (id: number) => `UPDATE public.r_both SET email = '${CAROL}' WHERE id = ${id}`;
    assert.deepEqual([answer(await open.query(sql(1))), answer(await open.query(sql(2)))], ['ran', 'error']);
  });

  test('under the mask, the DELETE runs', async () => {
    for (const sql of [`DELETE FROM public.r_del WHERE note IS NULL`, 'DELETE FROM public.r_both WHERE id = 3']) ok(await masked.query(sql), sql);
    assert.equal((await db.query('SELECT 1 FROM r_del')).rowCount, 0);
  });

  test('under the mask, an UPDATE writing the email under the same function stays refused', async () => {
    const ran = await unrefused([[`UPDATE public.r_both SET email = '${CAROL}' WHERE id = 2`, []]],
      /^WARDEN_DENIED: masked column public\.r_both\.email would be read by trigger r_both_t of public\.r_both\b.*compares the whole rows OLD and NEW/);
    assert.deepEqual(ran, []);
  });
});

describe("4. an upsert's DO UPDATE setting the referenced key to itself", () => {
  // The parser reads no alias on an INSERT's target: its table name qualifies the existing row (\`p.\` below stands for it).
  const upsert = (table: string, set: string, id = 2) => `INSERT INTO public.${table} (id, note) VALUES (${id}, 'x') ON CONFLICT (id) DO UPDATE SET ${set.replaceAll('p.', `${table}.`)}`;

  test('PostgreSQL runs no ON UPDATE action for SET id = p.id, and runs it for EXCLUDED.id of another image, or a key a trigger moves', async () => {
    assert.equal(await fits(upsert('q_par', "id = p.id, note = 'y'", 1)), true);
    assert.equal(await fits(upsert('q_par', "note = 'y'", 1)), true);
    assert.equal(await fits("INSERT INTO q_par AS p (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = p.id"), true);
    // A bare id is ambiguous (the existing row's, or EXCLUDED's): PostgreSQL refuses it before it runs.
    await assert.rejects(db.query("INSERT INTO q_par (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = id"), /ambiguous/);
    assert.equal(await fits(upsert('q_par', 'id = p.id + 100', 1)), false);
    assert.equal(await fits(upsert('q_par2', 'id = p.id', 1)), false);
    assert.equal(await fits("INSERT INTO q_parn (id) VALUES (1.00) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id"), false);
    assert.equal(await fits("INSERT INTO q_parn (id) VALUES (1.0) ON CONFLICT (id) DO UPDATE SET id = q_parn.id"), true);
  });

  test('under the mask, SET id = q_par.id, or a key only the INSERT lists, runs', async () => {
    for (const sql of [upsert('q_par', "id = p.id, note = 'z'"), 'INSERT INTO public.q_par (id) VALUES (3) ON CONFLICT (id) DO UPDATE SET id = q_par.id',
      upsert('q_par', "note = 'w'", 1)]) ok(await masked.query(sql), sql);
    assert.deepEqual((await db.query("SELECT id, note FROM q_par WHERE id IN (1, 2) ORDER BY id")).rows, [{ id: 1, note: 'w' }, { id: 2, note: 'z' }]);
  });

  test('under the mask, EXCLUDED.id, a changed key, a key a trigger moves stay refused', async () => {
    const ran = await unrefused([
      [upsert('q_par', 'id = EXCLUDED.id'), []],
      [upsert('q_par', 'id = p.id + 0'), []],
      [upsert('q_par', 'id = p.id, id = 5'), []],
      [upsert('q_par2', 'id = p.id'), []],
      ['INSERT INTO public.q_parn (id) VALUES (2.00) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id', []],
      // The same table written again through a view, in a writable CTE: its key may change there.
      ['WITH v AS (UPDATE public.q_par_v SET id = id + 100 WHERE id = 3 RETURNING 1), w AS (UPDATE public.q_par SET id = id WHERE id = 2 RETURNING 1) SELECT 1', []],
      ["WITH v AS (UPDATE public.q_par_v SET id = id + 100 WHERE id = 3 RETURNING 1), w AS (INSERT INTO public.q_par (id, note) VALUES (2, 'x') ON CONFLICT (id) DO UPDATE SET note = 'v' RETURNING 1) SELECT 1", []],
    ], /^WARDEN_DENIED: masked column public\.q_ch[2n]?\.email would be read by trigger q_ch[2n]?_t of public\.q_ch[2n]?\b.*reached through foreign key q_ch[2n]?_pid_fkey/);
    assert.deepEqual(ran, []);
  });
});
