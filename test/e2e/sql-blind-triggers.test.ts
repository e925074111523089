/**
 * Triggers blind to the masked columns, end to end against a real PostgreSQL
 * (trigger-bodies.ts, constraint-oracles.ts): under masks an UPDATE or DELETE of a table whose
 * firing triggers Warden reads as blind to its masked columns runs (the ubiquitous `updated_at`
 * stamp, a stamp under a WHEN over unmasked columns, a DELETE trigger returning OLD), and the row
 * really changes. What is not recognised stays refused, each a real channel where the mask is off
 * (row 1's email starts with 'c', row 2's with 'd': the statement fails on row 1 only):
 * - a function raising on NEW.email, spelled "email" or EMAIL;
 * - whole-row reads: row_to_json(NEW), NEW::text;
 * - EXECUTE format(...), PERFORM and SELECT of the table, a user function called with NEW.note
 *   that reads the table, a built-in name a public function shadows (upper(varchar));
 * - attack code a careless tokenizer would take for a comment or a string: `--` in a string,
 *   E'\'--', a $q$ string holding a quote, nested comments;
 * - a WHEN clause over NEW.email (the function itself blind);
 * - a blind trigger writing a column a CHECK reads beside the masked one (`NEW.stamp := NEW.stamp + 1`
 *   under `CHECK (stamp = 0 OR ascii(email) <> 99)`): what a trigger assigns counts as written.
 * And refused though blind-looking: SECURITY DEFINER, SET search_path, U& identifiers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

/** Attack bodies (BEFORE UPDATE on a table of their own): each fails on row 1, runs on row 2, with no mask. */
const ATTACKS: Record<string, string> = {
  a_raise: `BEGIN IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_quoted: `BEGIN IF NEW."email" < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_upper: `BEGIN IF NeW.EMAIL < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_rowjson: `BEGIN IF row_to_json(NEW)->>'email' LIKE 'c%' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_rowtext: `BEGIN IF NEW::text LIKE '(_,c%' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_exec: `BEGIN EXECUTE format('SELECT 1 / (ascii(($1).%I) - 99)', 'em' || 'ail') USING NEW; RETURN NEW; END`,
  a_perform: `BEGIN PERFORM 1 / (ascii(t.email) - 99) FROM public.a_perform t WHERE t.id = NEW.id; RETURN NEW; END`,
  a_select: `BEGIN IF (SELECT ascii(t.email) FROM public.a_select t WHERE t.id = NEW.id) = 99 THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_userfn: `BEGIN IF peek(NEW.note) THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_shadow: `BEGIN NEW.note := upper(NEW.note); RETURN NEW; END`,
  a_dash: `BEGIN RAISE NOTICE '--'; IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_estr: `BEGIN RAISE NOTICE E'\\'--'; IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
  a_dollar: `BEGIN RAISE NOTICE '%', $q$ it's $q$; IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RAISE NOTICE 'x'; RETURN NEW; END`,
  a_nested: `BEGIN /* a /* b */ */ IF NEW.email < 'd' THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END`,
};

/** Blind-looking bodies refused all the same (not a channel here: the rule is tighter than needed). */
const REFUSED: Record<string, { body: string; opts?: string }> = {
  r_secdef: { body: 'BEGIN NEW.updated_at := now(); RETURN NEW; END', opts: 'SECURITY DEFINER' },
  r_path: { body: 'BEGIN NEW.updated_at := now(); RETURN NEW; END', opts: 'SET search_path = public, pg_catalog' },
  r_uescape: { body: `BEGIN IF ascii(NEW.U&"\\0065mail") = 99 THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END` },
  r_assign: { body: 'DECLARE r record; BEGIN r := NEW; RETURN NEW; END' },
  // NEW IS DISTINCT FROM OLD is read now (judged as a whole-row WHEN: sql-masked-write-usability.test.ts); NEW IS NULL tests every column.
  r_distinct: { body: 'BEGIN IF NEW IS NULL THEN NEW.updated_at := now(); END IF; RETURN NEW; END' },
};

