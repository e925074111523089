/**
 * Write-side oracles on a masked column through DELETE, end to end against a real PostgreSQL
 * (constraint-oracles.ts, checkDeleteOracles): what the catalog holds for a DELETE computes over
 * the deleted row's masked value, and the statement's failure (rolled back, so it can be
 * repeated) or its row count answers a question the masks never judged, a bit per row:
 * - a BEFORE DELETE trigger's WHEN clause over OLD.email;
 * - a trigger function raising by OLD.email;
 * - an ON DELETE rule whose action divides by a function of OLD.email;
 * - a row-level security policy FOR DELETE reading the masked column (the row count answers).
 * Each is refused under the mask; a DELETE of a masked table with none of these, a DELETE
 * trigger of a table with no masked column, and an UPDATE of a table whose trigger acts on
 * DELETE only, still run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const MASKED = ['d_when', 'd_code', 'd_rul', 'd_rls', 'd_all', 'd_plain', 'd_sel', 'k_null', 'k_cas', 'k_plain'];
const TABLES = [...MASKED, 'd_log', 'd_ok', 'k_par', 'k_par2', 'k_par3'];

const GRANT = writersPolicy(TABLES);

const MASK = emailRedactions(MASKED);

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2edel' });
  await db.query(`
    CREATE FUNCTION keep_old() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
    CREATE FUNCTION probe_old() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF ascii(OLD.email) = 99 THEN RAISE EXCEPTION 'probe'; END IF; RETURN OLD; END $$;
    -- 1 / (ascii(OLD.email) - 99) divides by zero exactly when the email starts with 'c'.
    CREATE TABLE d_when (id int PRIMARY KEY, email text, note text);
    CREATE TRIGGER d_when_t BEFORE DELETE ON d_when FOR EACH ROW
      WHEN (1 / (ascii(OLD.email) - 99) <> 0) EXECUTE FUNCTION keep_old();
    CREATE TABLE d_code (id int PRIMARY KEY, email text, note text);
    CREATE TRIGGER d_code_t AFTER DELETE ON d_code FOR EACH ROW EXECUTE FUNCTION probe_old();
    CREATE TABLE d_log (v int);
    CREATE TABLE d_rul (id int PRIMARY KEY, email text, note text);
    CREATE RULE d_rul_r AS ON DELETE TO d_rul DO ALSO INSERT INTO d_log VALUES (1 / (ascii(OLD.email) - 99));
    -- A policy for DELETE hides the rows whose email starts with 'c' from it: the row count answers.
    CREATE TABLE d_rls (id int PRIMARY KEY, email text, note text);
    CREATE POLICY d_rls_s ON d_rls FOR SELECT USING (true);
    CREATE POLICY d_rls_d ON d_rls FOR DELETE USING (ascii(email) <> 99);
    CREATE TABLE d_all (id int PRIMARY KEY, email text, note text);
    CREATE POLICY d_all_p ON d_all USING (ascii(email) <> 99);
    -- Neighbours: no trigger, rule or policy; a SELECT policy only; a DELETE trigger with no masked column.
    CREATE TABLE d_plain (id int PRIMARY KEY, email text, note text);
    CREATE TABLE d_sel (id int PRIMARY KEY, email text, note text);
    CREATE POLICY d_sel_s ON d_sel FOR SELECT USING (ascii(email) <> 99);
    CREATE POLICY d_sel_d ON d_sel FOR DELETE USING (true);
    CREATE TABLE d_ok (id int PRIMARY KEY, note text);
    CREATE TRIGGER d_ok_t BEFORE DELETE ON d_ok FOR EACH ROW EXECUTE FUNCTION keep_old();
    -- A foreign key ON DELETE SET NULL writes the child's key, and its CHECK reads the masked email beside it.
    CREATE TABLE k_par (id int PRIMARY KEY);
    CREATE TABLE k_null (id int PRIMARY KEY, pid int REFERENCES k_par ON DELETE SET NULL, email text,
      CONSTRAINT k_null_c CHECK (pid IS NOT NULL OR ascii(email) <> 99));
    -- ON DELETE CASCADE deletes the child's rows, firing its DELETE trigger over the masked email.
    CREATE TABLE k_par2 (id int PRIMARY KEY);
    CREATE TABLE k_cas (id int PRIMARY KEY, pid int REFERENCES k_par2 ON DELETE CASCADE, email text);
    CREATE TRIGGER k_cas_t BEFORE DELETE ON k_cas FOR EACH ROW EXECUTE FUNCTION probe_old();
    -- Neighbour: a cascade into a masked table with nothing computing over the email.
    CREATE TABLE k_par3 (id int PRIMARY KEY);
    CREATE TABLE k_plain (id int PRIMARY KEY, pid int REFERENCES k_par3 ON DELETE CASCADE, email text);
  `);
  for (const t of ['k_par', 'k_par2', 'k_par3']) await db.query(`INSERT INTO ${t} VALUES (1), (2), (3)`);
  for (const t of ['k_null', 'k_cas', 'k_plain']) {
    await db.query(`INSERT INTO ${t} VALUES (1, 1, '${CAROL}'), (2, 2, '${DAVE}'), (3, 3, '${DAVE}')`);
  }
  for (const t of MASKED.filter((t) => t.startsWith('d_'))) {
    await db.query(`INSERT INTO ${t} (id, email, note) VALUES (1, '${CAROL}', 'x'), (2, '${DAVE}', 'x'), (3, '${DAVE}', 'x')`);
  }
  await db.query(`INSERT INTO d_ok VALUES (1, 'x')`);
  await ownTables(db, TABLES);
  await db.query(`ALTER FUNCTION public.keep_old() OWNER TO ${db.role}; ALTER FUNCTION public.probe_old() OWNER TO ${db.role}`);
  for (const t of ['d_rls', 'd_all', 'd_sel']) await db.query(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;
/** What the statement answered: an error, or how many rows it deleted. */
const answer = (r: Result): string => (r.isError ? 'error' : `deleted ${(r.structured as { affected?: number | null }).affected}`);

