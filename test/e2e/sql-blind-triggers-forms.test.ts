/**
 * The forms of trigger read as blind beside the PL/pgSQL stamp (trigger-bodies.ts,
 * trigger-facts.ts, plpgsql-declare.ts), end to end against a real PostgreSQL: under masks an
 * UPDATE runs, and the row really changes, under
 * - `WHEN (OLD.* IS DISTINCT FROM NEW.*)` (NEW before OLD, `OLD IS DISTINCT FROM NEW`) when the
 *   statement writes no masked column (a json column's missing equality fails every row alike);
 * - a function with DECLARE'd variables of built-in scalar types;
 * - contrib's moddatetime (`EXECUTE FUNCTION moddatetime(updated_at)`).
 * Their neighbours stay refused, each a real channel where the mask is off (row 1's email starts
 * with 'c', rows 2 and 3's with 'd': the statement fails on one row only; row 3 is kept for the mask): the statement writing the
 * masked column under the whole-row WHEN (also an upsert), a whole-row WHEN or'ed with a read of
 * the email, a variable holding NEW.email, a domain-typed variable whose CHECK reads the table,
 * a %ROWTYPE variable, SELECT INTO, a CHECK fed by the column moddatetime writes, a WHEN over
 * the email on moddatetime, a plpgsql lookalike of moddatetime; and, last, a default operator
 * class made for `point` whose equality reads the table, which record_eq calls: every
 * whole-row WHEN is refused from then on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, sqlConfig, type SqlResult, type SqlWarden, startMaskedPair, startSqlWarden, stopAll, writersPolicy } from '../support/sql-warden.js';

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

const ROWS = 'WHEN (OLD.* IS DISTINCT FROM NEW.*)';
const STAMP = 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
const PROBE = "BEGIN RAISE EXCEPTION 'probe'; END";
const DECLARED = `DECLARE n int := 0; t timestamptz; s text DEFAULT 'x';
  BEGIN t := now(); n := coalesce(OLD.n, 0) + 10; IF s = 'x' THEN NEW.n := n; END IF; NEW.updated_at := t; RETURN NEW; END`;

/** Tables that run under the mask: their trigger's function, WHEN clause (or moddatetime). */
const RUNS: Record<string, { fn?: string; when?: string; mod?: boolean }> = {
  rd_old: { fn: STAMP, when: ROWS },
  rd_new: { fn: STAMP, when: 'WHEN (NEW.* IS DISTINCT FROM OLD.*)' },
  rd_bare: { fn: STAMP, when: 'WHEN (OLD IS DISTINCT FROM NEW)' },
  dv_ok: { fn: DECLARED },
  md_ok: { mod: true },
};

