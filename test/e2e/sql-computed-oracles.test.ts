/**
 * Write-side oracles on a masked column through definitions the catalog holds beside CHECKs, end
 * to end against a real PostgreSQL (constraint-oracles.ts): an UPDATE that writes a column such a
 * definition reads beside the masked one makes PostgreSQL compute over the row's masked value,
 * and its success or failure (a division by zero, a routing failure, a policy violation) answers
 * a question the masks never judged, a bit per row:
 * - a STORED generated column over the masked column and a written one (also through a CHECK
 *   reading only the generated column);
 * - a non-unique index on an expression over both;
 * - a partition key over both (the row finds no partition, or violates the partition's bound);
 * - a trigger firing on the UPDATE (its WHEN clause, its function: user code over the row);
 * - a row-level security policy reading the masked column.
 * Each is refused under the mask; an UPDATE writing no column such a definition reads, or of a
 * table whose definitions read no masked column, still runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const MASKED = ['gen', 'genchk', 'idx', 'pk', 'pk_neg', 'pk_pos', 'trg_when', 'trg_code', 'rls', 'rul', 'mv', 'mv_a', 'mv_b', 'rls_src'];
const TABLES = [...MASKED, 'gen_ok', 'trg_ok', 'rls_ok', 'rul_log', 'rlsx'];

const GRANT = writersPolicy(TABLES);

const MASK = emailRedactions([...MASKED, 'gen_ok', 'rls_ok']);

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ecomp' });
  await db.query(`
    -- 1 / (ascii(email) - ascii(note)) divides by zero exactly when both start alike.
    CREATE TABLE gen (id int PRIMARY KEY, email text, note text,
      g int GENERATED ALWAYS AS (1 / (ascii(email) - ascii(note))) STORED);
    CREATE TABLE genchk (id int PRIMARY KEY, email text, note text,
      g text GENERATED ALWAYS AS (email || note) STORED, CONSTRAINT g_short CHECK (length(g) < 30));
    CREATE TABLE gen_ok (id int PRIMARY KEY, email text, note text,
      g int GENERATED ALWAYS AS (length(note)) STORED);
    CREATE TABLE idx (id int PRIMARY KEY, email text, note text);
    CREATE INDEX idx_probe ON idx ((1 / (ascii(email) - ascii(note))));
    -- No partition holds 0: a row whose email and note start alike finds none.
    CREATE TABLE pk (id int, email text, note text) PARTITION BY RANGE ((ascii(email) - ascii(note)));
    CREATE TABLE pk_neg PARTITION OF pk FOR VALUES FROM (MINVALUE) TO (0);
    CREATE TABLE pk_pos PARTITION OF pk FOR VALUES FROM (1) TO (MAXVALUE);
    CREATE TABLE trg_when (id int PRIMARY KEY, email text, note text);
    CREATE TRIGGER trg_when_t BEFORE UPDATE ON trg_when FOR EACH ROW
      WHEN (1 / (ascii(NEW.email) - ascii(NEW.note)) > 0) EXECUTE FUNCTION suppress_redundant_updates_trigger();
    CREATE FUNCTION probe_fn() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF ascii(NEW.email) = ascii(NEW.note) THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END $$;
    CREATE TABLE trg_code (id int PRIMARY KEY, email text, note text, name text);
    CREATE TRIGGER trg_code_t BEFORE UPDATE OF note ON trg_code FOR EACH ROW EXECUTE FUNCTION probe_fn();
    CREATE TABLE trg_ok (id int PRIMARY KEY, note text);
    CREATE TRIGGER trg_ok_t BEFORE UPDATE ON trg_ok FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
    CREATE TABLE rls (id int PRIMARY KEY, email text, note text);
    CREATE POLICY rls_p ON rls USING (true) WITH CHECK (ascii(email) <> ascii(note));
    CREATE TABLE rls_ok (id int PRIMARY KEY, email text, note text);
    CREATE POLICY rls_ok_p ON rls_ok USING (true) WITH CHECK (note IS NOT NULL);
    CREATE TABLE rul (id int PRIMARY KEY, email text, note text);
    CREATE TABLE rul_log (v int);
    CREATE RULE rul_r AS ON UPDATE TO rul DO ALSO INSERT INTO rul_log VALUES (1 / (ascii(NEW.email) - ascii(NEW.note)));
    -- Only mv_b computes over email: a row moved there from mv_a is computed anew.
    CREATE TABLE mv (id int, part text, email text, note text) PARTITION BY LIST (part);
    CREATE TABLE mv_a PARTITION OF mv FOR VALUES IN ('a');
    CREATE TABLE mv_b PARTITION OF mv FOR VALUES IN ('b');
    CREATE INDEX mv_b_expr ON mv_b ((1 / (ascii(email) - 99)));
    -- A table with no masked column whose policy reads one through a subquery.
    CREATE TABLE rls_src (id int PRIMARY KEY, email text);
    CREATE TABLE rlsx (id int PRIMARY KEY, note text);
    CREATE POLICY rlsx_p ON rlsx USING (true)
      WITH CHECK (EXISTS (SELECT 1 FROM rls_src s WHERE s.id = rlsx.id AND ascii(s.email) <> ascii(rlsx.note)));
  `);
  for (const t of ['gen', 'genchk', 'gen_ok', 'idx', 'pk', 'trg_when', 'trg_code', 'rls', 'rls_ok', 'rul']) {
    await db.query(`INSERT INTO ${t} (id, email, note) VALUES (1, '${CAROL}', 'x'), (2, '${DAVE}', 'x')`);
  }
  await db.query(`INSERT INTO trg_ok VALUES (1, 'x')`);
  await db.query(`INSERT INTO mv VALUES (1, 'a', '${CAROL}', 'x'), (2, 'a', '${DAVE}', 'x')`);
  await db.query(`INSERT INTO rls_src VALUES (1, '${CAROL}'), (2, '${DAVE}'); INSERT INTO rlsx VALUES (1, 'x'), (2, 'x')`);
  await ownTables(db, TABLES);
  await db.query(`ALTER FUNCTION public.probe_fn() OWNER TO ${db.role}`);
  for (const t of ['rls', 'rls_ok', 'rlsx']) await db.query(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;
const failed = (r: Result, what: string): void => assert.equal(r.isError, true, `${what} must fail: ${r.text.slice(0, 300)}`);

/** The probes: on row 1 (email 'c...') each fails, on row 2 ('d...') each runs. */
const PROBES: { name: string; sql: (id: number) => string; by: RegExp }[] = [
  { name: 'generated column', sql: (id) => `UPDATE public.gen SET note = 'c' WHERE id = ${id}`, by: /generated column g of public\.gen\b/ },
  { name: 'CHECK over a generated column', sql: (id) => `UPDATE public.genchk SET note = '${'x'.repeat(id === 1 ? 13 : 12)}' WHERE id = ${id}`, by: /(constraint g_short|generated column g) of public\.genchk\b/ },
  { name: 'expression index', sql: (id) => `UPDATE public.idx SET note = 'c' WHERE id = ${id}`, by: /index idx_probe of public\.idx\b/ },
  { name: 'partition key', sql: (id) => `UPDATE public.pk SET note = 'c' WHERE id = ${id}`, by: /partition key of public\.pk\b/ },
  { name: 'partition bound of a partition written directly', sql: (id) => `UPDATE public.pk_neg SET note = 'c' WHERE id = ${id}`, by: /partition key of public\.pk\b/ },
  { name: "trigger's WHEN", sql: (id) => `UPDATE public.trg_when SET note = 'c' WHERE id = ${id}`, by: /trigger trg_when_t of public\.trg_when\b/ },
  { name: 'trigger function', sql: (id) => `UPDATE public.trg_code SET note = 'c' WHERE id = ${id}`, by: /trigger trg_code_t of public\.trg_code\b/ },
  { name: 'row-level security policy', sql: (id) => `UPDATE public.rls SET note = 'c' WHERE id = ${id}`, by: /policy rls_p of public\.rls\b/ },
  { name: 'policy reading another table', sql: (id) => `UPDATE public.rlsx SET note = 'c' WHERE id = ${id}`, by: /policy rlsx_p of public\.rlsx\b/ },
  { name: 'rule', sql: (id) => `UPDATE public.rul SET note = 'c' WHERE id = ${id}`, by: /rule rul_r of public\.rul\b/ },
  { name: "index of the partition a row moves to", sql: (id) => `UPDATE public.mv SET part = 'b' WHERE id = ${id}`, by: /index mv_b_expr of public\.mv_b\b/ },
];