/** The stamps that run: the plain one, one written with comments and strings a tokenizer must read right. */
const STAMP = 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
const BUSY_STAMP = `
  /* a stamp /* nested */ still a comment: NEW.email */
  BEGIN
    -- NEW.email is not read here
    IF TG_OP = 'UPDATE' AND NEW.note IS DISTINCT FROM 'skip -- /* NEW.email' THEN
      NEW.updated_at = clock_timestamp(); -- stamp
      NEW.note := coalesce(NEW.note, $q$it's$q$ || E'\\'x');
    END IF;
    RETURN NEW;
  END`;

const OTHERS = ['stamp', 'stamp_busy', 'stamp_when', 'del_ok', 'w_email', 'chk_stamp'];
const MASKED = [...Object.keys(ATTACKS), ...Object.keys(REFUSED), ...OTHERS];
const GRANT = writersPolicy(MASKED);
const MASK = emailRedactions(MASKED);

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

const fn = (name: string, body: string, opts = '') =>
  `CREATE FUNCTION public.${name}_f() RETURNS trigger LANGUAGE plpgsql ${opts} AS $body$${body}$body$;`;
const table = (name: string, extra = '') =>
  `CREATE TABLE public.${name} (id int PRIMARY KEY, email text, note varchar, n int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT '2000-01-01'${extra});`;
const trigger = (name: string, fnName: string, when = '', event = 'UPDATE') =>
  `CREATE TRIGGER ${name}_t BEFORE ${event} ON public.${name} FOR EACH ROW ${when} EXECUTE FUNCTION public.${fnName}_f();`;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2etrg' });
  const sql: string[] = [
    fn('stamp', STAMP),
    fn('stamp_busy', BUSY_STAMP),
    fn('keep', 'BEGIN RETURN OLD; END'),
    fn('bump', 'BEGIN NEW.stamp := NEW.stamp + 1; RETURN NEW; END'),
    table('stamp'),
    trigger('stamp', 'stamp'),
    table('stamp_busy'),
    trigger('stamp_busy', 'stamp_busy'),
    table('stamp_when'),
    trigger('stamp_when', 'stamp', 'WHEN (OLD.note IS DISTINCT FROM NEW.note)'),
    table('del_ok'),
    trigger('del_ok', 'keep', '', 'DELETE'),
    // A blind function under a WHEN that divides by zero exactly for an email starting with 'c'.
    table('w_email'),
    trigger('w_email', 'stamp', 'WHEN (1 / (ascii(NEW.email) - 99) <> 0)'),
    // A blind trigger writes stamp, which a CHECK reads beside the masked email.
    table('chk_stamp', ', stamp int NOT NULL DEFAULT 0, CONSTRAINT chk_stamp_c CHECK (stamp = 0 OR ascii(email) <> 99)'),
    trigger('chk_stamp', 'bump'),
  ];
  for (const [name, body] of Object.entries(ATTACKS)) sql.push(fn(name, body), table(name), trigger(name, name));
  for (const [name, r] of Object.entries(REFUSED)) sql.push(fn(name, r.body, r.opts), table(name), trigger(name, name));
  sql.push(
    // A user function that reads the table by the note it is given.
    `CREATE FUNCTION public.peek(v varchar) RETURNS boolean LANGUAGE sql AS $$ SELECT ascii(email) = 99 FROM public.a_userfn WHERE note = v $$;`,
    // A public upper(varchar) is a better match than pg_catalog.upper(text) for a varchar argument.
    `CREATE FUNCTION public.upper(v varchar) RETURNS text LANGUAGE sql
      AS $$ SELECT pg_catalog.upper(v) || (SELECT 1 / (ascii(email) - 99) FROM public.a_shadow WHERE note = v)::text $$;`,
  );
  await db.query(sql.join('\n'));
  for (const t of MASKED) await db.query(`INSERT INTO public.${t} (id, email, note) VALUES (1, '${CAROL}', 'r1'), (2, '${DAVE}', 'r2'), (3, '${DAVE}', 'r3')`);
  await ownTables(db, MASKED);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;
const failed = (r: Result, what: string): void => assert.equal(r.isError, true, `${what} must fail: ${r.text.slice(0, 300)}`);
const bump = (t: string, id: number) => `UPDATE public.${t} SET n = n + 1 WHERE id = ${id}`;

