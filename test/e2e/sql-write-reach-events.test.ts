/**
 * Which change of rows runs which trigger or expression (write-reach.ts, widened-relations.ts,
 * write-runs-sql.ts), judged as PostgreSQL runs them, through `warden serve` against a real
 * PostgreSQL. Every function below (public.spy, public.audit) writes the write-denied
 * public.vault; the grant writes the tables but names no function:
 * - a DELETE evaluates no DEFAULT, generated column, CHECK, domain CHECK, index expression or
 *   partition key: it was refused for them (a refusal too many), and now runs, writing nothing
 *   to the vault; a trigger runs only for its events (an INSERT trigger does not refuse a DELETE;
 *   an ON DELETE one does);
 * - an UPDATE evaluates a column's (or its domain's) DEFAULT and a domain CHECK only for the
 *   columns it sets: one setting another column runs; a table CHECK, an index expression or
 *   predicate (every non-HOT update), a generated column and a partition key still refuse it;
 * - foreign keys: a DELETE of referenced rows runs ON DELETE SET DEFAULT / SET NULL as an UPDATE
 *   of the referencing table (its DEFAULTs, CHECKs and triggers still refuse), ON DELETE CASCADE
 *   as a DELETE of it (its triggers still refuse, its CHECK does not), and not its ON UPDATE
 *   actions; an UPDATE of the referenced key runs ON UPDATE CASCADE;
 * - a domain reached through a range type over it (a range of a domain with a CHECK) is followed.
 * Nothing a refused statement would have written reaches the vault.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, vaultDenyPolicy, type SqlWarden } from '../support/sql-warden.js';

const EXPRESSIONS = ['t_default', 't_check', 't_generated', 't_index', 't_partial', 't_domdefault', 't_domcheck', 't_composite', 't_keyed', 't_keyed_a', 't_range'];
const TRIGGERED = ['t_instrig', 't_deltrig'];
const PARENTS = ['p_setdefault', 'p_setnull', 'p_cascade', 'p_cascade_trig', 'p_both'];
const CHILDREN = ['c_setdefault', 'c_setnull', 'c_cascade', 'c_cascade_trig', 'c_both'];
const WRITABLE = [...EXPRESSIONS, ...TRIGGERED, ...PARENTS];

const POLICY = vaultDenyPolicy(WRITABLE);

let db: TestDatabase;
let w: SqlWarden | undefined;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreachev' });
  await db.query(`
    CREATE TABLE vault (body text);
    CREATE FUNCTION leak(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('spied ' || t); END $$;
    CREATE FUNCTION spy(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM public.leak(t); RETURN t; END $$;
    CREATE FUNCTION spy_int() RETURNS int VOLATILE LANGUAGE plpgsql AS $$ BEGIN PERFORM public.leak('int'); RETURN NULL; END $$;
    CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('audited'); RETURN NULL; END $$;
    CREATE TABLE t_default (id int, c text DEFAULT public.spy('default'));
    CREATE TABLE t_check (id int, c text, CONSTRAINT c_spy CHECK (public.spy(c) IS NOT NULL));
    CREATE TABLE t_generated (id int, c text, g text GENERATED ALWAYS AS (public.spy(c)) STORED);
    CREATE TABLE t_index (id int, c text);
    CREATE INDEX t_index_idx ON t_index ((public.spy(c)));
    CREATE TABLE t_partial (id int, c text);
    CREATE INDEX t_partial_idx ON t_partial (id) WHERE public.spy(c) IS NOT NULL;
    CREATE DOMAIN spied AS text DEFAULT public.spy('domain default');
    CREATE TABLE t_domdefault (id int, c public.spied);
    CREATE DOMAIN checked AS text CHECK (public.spy(VALUE) IS NOT NULL);
    CREATE TABLE t_domcheck (id int, c public.checked);
    CREATE TYPE pair AS (a public.checked, b int);
    CREATE TABLE t_composite (id int, p public.pair);
    CREATE TABLE t_keyed (id int, c text) PARTITION BY LIST (public.spy(c));
    CREATE TABLE t_keyed_a PARTITION OF t_keyed FOR VALUES IN ('a');
    CREATE DOMAIN checked_int AS int CHECK (public.spy(VALUE::text) IS NOT NULL);
    CREATE TYPE checked_range AS RANGE (subtype = public.checked_int);
    CREATE TABLE t_range (id int, r public.checked_range);
    CREATE TABLE t_instrig (id int);
    CREATE TRIGGER ins AFTER INSERT ON t_instrig FOR EACH ROW EXECUTE FUNCTION public.audit();
    CREATE TABLE t_deltrig (id int);
    CREATE TRIGGER del AFTER DELETE ON t_deltrig FOR EACH ROW EXECUTE FUNCTION public.audit();
    CREATE TABLE p_setdefault (id int PRIMARY KEY);
    CREATE TABLE c_setdefault (id int, pid int DEFAULT public.spy_int() REFERENCES p_setdefault ON DELETE SET DEFAULT);
    CREATE TABLE p_setnull (id int PRIMARY KEY);
    CREATE TABLE c_setnull (id int, pid int REFERENCES p_setnull ON DELETE SET NULL, CONSTRAINT ck CHECK (public.spy(id::text) IS NOT NULL));
    CREATE TABLE p_cascade (id int PRIMARY KEY);
    CREATE TABLE c_cascade (id int, pid int REFERENCES p_cascade ON DELETE CASCADE, c text DEFAULT public.spy('d'), CONSTRAINT ck CHECK (public.spy(id::text) IS NOT NULL));
    CREATE TABLE p_cascade_trig (id int PRIMARY KEY);
    CREATE TABLE c_cascade_trig (id int, pid int REFERENCES p_cascade_trig ON DELETE CASCADE);
    CREATE TRIGGER del AFTER DELETE ON c_cascade_trig FOR EACH ROW EXECUTE FUNCTION public.audit();
    CREATE TABLE p_both (id int PRIMARY KEY);
    CREATE TABLE c_both (id int, pid int REFERENCES p_both ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT ck CHECK (public.spy(id::text) IS NOT NULL));
  `);
  // Rows put in as the superuser (they ran the functions: the vault is emptied after).
  await db.query(`
    INSERT INTO t_default VALUES (1, 'a'); INSERT INTO t_check VALUES (1, 'a'); INSERT INTO t_generated (id, c) VALUES (1, 'a');
    INSERT INTO t_index VALUES (1, 'a'); INSERT INTO t_partial VALUES (1, 'a'); INSERT INTO t_domdefault VALUES (1, 'a');
    INSERT INTO t_domcheck VALUES (1, 'a'); INSERT INTO t_composite VALUES (1, ROW('a', 1)); INSERT INTO t_keyed VALUES (1, 'a');
    INSERT INTO t_range VALUES (1, public.checked_range(1, 5));
    INSERT INTO t_instrig VALUES (1); INSERT INTO t_deltrig VALUES (1);
    INSERT INTO p_setdefault VALUES (1); INSERT INTO c_setdefault VALUES (1, 1);
    INSERT INTO p_setnull VALUES (1); INSERT INTO c_setnull VALUES (1, 1);
    INSERT INTO p_cascade VALUES (1); INSERT INTO c_cascade VALUES (1, 1);
    INSERT INTO p_cascade_trig VALUES (1); INSERT INTO c_cascade_trig VALUES (1, 1);
    INSERT INTO p_both VALUES (1), (2); INSERT INTO c_both VALUES (1, 1), (2, 2);
    TRUNCATE vault;
  `);
  await ownTables(db, ['vault', ...WRITABLE, ...CHILDREN]);
  w = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await w?.close();
  await db?.drop();
});

const vault = async (): Promise<string[]> => (await db.query('SELECT body FROM vault ORDER BY body')).rows.map((r) => String(r.body));
const count = async (table: string): Promise<number> => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

/** Each statement runs (no refusal), and none of them ran a function that wrote the vault. */
async function runs(statements: readonly string[]): Promise<void> {
  const wrong: string[] = [];
  for (const sql of statements) {
    const r = await w!.query(sql);
    if (r.isError) wrong.push(`${sql} -> ${r.text.slice(0, 400)}`);
  }
  assert.deepEqual(wrong, [], 'every statement runs');
  assert.deepEqual(await vault(), [], 'nothing evaluated a function that wrote the vault');
}

