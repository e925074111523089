/**
 * Write-side oracles on a masked column, through `warden serve` against a real PostgreSQL: a
 * constraint the catalog holds, evaluated on a row whose masked value the statement leaves as it
 * is, answers by success or failure (23514, 23503) a question about the value (constraint-oracles.ts).
 * - An UPDATE of a table with a CHECK over a masked column added NOT VALID (`UPDATE t SET id =
 *   id WHERE id = 2` checks row 2's email), or with a validated CHECK reading another column the
 *   UPDATE writes (`SET lim = 10` under `CHECK (length(email) < lim)`), or an upsert whose
 *   DO UPDATE does the same: refused. An UPDATE writing no column such a CHECK reads runs.
 * - An UPDATE moving a row into a partition whose CHECK reads the masked column, or writing a
 *   column a partial unique index reads whose predicate reads it: refused.
 * - VALIDATE CONSTRAINT of a foreign key whose referenced column is masked: refused, though the
 *   referencing table has no masked column; VALIDATE of a CHECK over unmasked columns runs.
 * - A unique or foreign key violation over a masked column answers an equality with a constant,
 *   as `WHERE email = $1` does under masks, and its message quotes no value (the key is in the
 *   DETAIL, which never travels).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll } from '../support/sql-warden.js';

const TABLES = ['users', 'members', 'plain', 'people', 'refs', 'parted', 'p_a', 'p_b', 'ux', 'stamped'];
const RELATIONS = [...TABLES, 'users_v'];

const GRANT = `
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete, alter]
      read: [${RELATIONS.map((t) => `public.${t}`).join(', ')}]
      write: [${RELATIONS.map((t) => `public.${t}`).join(', ')}]
      functions: [length, ascii, lower]
`;

const MASK = `
masking:
  columns:
    - { column: public.users.email, with: redact }
    - { column: public.members.email, with: redact }
    - { column: public.people.email, with: redact }
    - { column: public.parted.email, with: redact }
    - { column: public.ux.email, with: redact }
    - { column: public.stamped.email, with: redact }
`;

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2econor' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text, lim int);
    INSERT INTO users VALUES (1, 'c', '${CAROL}', 100), (2, 'd', '${DAVE}', 100);
    -- 'c' is 99, 'd' 100: row 1 satisfies it, row 2 does not.
    ALTER TABLE users ADD CONSTRAINT probe CHECK (ascii(email) < 100) NOT VALID;
    CREATE VIEW users_v AS SELECT id, name FROM users;
    CREATE TABLE members (id int PRIMARY KEY, name text, email text, lim int,
      CONSTRAINT lenlim CHECK (length(email) < lim), CONSTRAINT has_at CHECK (email LIKE '%@%'));
    INSERT INTO members VALUES (1, 'c', '${CAROL}', 100);
    CREATE TABLE plain (id int PRIMARY KEY, body text);
    INSERT INTO plain VALUES (1, 'a long body');
    ALTER TABLE plain ADD CONSTRAINT body_short CHECK (length(body) < 5) NOT VALID;
    CREATE TABLE people (id int PRIMARY KEY, email text UNIQUE);
    INSERT INTO people VALUES (1, '${CAROL}');
    CREATE TABLE refs (id int PRIMARY KEY, ref text);
    INSERT INTO refs VALUES (1, '${DAVE}');
    ALTER TABLE refs ADD CONSTRAINT refs_fk FOREIGN KEY (ref) REFERENCES people (email) NOT VALID;
    ALTER TABLE refs ADD CONSTRAINT refs_id CHECK (id > 0) NOT VALID;
    CREATE TABLE parted (id int, part text, email text) PARTITION BY LIST (part);
    CREATE TABLE p_a PARTITION OF parted FOR VALUES IN ('a');
    CREATE TABLE p_b PARTITION OF parted FOR VALUES IN ('b');
    ALTER TABLE p_b ADD CONSTRAINT pb_probe CHECK (ascii(email) < 100);
    INSERT INTO parted VALUES (1, 'a', '${DAVE}');
    CREATE TABLE ux (id int PRIMARY KEY, name text, email text);
    CREATE UNIQUE INDEX ux_partial ON ux (name) WHERE ascii(email) < 100;
    CREATE UNIQUE INDEX ux_lower ON ux (lower(email));
    -- now() is STABLE: the CHECK's answer may change with nothing written.
    CREATE TABLE stamped (id int PRIMARY KEY, name text, email text,
      CONSTRAINT by_year CHECK (length(email) < extract(year FROM now())::int));
    INSERT INTO stamped VALUES (1, 's', '${CAROL}');
    INSERT INTO ux VALUES (1, 'taken', '${CAROL}'), (2, 'n2', '${DAVE}'), (3, 'n3', 'carl@example.com');
  `);
  await ownTables(db, TABLES);
  await db.query(`ALTER VIEW public.users_v OWNER TO ${db.role}`);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([CAROL, DAVE]);
const ok = ranOk;

function refusedByMask(r: Result, sql: string): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_DENIED: masked column public\.\w+\.email would be checked by (constraint|unique index)/, sql);
  assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
  assert.doesNotMatch(r.text, /23514|23503|violates|WARDEN_BACKEND/, sql);
  noLeak(r, sql);
}

describe('UPDATE under a CHECK over a masked column', () => {
  test('the channel is real: without the mask, a NOT VALID CHECK answers for the row an UPDATE leaves as it is', async () => {
    ok(await open.query('UPDATE public.users SET id = id WHERE id = 1'), 'row 1 satisfies it');
    const r = await open.query('UPDATE public.users SET id = id WHERE id = 2');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /23514/);
    const lim = await open.query('UPDATE public.members SET lim = 10 WHERE id = 1');
    assert.match(lim.text, /23514/, 'length(email) >= 10');
  });

  test('under the mask, UPDATEs whose CHECK would answer for the masked value are refused before they run', async () => {
    for (const sql of [
      'UPDATE public.users SET id = id WHERE id = 2',
      "UPDATE public.users SET name = 'x' WHERE id = 2",
      // A validated CHECK reading a column the UPDATE writes beside the masked one it leaves.
      'UPDATE public.members SET lim = 10 WHERE id = 1',
      'UPDATE public.members SET lim = lim - 90, name = name WHERE id = 1',
      // DO UPDATE leaves the existing row's email, whatever the INSERT lists.
      "INSERT INTO public.users (id, name, email, lim) VALUES (2, 'x', 'a@b', 100) ON CONFLICT (id) DO UPDATE SET name = 'y'",
      // A validated CHECK that is not IMMUTABLE.
      "UPDATE public.stamped SET name = 'x' WHERE id = 1",
      // Through an updatable view, whose base table's CHECKs run.
      "UPDATE public.users_v SET name = 'x' WHERE id = 2",
      // A writable CTE is an UPDATE too.
      'WITH u AS (UPDATE public.users SET id = id WHERE id = 2 RETURNING id) SELECT id FROM u',
    ]) refusedByMask(await masked.query(sql), sql);
    const r = await db.query('SELECT name, lim FROM members WHERE id = 1');
    assert.deepEqual(r.rows[0], { name: 'c', lim: 100 });
  });

  test('UPDATEs no such CHECK answers for still run under the mask', async () => {
    // Validated, immutable CHECKs over columns the UPDATE does not write held before and hold again.
    ok(await masked.query("UPDATE public.members SET name = 'n' WHERE id = 1"), 'members.name');
    // Writing the masked column itself checks the statement's own value.
    ok(await masked.query("UPDATE public.members SET email = 'e@x.org', lim = 50 WHERE id = 1"), 'members.email');
    // A NOT VALID CHECK over unmasked columns only.
    const plain = await masked.query("UPDATE public.plain SET id = id WHERE id = 1");
    assert.match(plain.text, /23514/, 'plain: PostgreSQL answers itself');
    ok(await masked.query("UPDATE public.plain SET body = 'ok' WHERE id = 1"), 'plain.body');
    ok(await masked.query("INSERT INTO public.users (id, name, email, lim) VALUES (3, 'x', 'a@b', 100)"), 'INSERT');
  });
});

describe('UPDATE under a partition CHECK or a computed unique index over a masked column', () => {
  test('the channel is real: without the mask, a moved row meets the other partition\'s CHECK, and a partial unique index its predicate', async () => {
    assert.match((await open.query("UPDATE public.parted SET part = 'b' WHERE id = 1")).text, /23514/, 'moved into p_b');
    assert.match((await open.query("UPDATE public.ux SET name = 'taken' WHERE id = 3")).text, /23505/, "'c' satisfies the predicate");
    ok(await open.query("UPDATE public.ux SET name = 'taken' WHERE id = 2"), "'d' does not");
    ok(await open.query("UPDATE public.ux SET name = 'n2' WHERE id = 2"), 'put back');
  });

  test('under the mask, they are refused before they run', async () => {
    for (const sql of ["UPDATE public.parted SET part = 'b' WHERE id = 1", "UPDATE public.ux SET name = 'taken' WHERE id = 3"]) {
      const r = await masked.query(sql);
      refusedByMask(r, sql);
      assert.match(r.text, /(constraint pb_probe of public\.p_b|unique index ux_partial of public\.ux)/, sql);
    }
  });

  test('an UPDATE writing no column such an index reads runs, and a unique index on an expression of the masked column alone lets other columns change', async () => {
    ok(await masked.query('UPDATE public.ux SET id = id + 10 WHERE id = 2'), 'ux.id');
    // ux_lower reads email only, which neither writes: its key does not change.
    const r = await db.query("SELECT count(*)::int AS n FROM ux WHERE id = 12");
    assert.equal((r.rows[0] as { n: number }).n, 1);
  });
});

describe('VALIDATE CONSTRAINT over a masked column on the other side', () => {
  test('the channel is real: without the mask, VALIDATE of a foreign key into the masked column says whether it holds the values', async () => {
    const r = await open.query('ALTER TABLE public.refs VALIDATE CONSTRAINT refs_fk');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /23503/);
  });

  test('under the mask, VALIDATE of a foreign key whose referenced column is masked is refused', async () => {
    refusedByMask(await masked.query('ALTER TABLE public.refs VALIDATE CONSTRAINT refs_fk'), 'refs_fk');
  });

  test('a key added NOT VALID and validated in one ALTER TABLE is refused', async () => {
    const sql = 'ALTER TABLE public.refs ADD CONSTRAINT refs_fk2 FOREIGN KEY (ref) REFERENCES public.people (email) NOT VALID, VALIDATE CONSTRAINT refs_fk2';
    assert.match((await open.query(sql)).text, /23503/, 'the channel is real without the mask');
    // Refused as a key into the masked column (a cascade would copy it); were it not, the
    // catalog does not show refs_fk2 yet, and a constraint it does not show is refused.
    const r = await masked.query(sql);
    assert.match(r.text, /^WARDEN_DENIED: masked column public\.people\.email /, sql);
    noLeak(r, sql);
    const c = await db.query("SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'refs_fk2'");
    assert.equal((c.rows[0] as { n: number }).n, 0);
  });

  test('VALIDATE of a CHECK over unmasked columns of the same table runs', async () => {
    ok(await masked.query('ALTER TABLE public.refs VALIDATE CONSTRAINT refs_id'), 'refs_id');
  });
});

describe('unique and foreign key violations over a masked column', () => {
  test('their messages quote no value', async () => {
    for (const sql of [
      `INSERT INTO public.people VALUES (5, '${CAROL}')`,
      `UPDATE public.people SET email = '${DAVE}' WHERE id = 1 AND email = 'nobody'`,
      `INSERT INTO public.refs VALUES (5, 'nobody@example.com')`,
      `INSERT INTO public.people VALUES (1, 'x') ON CONFLICT (id) DO NOTHING`,
    ]) {
      const r = await masked.query(sql);
      noLeak(r, sql);
      assert.doesNotMatch(r.text, /Key \(|DETAIL/i, sql);
    }
    const dup = await masked.query(`INSERT INTO public.people VALUES (6, '${CAROL}')`);
    assert.match(dup.text, /SQLSTATE 23505/);
  });
});