describe('UPDATE under a definition computing over a masked column and a written one', () => {
  test('the channel is real: without the mask, each fails for one row and runs for the other', async () => {
    for (const p of PROBES) {
      failed(await open.query(p.sql(1)), `${p.name}, row 1`);
      ok(await open.query(p.sql(2)), `${p.name}, row 2`);
    }
  });

  test('under the mask, each is refused before it runs, for either row', async () => {
    // Every probe is tried, and every one that is not refused is listed.
    const ran: string[] = [];
    for (const p of PROBES) {
      for (const id of [1, 2]) {
        const sql = p.sql(id);
        const r = await masked.query(sql);
        noLeak(r, sql);
        if (!r.isError || !/^WARDEN_DENIED: /.test(r.text)) {
          ran.push(`${p.name} (row ${id}): ${r.text.slice(0, 120)}`);
          continue;
        }
        assert.match(r.text, /^WARDEN_DENIED: masked column public\.\w+\.email would be (checked|computed over|read) by /, sql);
        assert.match(r.text, p.by, sql);
        assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
      }
    }
    assert.deepEqual(ran, []);
  });

  test('an UPDATE writing no column such a definition reads beside the masked one, or of a table whose definitions read none, runs', async () => {
    for (const sql of [
      // The generated column, index and partition key read email and note; id is neither.
      'UPDATE public.gen SET id = id + 10 WHERE id = 2',
      'UPDATE public.genchk SET id = id + 10 WHERE id = 2',
      'UPDATE public.idx SET id = id + 10 WHERE id = 2',
      'UPDATE public.pk SET id = id + 10 WHERE id = 2',
      // Writing the masked column itself computes over the statement's own value.
      "UPDATE public.idx SET email = 'e@x.org', note = 'y' WHERE id = 12",
      // A generated column over unmasked columns only.
      "UPDATE public.gen_ok SET note = 'c' WHERE id = 1",
      // A trigger firing on UPDATE OF note does not fire when note is not written.
      "UPDATE public.trg_code SET name = 'n' WHERE id = 1",
      // A trigger on a table with no masked column.
      "UPDATE public.trg_ok SET note = 'y' WHERE id = 1",
      // A policy reading no masked column.
      "UPDATE public.rls_ok SET note = 'c' WHERE id = 1",
      // No partition key is written: no row moves, and mv_b's index reads no written column.
      "UPDATE public.mv SET note = 'y' WHERE id = 1",
    ]) ok(await masked.query(sql), sql);
    assert.equal((await db.query('SELECT g FROM gen WHERE id = 12')).rows.length, 1);
  });
});