/** Attacks: the trigger, and a statement that fails for row 1 and runs for row 3 (or the other way round) with no mask. */
const ATTACKS: Record<string, { fn?: string; when?: string; mod?: boolean; extra?: string; sql: (id: number) => string }> = {
  // The statement writes the masked column: the WHEN compares the stored email with the one written.
  ra_email: { fn: PROBE, when: ROWS, sql: (id) => `UPDATE public.ra_email SET email = '${CAROL}' WHERE id = ${id}` },
  ra_upsert: { fn: PROBE, when: ROWS, sql: (id) => `INSERT INTO public.ra_upsert (id, email) VALUES (${id}, '${CAROL}') ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email` },
  ra_or: { fn: PROBE, when: 'WHEN (OLD.* IS DISTINCT FROM NEW.* OR ascii(NEW.email) = 99)', sql: (id) => `UPDATE public.ra_or SET note = note WHERE id = ${id}` },
  dv_email: { fn: `DECLARE v text := NEW.email; BEGIN IF v < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`, sql: (id) => bump('dv_email', id) },
  dv_domain: { fn: 'DECLARE v peekdom := NEW.note; BEGIN RETURN NEW; END', sql: (id) => bump('dv_domain', id) },
  dv_rowtype: { fn: `DECLARE r public.dv_rowtype%ROWTYPE; BEGIN r := NEW; IF r.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`, sql: (id) => bump('dv_rowtype', id) },
  dv_select: {
    fn: `DECLARE v text; BEGIN SELECT t.email INTO v FROM public.dv_select t WHERE t.id = NEW.id; IF v < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
    sql: (id) => bump('dv_select', id),
  },
  md_chk: { mod: true, extra: `, CONSTRAINT md_chk_c CHECK (updated_at = '2000-01-01' OR ascii(email) <> 99)`, sql: (id) => bump('md_chk', id) },
  md_when: { mod: true, when: 'WHEN (1 / (ascii(NEW.email) - 99) <> 0)', sql: (id) => bump('md_when', id) },
  md_fake: { fn: `BEGIN IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; NEW.updated_at := now(); RETURN NEW; END`, sql: (id) => bump('md_fake', id) },
};

const PT = ['rd_pt'];
const ALL = [...Object.keys(RUNS), ...Object.keys(ATTACKS), 'rd_json', ...PT];
const GRANT = writersPolicy(ALL);
const MASK = emailRedactions(ALL);

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

const bump = (t: string, id: number) => `UPDATE public.${t} SET n = n + 1 WHERE id = ${id}`;
const table = (name: string, extra = '') =>
  `CREATE TABLE public.${name} (id int PRIMARY KEY, email text, note varchar, n int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT '2000-01-01'${extra});`;
/** The trigger of `name`: its own plpgsql function (moddatetime's lookalike in schema fake), or moddatetime. */
const trigger = (name: string, t: { fn?: string; when?: string; mod?: boolean }): string[] => {
  const schema = name === 'md_fake' ? 'fake' : 'public';
  const fn = t.mod ? 'public.moddatetime(updated_at)' : `${schema}.${name === 'md_fake' ? 'moddatetime' : `${name}_f`}()`;
  return [
    ...(t.fn ? [`CREATE FUNCTION ${schema}.${name === 'md_fake' ? 'moddatetime' : `${name}_f`}() RETURNS trigger LANGUAGE plpgsql AS $body$${t.fn}$body$;`] : []),
    `CREATE TRIGGER ${name}_t BEFORE UPDATE ON public.${name} FOR EACH ROW ${t.when ?? ''} EXECUTE FUNCTION ${fn};`,
  ];
};

before(async () => {
  db = await createTestDatabase({ prefix: 'e2etrf' });
  const sql: string[] = [
    // The functions name tables and types made further down.
    'SET check_function_bodies = off;',
    'CREATE EXTENSION moddatetime SCHEMA public;',
    'CREATE SCHEMA fake;',
    // A domain whose CHECK reads the email of the row holding the note it is given.
    `CREATE FUNCTION public.peek(v varchar) RETURNS boolean LANGUAGE sql AS $$ SELECT ascii(email) <> 99 FROM public.dv_domain WHERE note = v $$;`,
    `CREATE DOMAIN public.peekdom AS varchar CHECK (public.peek(VALUE));`,
  ];
  for (const [name, t] of Object.entries(RUNS)) sql.push(table(name), ...trigger(name, t));
  for (const [name, t] of Object.entries(ATTACKS)) sql.push(table(name, t.extra), ...trigger(name, t));
  // A json column after the others: record_eq reaches it only when every column before is equal.
  sql.push(table('rd_json', ', j json'), ...trigger('rd_json', { fn: STAMP, when: ROWS }));
  // A point column before the note: record_eq compares it on an UPDATE of the note.
  sql.push(`CREATE TABLE public.rd_pt (id int PRIMARY KEY, pt point, email text, note varchar, n int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT '2000-01-01');`, ...trigger('rd_pt', { fn: STAMP, when: ROWS }));
  await db.query(sql.join('\n'));
  for (const t of ALL) {
    const pt = PT.includes(t) ? ', pt' : '';
    const v = (id: number, email: string) => `(${id}, '${email}', 'r${id}'${pt ? `, point(${id}, 0)` : ''})`;
    await db.query(`INSERT INTO public.${t} (id, email, note${pt}) VALUES ${v(1, CAROL)}, ${v(2, DAVE)}, ${v(3, DAVE)}`);
  }
  await ownTables(db, ALL);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;

/** Each attack's outcome for rows `ids` through `w`: which failed in PostgreSQL (a refusal by Warden quoted). */
async function outcomes(w: SqlWarden, names: readonly string[], sql: (name: string, id: number) => string, ids = [1, 2]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const r: string[] = [];
    for (const id of ids) {
      const res = await w.query(sql(name, id));
      r.push(res.isError ? (/^WARDEN_BACKEND_ERROR/.test(res.text) ? 'fails' : res.text.slice(0, 200)) : 'runs');
    }
    out[name] = r.join(' / ');
  }
  return out;
}

/** The attacks' refusals under `w`, row 1 and row 3: the ones that did not refuse (empty when all did). */
async function unrefused(w: SqlWarden, names: readonly string[], sql: (name: string, id: number) => string): Promise<string[]> {
  const ran: string[] = [];
  for (const name of names) {
    for (const id of [1, 3]) {
      const q = sql(name, id);
      const r = await w.query(q);
      noLeak(r, q);
      if (!r.isError || !/^WARDEN_DENIED: masked column public\.\w+\.email would be /.test(r.text)) ran.push(`${name} (row ${id}): ${r.text.slice(0, 200)}`);
      else assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
    }
  }
  return ran;
}

describe('blind trigger forms: whole-row WHEN, DECLARE, moddatetime', () => {
  test('the channels are real: without the mask, one of rows 1 and 2 fails and the other runs', async () => {
    const seen = await outcomes(open, Object.keys(ATTACKS), (n, id) => ATTACKS[n]!.sql(id));
    const want = Object.fromEntries(Object.keys(ATTACKS).map((n) => [n, n === 'ra_email' || n === 'ra_upsert' ? 'runs / fails' : 'fails / runs']));
    assert.deepEqual(seen, want);
  });

  test('under the mask, the three forms run and the row changes', async () => {
    for (const t of Object.keys(RUNS)) {
      const sql = `UPDATE public.${t} SET note = 'y' WHERE id = 1`;
      const r = await masked.query(sql);
      noLeak(r, sql);
      ok(r, sql);
      const row = (await db.query(`SELECT note, n, updated_at > '2000-01-01' AS stamped FROM public.${t} WHERE id = 1`)).rows[0];
      assert.deepEqual(row, { note: 'y', n: t === 'dv_ok' ? 10 : 0, stamped: true }, t);
    }
    // The whole-row WHEN is false when nothing changes: no stamp.
    for (const t of ['rd_old', 'rd_new', 'rd_bare']) {
      ok(await masked.query(`UPDATE public.${t} SET note = note WHERE id = 2`), `${t}, nothing changed`);
      assert.equal((await db.query(`SELECT updated_at = '2000-01-01' AS same FROM public.${t} WHERE id = 2`)).rows[0]?.same, true, t);
    }
  });

  test('a json column after the masked one: the missing equality fails every row alike, or is never reached', async () => {
    const texts: string[] = [];
    for (const id of [1, 3]) {
      const r = await masked.query(`UPDATE public.rd_json SET note = note WHERE id = ${id}`);
      noLeak(r, 'rd_json');
      assert.equal(r.isError, true, r.text);
      // PostgreSQL's message (could not identify an equality operator for type json) is withheld under masks.
      assert.match(r.text, /SQLSTATE 42883/);
      texts.push(r.text);
    }
    assert.equal(texts[0], texts[1]);
    for (const id of [1, 3]) ok(await masked.query(bump('rd_json', id)), `rd_json, n changed (row ${id})`);
  });

  test('under the mask, every neighbour is refused before it runs, for either row', async () => {
    assert.deepEqual(await unrefused(masked, Object.keys(ATTACKS), (n, id) => ATTACKS[n]!.sql(id)), []);
    for (const t of Object.keys(ATTACKS)) assert.equal((await db.query(`SELECT n FROM public.${t} WHERE id = 3`)).rows[0]?.n, 0, t);
  });

  test('a default operator class for point whose equality reads the table: the whole-row WHEN is refused', async () => {
    await db.query(`
      CREATE FUNCTION public.pt_eq(a point, b point) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN IF (SELECT ascii(email) FROM public.rd_pt WHERE id = a[0]::int) = 99 THEN RAISE EXCEPTION 'probe'; END IF; RETURN a ~= b; END $$;
      CREATE FUNCTION public.pt_hash(point) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 0 $$;
      CREATE OPERATOR public.=== (LEFTARG = point, RIGHTARG = point, FUNCTION = public.pt_eq);
      CREATE OPERATOR CLASS public.pt_ops DEFAULT FOR TYPE point USING hash AS OPERATOR 1 public.===(point, point), FUNCTION 1 public.pt_hash(point);`);
    const open2 = await startSqlWarden(db, { 'p.yaml': GRANT }, sqlConfig());
    const masked2 = await startSqlWarden(db, { 'p.yaml': MASK + GRANT }, sqlConfig());
    try {
      const upd = (t: string, id: number) => `UPDATE public.${t} SET note = 'q' WHERE id = ${id}`;
      assert.deepEqual(await outcomes(open2, ['rd_pt'], upd, [1, 3]), { rd_pt: 'fails / runs' });
      // Every whole-row WHEN now: the class serves a built-in type any table may hold.
      assert.deepEqual(await unrefused(masked2, ['rd_pt', 'rd_old'], upd), []);
    } finally {
      await open2.close();
      await masked2.close();
    }
  });
});
