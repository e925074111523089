/**
 * Write-side oracles on a masked column that an UPDATE reaches beyond the row it names, end to
 * end against a real PostgreSQL (constraint-oracles.ts, sized-writes.ts):
 * - a foreign key ON UPDATE CASCADE / SET NULL / SET DEFAULT: `UPDATE parent SET id = id + 100`
 *   updates the child's key, and the child's CHECK, trigger or generated column computes over
 *   its masked email (also two foreign keys down);
 * - a plain index over (email, note): `SET note = '<N bytes>'` fails (54000) from an N that
 *   tells length(email).
 * Each fails on one row and not the other without the mask, and is refused under it; an UPDATE
 * of a parent's other column, a cascade into a child computing nothing over the email, a short
 * literal or parameter, a fixed-length column beside the email, still run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const MASKED = ['u_chk', 'u_trg', 'u_gen', 'u_leaf', 'u_plain', 'u_tree', 's_idx', 's_num', 's_part', 's_gen'];
const TABLES = [...MASKED, 'u_par', 'u_par2', 'u_par3', 'u_par4', 'u_mid', 'u_par5', 's_pa', 's_pb'];
const GRANT = writersPolicy(TABLES);
const MASK = emailRedactions(MASKED);

const CAROL = 'carol.anne.lewis@example.com';
const DAVE = 'dave@example.com';
/** Incompressible text (pglz finds no repeats to shrink), cut to the length probed. */
const NOISE = randomBytes(3000).toString('base64url');

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eupcas' });
  await db.query(`
    CREATE FUNCTION probe_new() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF ascii(NEW.email) = 99 THEN RAISE EXCEPTION 'probe'; END IF; RETURN NEW; END $$;
    -- ON UPDATE CASCADE moves the child's key past 100, where its CHECK asks the email.
    CREATE TABLE u_par (id int PRIMARY KEY, note text);
    CREATE TABLE u_chk (id int PRIMARY KEY, pid int REFERENCES u_par ON UPDATE CASCADE, email text,
      CONSTRAINT u_chk_c CHECK (pid < 100 OR ascii(email) <> 99));
    -- ON UPDATE SET NULL fires the child's UPDATE trigger over the email.
    CREATE TABLE u_par2 (id int PRIMARY KEY);
    CREATE TABLE u_trg (id int PRIMARY KEY, pid int REFERENCES u_par2 ON UPDATE SET NULL, email text);
    CREATE TRIGGER u_trg_t BEFORE UPDATE ON u_trg FOR EACH ROW EXECUTE FUNCTION probe_new();
    -- ON UPDATE SET DEFAULT computes the child's generated column anew: it divides by zero for 'c'.
    CREATE TABLE u_par3 (id int PRIMARY KEY);
    CREATE TABLE u_gen (id int PRIMARY KEY, pid int DEFAULT 0 REFERENCES u_par3 ON UPDATE SET DEFAULT, email text,
      g int GENERATED ALWAYS AS (CASE WHEN pid = 0 THEN 1 / (ascii(email) - 99) ELSE 0 END) STORED);
    -- Two foreign keys down: u_par4 -> u_mid -> u_leaf, whose CHECK asks the email.
    CREATE TABLE u_par4 (id int PRIMARY KEY);
    CREATE TABLE u_mid (id int PRIMARY KEY, ref int UNIQUE REFERENCES u_par4 ON UPDATE CASCADE);
    CREATE TABLE u_leaf (id int PRIMARY KEY, mref int REFERENCES u_mid (ref) ON UPDATE CASCADE, email text,
      CONSTRAINT u_leaf_c CHECK (mref < 100 OR ascii(email) <> 99));
    -- Neighbour: a cascade into a masked table computing nothing over the email.
    CREATE TABLE u_par5 (id int PRIMARY KEY);
    CREATE TABLE u_plain (id int PRIMARY KEY, pid int REFERENCES u_par5 ON UPDATE CASCADE, email text);
    -- Neighbour: a table referencing itself ON UPDATE CASCADE (followed once), computing nothing over the email.
    CREATE TABLE u_tree (id int PRIMARY KEY, up int REFERENCES u_tree ON UPDATE CASCADE, email text);
    INSERT INTO u_tree VALUES (1, NULL, '${CAROL}'), (2, 1, '${DAVE}'), (3, 2, '${DAVE}');
    -- A plain index over the masked email and a written note; a fixed-length column beside it.
    CREATE TABLE s_idx (id int PRIMARY KEY, email text, note text);
    CREATE INDEX s_idx_en ON s_idx (email, note);
    CREATE TABLE s_num (id int PRIMARY KEY, email text, n int);
    CREATE INDEX s_num_en ON s_num (email, n);
    -- A row moved into s_pb is indexed there anew, email beside its long body, written or not.
    CREATE TABLE s_part (id int, part text, email text, body text) PARTITION BY LIST (part);
    CREATE TABLE s_pa PARTITION OF s_part FOR VALUES IN ('a');
    CREATE TABLE s_pb PARTITION OF s_part FOR VALUES IN ('b');
    CREATE INDEX s_pb_eb ON s_pb (email, body);
    -- A generated column grows a short written value: indexed beside the email, it is not sized.
    CREATE TABLE s_gen (id int PRIMARY KEY, email text, note text, g text GENERATED ALWAYS AS (repeat(note, 20)) STORED);
    CREATE INDEX s_gen_eg ON s_gen (email, g);
  `);
  await db.query(`INSERT INTO s_part VALUES (1, 'a', '${CAROL}', '${NOISE.slice(0, 2650)}')`);
  for (const t of ['u_par2', 'u_par3', 'u_par4', 'u_par5']) await db.query(`INSERT INTO ${t} VALUES (0), (1), (2), (3)`);
  await db.query(`INSERT INTO u_par VALUES (0, 'x'), (1, 'x'), (2, 'x'), (3, 'x')`);
  await db.query('INSERT INTO u_mid VALUES (1, 1), (2, 2), (3, 3)');
  for (const t of ['u_chk', 'u_trg', 'u_gen', 'u_leaf', 'u_plain']) {
    await db.query(`INSERT INTO ${t} (id, ${t === 'u_leaf' ? 'mref' : 'pid'}, email) VALUES (1, 1, '${CAROL}'), (2, 2, '${DAVE}'), (3, 3, '${DAVE}')`);
  }
  for (const t of ['s_idx', 's_num', 's_gen']) await db.query(`INSERT INTO ${t} (id, email) VALUES (1, '${CAROL}'), (2, '${DAVE}'), (3, '${DAVE}')`);
  await ownTables(db, TABLES);
  await db.query(`ALTER FUNCTION public.probe_new() OWNER TO ${db.role}`);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;