/** The probes: on row 1 (email 'c...') each fails or deletes nothing, on row 2 ('d...') each deletes the row. */
const PROBES: { name: string; table: string; by: RegExp }[] = [
  { name: "trigger's WHEN", table: 'd_when', by: /trigger d_when_t of public\.d_when\b/ },
  { name: 'trigger function', table: 'd_code', by: /trigger d_code_t of public\.d_code\b/ },
  { name: 'rule', table: 'd_rul', by: /rule d_rul_r of public\.d_rul\b/ },
  { name: 'policy FOR DELETE', table: 'd_rls', by: /policy d_rls_d of public\.d_rls\b/ },
  { name: 'policy FOR ALL', table: 'd_all', by: /policy d_all_p of public\.d_all\b/ },
  { name: 'foreign key ON DELETE SET NULL into a CHECK', table: 'k_par', by: /constraint k_null_c of public\.k_null\b.*foreign key k_null_pid_fkey/ },
  { name: 'foreign key ON DELETE CASCADE into a trigger', table: 'k_par2', by: /trigger k_cas_t of public\.k_cas\b.*foreign key k_cas_pid_fkey/ },
];
const del = (table: string, id: number) => `DELETE FROM public.${table} WHERE id = ${id}`;

describe('DELETE under a trigger, rule or policy computing over a masked column', () => {
  test('the channel is real: without the mask, row 1 and row 2 answer differently', async () => {
    for (const p of PROBES) {
      const one = answer(await open.query(del(p.table, 1)));
      const two = answer(await open.query(del(p.table, 2)));
      assert.equal(two, 'deleted 1', `${p.name}, row 2`);
      assert.notEqual(one, two, `${p.name}: row 1 answers as row 2 does`);
      // The failed or filtered DELETE left row 1: it can be asked again.
      assert.equal((await db.query(`SELECT 1 FROM ${p.table} WHERE id = 1`)).rowCount, 1, p.name);
    }
  });

  test('under the mask, each is refused before it runs', async () => {
    const ran: string[] = [];
    for (const p of PROBES) {
      for (const sql of [del(p.table, 1), del(p.table, 3), `DELETE FROM public.${p.table} WHERE id = 3 RETURNING id`]) {
        const r = await masked.query(sql);
        noLeak(r, sql);
        if (!r.isError || !/^WARDEN_DENIED: /.test(r.text)) {
          ran.push(`${p.name} (${sql}): ${r.text.slice(0, 120)}`);
          continue;
        }
        assert.match(r.text, /^WARDEN_DENIED: masked column public\.\w+\.email would be (read|checked) by /, sql);
        assert.match(r.text, p.by, sql);
        assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
      }
    }
    assert.deepEqual(ran, []);
    for (const p of PROBES) assert.equal((await db.query(`SELECT 1 FROM ${p.table} WHERE id = 3`)).rowCount, 1, p.name);
  });

  test('a DELETE of a masked table without such definitions, or a DELETE trigger of a table with no masked column, runs', async () => {
    for (const sql of [
      'DELETE FROM public.d_plain WHERE id = 3',
      // A condition on the masked column in the statement's own WHERE is judged as usual, and runs.
      "DELETE FROM public.d_plain WHERE id = 2 AND email LIKE 'd%'",
      // A policy for SELECT only filters as a SELECT does (not judged there either); its DELETE policy reads no masked column.
      'DELETE FROM public.d_sel WHERE id = 3',
      'DELETE FROM public.d_ok WHERE id = 1',
      // A cascade into a masked table whose definitions compute nothing over the email.
      'DELETE FROM public.k_par3 WHERE id = 3',
      // A trigger or rule acting on DELETE only does not fire on an UPDATE.
      "UPDATE public.d_code SET note = 'y' WHERE id = 3",
      "UPDATE public.d_rul SET note = 'y' WHERE id = 3",
    ]) ok(await masked.query(sql), sql);
    assert.equal((await db.query('SELECT 1 FROM d_plain WHERE id IN (2, 3)')).rowCount, 0);
    assert.equal((await db.query('SELECT 1 FROM d_ok')).rowCount, 0);
  });
});
