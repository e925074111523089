/**
 * DDL that evaluates, over every existing row, a definition the statement does not show but the
 * catalog holds, through `warden serve` against a real PostgreSQL, under a mask on
 * public.accounts.email. Whether such a statement fails (23514) says whether the rows satisfy an
 * expression the masks never judged, and how long it runs may size work from the value:
 * - `ALTER TABLE ... VALIDATE CONSTRAINT` of a CHECK (or foreign key) added NOT VALID earlier
 *   (by an administrator, or before the mask was configured): refused when the constraint reads
 *   a masked column, its descendants' included (VALIDATE recurses to them); one over unmasked
 *   columns runs;
 * - `ALTER TABLE ... ALTER COLUMN ... TYPE` of a masked column to a type that is not a built-in
 *   name: a domain's CHECK (or a user cast's function) runs on every value; refused;
 * - `ALTER DOMAIN ... ADD CONSTRAINT | VALIDATE CONSTRAINT` checks every column of the domain:
 *   not understood, so refused before anything runs.
 * The same DDL on tables and columns no mask covers runs. SET NOT NULL, ADD UNIQUE and ADD
 * PRIMARY KEY over a masked column say one bit about the table, as `WHERE email IS NULL` and
 * `GROUP BY email` do under masks, and their failure quotes no value (the key is in the detail,
 * which never travels).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, ranOk, type SqlResult, type SqlWarden, startMaskedPair, stopAll } from '../support/sql-warden.js';

const GRANT = `
rules:
  - id: ddl-writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, alter, create]
      read: [public.accounts, public.plain, public.acc_parent, public.acc_child, public.p2, public.c2]
      write: [public.accounts, public.plain, public.acc_parent, public.acc_child, public.p2, public.c2]
      functions: [length, repeat, ascii]
`;

const MASK = `
masking:
  columns:
    - { column: public.accounts.email, with: redact }
    - { column: public.acc_child.email, with: redact }
    - { column: public.p2.email, with: redact }
`;

const EMAIL = 'carol@example.com';
/** Refused as an inline CHECK under the mask (repeat's length sized from the value); fails on EMAIL ('c' is 99). */
const HIDDEN = "length(repeat('x', ascii(email))) < 99";

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eddlcat' });
  await db.query(`
    CREATE TABLE accounts (id int PRIMARY KEY, email text);
    INSERT INTO accounts VALUES (1, '${EMAIL}'), (2, 'dave@example.com'), (3, 'dave@example.com');
    ALTER TABLE accounts ADD CONSTRAINT hidden_probe CHECK (${HIDDEN}) NOT VALID;
    ALTER TABLE accounts ADD CONSTRAINT id_positive CHECK (id > 0) NOT VALID;
    CREATE TABLE plain (id int PRIMARY KEY, body text);
    INSERT INTO plain VALUES (1, 'p');
    ALTER TABLE plain ADD CONSTRAINT body_short CHECK (length(body) < 10) NOT VALID;
    CREATE TABLE acc_parent (id int, email text);
    CREATE TABLE acc_child () INHERITS (acc_parent);
    INSERT INTO acc_child VALUES (1, '${EMAIL}');
    ALTER TABLE acc_parent ADD CONSTRAINT parent_probe CHECK (${HIDDEN}) NOT VALID;
    CREATE TABLE p2 (id int, email text);
    CREATE TABLE c2 () INHERITS (p2);
    INSERT INTO c2 VALUES (1, '${EMAIL}');
    ALTER TABLE ONLY c2 ADD CONSTRAINT child_probe CHECK (${HIDDEN}) NOT VALID;
    CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
    CREATE DOMAIN public.probe_d AS text CHECK (length(repeat('x', ascii(VALUE))) < 99);
    GRANT CREATE, USAGE ON SCHEMA public TO ${db.role};
    GRANT USAGE ON DOMAIN public.posint TO ${db.role};
    GRANT USAGE ON DOMAIN public.probe_d TO ${db.role};
  `);
  await ownTables(db, ['accounts', 'plain', 'acc_parent', 'acc_child', 'p2', 'c2']);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

type Result = SqlResult;
const noLeak = noLeakOf([EMAIL]);
const ok = ranOk;

function refusedByMask(r: Result, sql: string): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_DENIED: masked column public\.(accounts|acc_child|acc_parent|c2)\.email/, sql);
  assert.match(r.text, /definition the statement does not show/, sql);
  assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
  assert.doesNotMatch(r.text, /23514|violated/, sql);
  noLeak(r, sql);
}

async function validated(name: string): Promise<boolean> {
  const r = await db.query('SELECT bool_and(convalidated) AS v FROM pg_constraint WHERE conname = $1', [name]);
  return (r.rows[0] as { v: boolean }).v;
}