const answer = (r: Result): string => (r.isError ? 'error' : 'ran');
const call = (w: SqlWarden, sql: string, params: unknown[]) => w.w.call('query_database', { connection: 'db', sql, params });

/** The cascades: on row 1 (email 'c...') each fails, on row 2 ('d...') each runs. */
const CASCADES: { name: string; table: string; by: RegExp }[] = [
  { name: 'ON UPDATE CASCADE into a CHECK', table: 'u_par', by: /constraint u_chk_c of public\.u_chk\b.*foreign key u_chk_pid_fkey of public\.u_chk ON UPDATE CASCADE/ },
  { name: 'ON UPDATE SET NULL into a trigger', table: 'u_par2', by: /trigger u_trg_t of public\.u_trg\b.*foreign key u_trg_pid_fkey/ },
  { name: 'ON UPDATE SET DEFAULT into a generated column', table: 'u_par3', by: /generated column g of public\.u_gen\b.*foreign key u_gen_pid_fkey/ },
  { name: 'two ON UPDATE CASCADEs into a CHECK', table: 'u_par4', by: /constraint u_leaf_c of public\.u_leaf\b.*foreign key u_leaf_mref_fkey/ },
];
const bump = (table: string, id: number) => `UPDATE public.${table} SET id = id + 100 WHERE id = ${id}`;
const note = (n: number) => `UPDATE public.s_idx SET note = '${NOISE.slice(0, n)}' WHERE id = `;

describe('UPDATE of a referenced key: the ON UPDATE action reaches a masked column', () => {
  test('the channel is real: without the mask, row 1 and row 2 answer differently', async () => {
    for (const c of CASCADES) {
      const one = answer(await open.query(bump(c.table, 1)));
      const two = answer(await open.query(bump(c.table, 2)));
      assert.deepEqual([one, two], ['error', 'ran'], c.name);
    }
  });

  test('under the mask, each is refused before it runs', async () => {
    const ran: string[] = [];
    for (const c of CASCADES) {
      const sql = bump(c.table, 3);
      const r = await masked.query(sql);
      noLeak(r, sql);
      if (!r.isError || !/^WARDEN_DENIED: /.test(r.text)) {
        ran.push(`${c.name}: ${r.text.slice(0, 160)}`);
        continue;
      }
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.\w+\.email would be (read|checked) by /, sql);
      assert.match(r.text, c.by, sql);
      assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
    }
    // An upsert whose DO UPDATE writes the referenced key sets off the same action.
    const upsert = 'INSERT INTO public.u_par (id) VALUES (3) ON CONFLICT (id) DO UPDATE SET id = 103';
    const r = await masked.query(upsert);
    noLeak(r, upsert);
    if (!r.isError || !CASCADES[0]!.by.test(r.text)) ran.push(`upsert: ${r.text.slice(0, 160)}`);
    assert.deepEqual(ran, []);
    for (const c of CASCADES) assert.equal((await db.query(`SELECT 1 FROM ${c.table} WHERE id = 3`)).rowCount, 1, c.name);
  });

  test("an UPDATE of the parent's other columns, or a cascade into a child computing nothing over the email, runs", async () => {
    for (const sql of ["UPDATE public.u_par SET note = 'y' WHERE id = 3", bump('u_par5', 3), bump('u_tree', 2)]) ok(await masked.query(sql), sql);
    assert.equal((await db.query('SELECT 1 FROM u_plain WHERE pid = 103')).rowCount, 1);
    assert.equal((await db.query('SELECT 1 FROM u_tree WHERE up = 102')).rowCount, 1);
  });
});