/** Each statement is refused as deny rules cannot follow what it runs, naming it; the vault stays empty. */
async function refused(cases: readonly [string, RegExp][]): Promise<void> {
  const wrong: string[] = [];
  for (const [sql, what] of cases) {
    const r = await w!.query(sql);
    const ok = r.isError && /^WARDEN_DENIED: deny rules cannot be followed into /.test(r.text) && what.test(r.text) && /no-vault/.test(r.text);
    if (!ok) wrong.push(`${sql} -> ${r.text.slice(0, 600)}`);
  }
  assert.deepEqual(wrong, [], 'every statement refused, naming what it runs');
  assert.deepEqual(await vault(), []);
}

describe('UPDATE', () => {
  test('setting another column runs: a column DEFAULT, a domain DEFAULT or CHECK (also through a composite or a range) is not evaluated', async () => {
    await runs(['UPDATE t_default SET id = 2', 'UPDATE t_domdefault SET id = 2', 'UPDATE t_domcheck SET id = 2', 'UPDATE t_composite SET id = 2', 'UPDATE t_range SET id = 2']);
  });

  test('what every updated row evaluates still refuses it; so does setting the column', async () => {
    await refused([
      ['UPDATE t_default SET c = DEFAULT', /column public\.t_default\.c's DEFAULT/],
      ["UPDATE t_domcheck SET c = 'b'", /domain public\.checked's CHECK checked_check on public\.t_domcheck\.c/],
      ['UPDATE t_range SET r = NULL', /domain public\.checked_int's CHECK checked_int_check on public\.t_range\.r/],
      ['UPDATE t_check SET id = 2', /table public\.t_check's CHECK c_spy/],
      ['UPDATE t_index SET id = 2', /index public\.t_index_idx's expression/],
      ['UPDATE t_partial SET id = 2', /index public\.t_partial_idx's predicate/],
      ['UPDATE t_generated SET id = 2', /generated column public\.t_generated\.g/],
      ['UPDATE t_keyed SET id = 2', /partition key of public\.t_keyed/],
    ]);
  });
});

describe('INSERT', () => {
  test('a range over a domain with a CHECK is followed', async () => {
    await refused([["INSERT INTO t_range VALUES (2, '[1,3)')", /domain public\.checked_int's CHECK checked_int_check on public\.t_range\.r/]]);
  });
});

describe('DELETE', () => {
  test('a DELETE evaluates no expression: each runs, and nothing reaches the vault', async () => {
    await runs([...EXPRESSIONS.map((t) => `DELETE FROM ${t}`), 'DELETE FROM t_instrig']);
    for (const t of EXPRESSIONS) assert.equal(await count(t), 0, t);
  });

  test('an ON DELETE trigger still refuses it', async () => {
    await refused([['DELETE FROM t_deltrig', /trigger del on public\.t_deltrig.*public\.audit/s]]);
    assert.equal(await count('t_deltrig'), 1);
  });

  test('ON DELETE SET DEFAULT / SET NULL update the referencing table: its DEFAULT and CHECK refuse the DELETE', async () => {
    await refused([
      ['DELETE FROM p_setdefault', /column public\.c_setdefault\.pid's DEFAULT \(public\.p_setdefault changes, through a foreign key ON DELETE SET DEFAULT, the rows of public\.c_setdefault/],
      ['DELETE FROM p_setnull', /table public\.c_setnull's CHECK ck \(public\.p_setnull changes, through a foreign key ON DELETE SET NULL, the rows of public\.c_setnull/],
    ]);
    assert.equal(await count('c_setdefault WHERE pid = 1'), 1);
    assert.equal(await count('c_setnull WHERE pid = 1'), 1);
  });

  test('ON DELETE CASCADE deletes from the referencing table: its triggers refuse, its CHECK and DEFAULT do not', async () => {
    await refused([['DELETE FROM p_cascade_trig', /trigger del on public\.c_cascade_trig/]]);
    assert.equal(await count('c_cascade_trig'), 1);
    await runs(['DELETE FROM p_cascade', 'DELETE FROM p_both WHERE id = 1']);
    assert.equal(await count('c_cascade'), 0);
    assert.equal(await count('c_both WHERE pid = 1'), 0);
  });

  test('an UPDATE of the referenced key runs ON UPDATE CASCADE: the referencing CHECK refuses it', async () => {
    await refused([['UPDATE p_both SET id = 3 WHERE id = 2', /table public\.c_both's CHECK ck \(public\.p_both changes, through a foreign key ON DELETE CASCADE \/ ON UPDATE CASCADE/]]);
    assert.equal(await count('c_both WHERE pid = 2'), 1);
  });
});