describe('VALIDATE CONSTRAINT of a CHECK the catalog holds', () => {
  test('the channel is real: without the mask, VALIDATE fails exactly when a row does not satisfy the hidden expression', async () => {
    // Inline, the same expression is refused under the mask (it sizes work from the value).
    const inline = await masked.query(`ALTER TABLE public.accounts ADD CONSTRAINT again CHECK (${HIDDEN}) NOT VALID`);
    assert.match(inline.text, /^WARDEN_DENIED: masked column public\.accounts\.email/);
    const r = await open.query('ALTER TABLE public.accounts VALIDATE CONSTRAINT hidden_probe');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /23514/);
  });

  test('under the mask, VALIDATE on the masked table is refused before it runs', async () => {
    for (const sql of [
      'ALTER TABLE public.accounts VALIDATE CONSTRAINT hidden_probe',
      'ALTER TABLE IF EXISTS ONLY public.accounts VALIDATE CONSTRAINT hidden_probe',
      // VALIDATE recurses to the descendants, whose masked column the parent's carries.
      'ALTER TABLE public.acc_parent VALIDATE CONSTRAINT parent_probe',
      // A child's rows are its parent's: the parent's mask holds on the child's column.
      'ALTER TABLE public.c2 VALIDATE CONSTRAINT child_probe',
    ]) refusedByMask(await masked.query(sql), sql);
    // ONLY on the parent skips its descendants' masks: PostgreSQL refuses it itself, checking no row.
    const only = await masked.query('ALTER TABLE ONLY public.acc_parent VALIDATE CONSTRAINT parent_probe');
    assert.equal(only.isError, true, only.text);
    assert.doesNotMatch(only.text, /23514|violated/);
    noLeak(only, 'ONLY parent');
    assert.equal(await validated('hidden_probe'), false);
    assert.equal(await validated('parent_probe'), false);
    assert.equal(await validated('child_probe'), false);
  });

  test('VALIDATE on a table without masked columns still runs under the mask', async () => {
    ok(await masked.query('ALTER TABLE public.plain VALIDATE CONSTRAINT body_short'), 'VALIDATE on plain');
    assert.equal(await validated('body_short'), true);
  });

  test('VALIDATE of a CHECK over unmasked columns of the masked table runs under the mask', async () => {
    // The catalog says which columns the named constraint reads (constraint-oracles.ts).
    ok(await masked.query('ALTER TABLE public.accounts VALIDATE CONSTRAINT id_positive'), 'VALIDATE id_positive');
    assert.equal(await validated('id_positive'), true);
  });

  test('VALIDATE of a constraint the catalog does not show is refused on the masked table', async () => {
    refusedByMask(await masked.query('ALTER TABLE public.accounts VALIDATE CONSTRAINT no_such'), 'no_such');
  });
});

describe('ALTER COLUMN TYPE to a type whose CHECK or cast the catalog holds', () => {
  test("a domain's CHECK runs on every value converted: the channel is real without the mask", async () => {
    const r = await open.query('ALTER TABLE public.accounts ALTER COLUMN email TYPE public.probe_d');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /23514/);
  });

  test('under the mask, converting the masked column to a type outside the built-in names is refused', async () => {
    for (const sql of [
      'ALTER TABLE public.accounts ALTER COLUMN email TYPE public.probe_d',
      'ALTER TABLE public.accounts ALTER email SET DATA TYPE public.probe_d',
      'ALTER TABLE public.accounts ALTER COLUMN email TYPE probe_d',
      'ALTER TABLE public.accounts ALTER COLUMN email TYPE public.probe_d[]',
      'ALTER TABLE public.accounts ALTER COLUMN email TYPE "Text"',
      'ALTER TABLE public.accounts ALTER COLUMN "email" TYPE public.probe_d',
      'ALTER TABLE public.acc_parent ALTER COLUMN email TYPE public.probe_d',
    ]) refusedByMask(await masked.query(sql), sql);
    const t = await db.query("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'email'");
    assert.equal((t.rows[0] as { t: string }).t, 'text');
  });

  test('built-in types for the masked column, and a domain for an unmasked one, still run', async () => {
    ok(await masked.query('ALTER TABLE public.accounts ALTER COLUMN email TYPE varchar(200)'), 'varchar(200)');
    ok(await masked.query('ALTER TABLE public.accounts ALTER COLUMN email TYPE text'), 'text');
    ok(await masked.query('ALTER TABLE public.accounts ALTER COLUMN id TYPE public.posint'), 'domain on id');
  });

  test('ALTER DOMAIN, which checks every column of the domain, is refused before it runs', async () => {
    for (const sql of [
      `ALTER DOMAIN public.probe_d ADD CONSTRAINT more CHECK (length(VALUE) > 0)`,
      'ALTER DOMAIN public.posint VALIDATE CONSTRAINT posint_check',
    ]) {
      const r = await masked.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text}`);
      assert.match(r.text, /^WARDEN_PARSE: /, sql);
    }
  });
});

describe('constraints that scan the masked column for nulls or duplicates', () => {
  test('SET NOT NULL, ADD UNIQUE and ADD PRIMARY KEY run, and their failures quote no value', async () => {
    for (const sql of ['ALTER TABLE public.accounts ADD CONSTRAINT email_unique UNIQUE (email)', 'ALTER TABLE public.accounts ADD PRIMARY KEY (email)']) {
      const r = await masked.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text}`);
      assert.match(r.text, /SQLSTATE (23505|42P16)/, sql);
      noLeak(r, sql);
    }
    ok(await masked.query('ALTER TABLE public.accounts ALTER COLUMN email SET NOT NULL'), 'SET NOT NULL');
  });
});