describe('UPDATE of a column sharing a plain index with a masked column: the index row size', () => {
  test('the channel is real: without the mask, some length fails on one row only', async () => {
    // The longest note each row takes, found as the admin in transactions rolled back.
    const fits = async (id: number, n: number): Promise<boolean> => {
      try {
        await db.query(`BEGIN; ${note(n)}${id}; ROLLBACK`);
        return true;
      } catch {
        await db.query('ROLLBACK');
        return false;
      }
    };
    let n = 2600;
    while (n < 2800 && (await fits(1, n)) === (await fits(2, n))) n++;
    assert.ok(n < 2800, 'no length told the two emails apart');
    assert.deepEqual([answer(await open.query(note(n) + '1')), answer(await open.query(note(n) + '2'))], ['error', 'ran'], `length ${n}`);
    // The same through a parameter.
    assert.equal(answer(await call(open, 'UPDATE public.s_idx SET note = $1 WHERE id = 1', [NOISE.slice(0, n)])), 'error');
  });

  test('under the mask, a long or computed value is refused before it runs', async () => {
    const ran: string[] = [];
    const probes: [string, unknown[]][] = [
      [note(2700) + '3', []],
      [note(257) + '3', []],
      ['UPDATE public.s_idx SET note = $1 WHERE id = 3', [NOISE.slice(0, 2700)]],
      ["UPDATE public.s_idx SET note = repeat('x', 2700) WHERE id = 3", []],
      ["UPDATE public.s_idx SET note = 'a' || $1 WHERE id = 3", ['b']],
      ["UPDATE public.s_idx SET note = 'ab'::char(3000) WHERE id = 3", []],
      ['UPDATE public.s_idx SET note = note WHERE id = 3', []],
      // EXCLUDED.note is sized as the VALUES give it (a short one runs: sql-masked-write-usability.test.ts).
      [`INSERT INTO public.s_idx (id, note) VALUES (3, '${NOISE.slice(0, 2700)}') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note`, []],
      [`INSERT INTO public.s_idx (id, note) VALUES (3, 'x') ON CONFLICT (id) DO UPDATE SET note = '${NOISE.slice(0, 2700)}'`, []],
      ["UPDATE public.s_part SET part = 'b' WHERE id = 1", []],
      ["UPDATE public.s_gen SET note = 'short' WHERE id = 1", []],
    ];
    for (const [sql, params] of probes) {
      const r = await call(masked, sql, params);
      noLeak(r, sql);
      if (!r.isError || !/^WARDEN_DENIED: masked column public\.s_(idx|part|gen)\.email would be sized by index s_(idx_en|pb_eb|gen_eg) of public\.s_(idx|pb|gen)\b/.test(r.text)) {
        ran.push(`${sql.slice(0, 80)}: ${r.text.slice(0, 160)}`);
        continue;
      }
      assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
    }
    assert.deepEqual(ran, []);
    assert.equal((await db.query('SELECT 1 FROM s_idx WHERE id = 3 AND note IS NULL')).rowCount, 1);
    // Writing the masked value back beside a long one is a copy of it: refused too (masked-copies.ts).
    const back = `UPDATE public.s_idx SET email = email, note = '${NOISE.slice(0, 2700)}' WHERE id = 3`;
    const r = await masked.query(back);
    noLeak(r, back);
    assert.match(r.text, /^WARDEN_DENIED: /, back);
  });

  test('a short literal or parameter, a fixed-length column, the masked column itself, run', async () => {
    for (const [sql, params] of [
      ["UPDATE public.s_idx SET note = 'short' WHERE id = 3", []],
      [note(256) + '3', []],
      ['UPDATE public.s_idx SET note = $1 WHERE id = 3', ['a short note']],
      ['UPDATE public.s_idx SET note = NULL, id = id + 10 WHERE id = 3', []],
      ["UPDATE public.s_idx SET email = repeat('x', 10), note = repeat('y', 10) WHERE id = 13", []],
      ["INSERT INTO public.s_idx (id, note) VALUES (13, 'x') ON CONFLICT (id) DO UPDATE SET note = 'upserted'", []],
      ['UPDATE public.s_num SET n = n + 1 WHERE id = 3', []],
      ["UPDATE public.s_part SET body = 'short' WHERE id = 1", []],
    ] as [string, unknown[]][]) ok(await call(masked, sql, params), sql);
    assert.equal((await db.query("SELECT 1 FROM s_idx WHERE id = 13 AND note = 'upserted'")).rowCount, 1);
  });
});