/** The attacks that read NEW.email itself, in a spelling or past a comment or string: refused for naming it. */
const NAMING = ['a_raise', 'a_quoted', 'a_upper', 'a_dash', 'a_estr', 'a_dollar', 'a_nested'];

/** The attacks with a real channel, and what each refusal names. */
const PROBES: { name: string; by: RegExp }[] = [
  ...Object.keys(ATTACKS).map((t) => ({ name: t, by: new RegExp(`trigger ${t}_t of public\\.${t}\\b.*${NAMING.includes(t) ? 'its function names email' : ''}`) })),
  { name: 'w_email', by: /trigger w_email_t of public\.w_email\b/ },
  { name: 'chk_stamp', by: /constraint chk_stamp_c of public\.chk_stamp\b/ },
];

describe('triggers blind to the masked columns', () => {
  test('the channels are real: without the mask, row 1 fails and row 2 runs', async () => {
    for (const p of PROBES) {
      failed(await open.query(bump(p.name, 1)), `${p.name}, row 1`);
      ok(await open.query(bump(p.name, 2)), `${p.name}, row 2`);
    }
  });

  test('under the mask, an UPDATE or DELETE whose triggers are blind runs, and the row changes', async () => {
    for (const t of ['stamp', 'stamp_busy', 'stamp_when']) {
      const sql = `UPDATE public.${t} SET note = 'y' WHERE id = 1`;
      const r = await masked.query(sql);
      noLeak(r, sql);
      ok(r, sql);
      const row = (await db.query(`SELECT note, updated_at > '2000-01-01' AS stamped FROM public.${t} WHERE id = 1`)).rows[0] as { note: string; stamped: boolean };
      assert.deepEqual(row, { note: 'y', stamped: true }, t);
    }
    // The WHEN over note does not fire when note is unchanged: no stamp.
    ok(await masked.query('UPDATE public.stamp_when SET n = 5 WHERE id = 2'), 'stamp_when, note unchanged');
    assert.equal((await db.query(`SELECT updated_at = '2000-01-01' AS same FROM public.stamp_when WHERE id = 2`)).rows[0]?.same, true);
    // RETURNING the stamp: the statement's own columns, no masked one.
    const ret = await masked.query(`UPDATE public.stamp SET note = 'z' WHERE id = 2 RETURNING id, note`);
    ok(ret, 'RETURNING');
    ok(await masked.query('DELETE FROM public.del_ok WHERE id = 1'), 'blind DELETE trigger');
    assert.equal((await db.query('SELECT 1 FROM public.del_ok WHERE id = 1')).rowCount, 0);
  });

  test('under the mask, every attack is refused before it runs, for either row', async () => {
    const ran: string[] = [];
    for (const p of PROBES) {
      for (const id of [1, 3]) {
        const sql = bump(p.name, id);
        const r = await masked.query(sql);
        noLeak(r, sql);
        if (!r.isError || !/^WARDEN_DENIED: /.test(r.text)) {
          ran.push(`${p.name} (row ${id}): ${r.text.slice(0, 160)}`);
          continue;
        }
        assert.match(r.text, /^WARDEN_DENIED: masked column public\.\w+\.email would be (read|checked) by /, sql);
        assert.match(r.text, p.by, sql);
        assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
      }
    }
    assert.deepEqual(ran, []);
    for (const p of PROBES) assert.equal((await db.query(`SELECT n FROM public.${p.name} WHERE id = 3`)).rows[0]?.n, 0, p.name);
  });

  test('blind-looking functions outside the rule (SECURITY DEFINER, SET, U& names, whole-row use) stay refused', async () => {
    const ran: string[] = [];
    for (const t of Object.keys(REFUSED)) {
      const sql = bump(t, 3);
      const r = await masked.query(sql);
      noLeak(r, sql);
      if (!r.isError || !/^WARDEN_DENIED: masked column public\.\w+\.email would be read by trigger /.test(r.text)) ran.push(`${t}: ${r.text.slice(0, 160)}`);
    }
    assert.deepEqual(ran, []);
  });
});
