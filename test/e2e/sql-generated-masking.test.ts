/**
 * Masks follow generated columns, via `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL. The hole: a STORED generated column computed from a masked column holds the masked
 * value (or part of it) under a name no mask covered, and PostgreSQL's field metadata names the
 * generated column, so `SELECT low FROM g1` over `low GENERATED ALWAYS AS (lower(email))`
 * returned the email whole, `SELECT * FROM g1` masked `email` beside the unmasked `low`, and a
 * write could copy it out (`INSERT INTO sink SELECT low FROM g1`). Now a generated column that
 * reads a masked column of its table is masked (the catalog's pg_depend says which columns its
 * expression reads, in the family query masking already asks), also through partitions,
 * inheritance children and views; a generated column over unmasked columns stays unmasked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

// Column masking only (no content detectors): what must hold comes from lineage alone.
const POLICY = `
masking:
  columns:
    - { column: public.g1.email, with: redact }
    - { column: public.g2.card, with: partial }
    - { column: public.g2.ssn, with: hash }
    - { column: public.gp.email, with: redact }
    - { column: public.ic.email, with: redact }
    - { column: public.g3.secret, with: hash }
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, create]
      read: [g1, g2, g3, gp, gp_1, ip, ic, gv, gw, gw_email, plain_gen]
      write: [sink, copy]
      functions: [count, upper, ascii, generate_series]
`;

const SECRETS = ['carol@example.com', 'Carol@Example.com', 'Example.com', '4111222233334444', '4444333322221111', '123-45-6789', 'dave@part.example', 'erin@child.example'];

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'genmask' });
  await db.query(`
    CREATE TABLE g1 (id int PRIMARY KEY, email text, note text,
      low text GENERATED ALWAYS AS (lower(email)) STORED,
      dom text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED,
      twice int GENERATED ALWAYS AS (id * 2) STORED,
      loud text GENERATED ALWAYS AS (upper(note)) STORED);
    INSERT INTO g1 (id, email, note) VALUES (1, 'Carol@Example.com', 'hello');
    CREATE TABLE g2 (id int PRIMARY KEY, card text, ssn text,
      both_ text GENERATED ALWAYS AS (card || ssn) STORED,
      rev text GENERATED ALWAYS AS (reverse(card)) STORED,
      ussn text GENERATED ALWAYS AS (upper(ssn)) STORED);
    INSERT INTO g2 (id, card, ssn) VALUES (1, '4111222233334444', '123-45-6789');
    CREATE TABLE gp (id int, email text, low text GENERATED ALWAYS AS (lower(email)) STORED) PARTITION BY RANGE (id);
    CREATE TABLE gp_1 PARTITION OF gp FOR VALUES FROM (0) TO (100);
    INSERT INTO gp (id, email) VALUES (1, 'Dave@Part.example');
    CREATE TABLE ip (id int, x text);
    CREATE TABLE ic (email text, x text GENERATED ALWAYS AS (lower(email)) STORED) INHERITS (ip);
    INSERT INTO ic (id, email) VALUES (1, 'Erin@Child.example');
    CREATE TABLE plain_gen (id int, name text, up text GENERATED ALWAYS AS (upper(name)) STORED);
    INSERT INTO plain_gen (id, name) VALUES (1, 'visible');
    CREATE VIEW gv AS SELECT id, low FROM g1;
    CREATE TABLE sink (body text);
    CREATE VIEW gw AS SELECT s.body FROM sink s WHERE EXISTS (SELECT 1 FROM g1 WHERE g1.low LIKE 'c%');
    CREATE VIEW gw_email AS SELECT s.body FROM sink s WHERE EXISTS (SELECT 1 FROM g1 WHERE g1.email LIKE 'c%');
    CREATE FUNCTION public.fold(t text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT lower(t)';
    CREATE TABLE g3 (id int, secret text, tag text GENERATED ALWAYS AS (public.fold(id::text)) STORED);
    INSERT INTO g3 (id, secret) VALUES (7, 'ssh-secret');
`);
  await ownTables(db, ['g1', 'g2', 'g3', 'gp', 'gp_1', 'ip', 'ic', 'plain_gen', 'gv', 'gw', 'gw_email', 'sink']);
  await db.query(`GRANT CREATE ON SCHEMA public TO ${db.role}`);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;
const assertNoLeak = noLeakOf(SECRETS, { caseless: true });

async function ok(sql: string): Promise<Result> {
  const r = await warden.query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 400)}`);
  return r;
}

/** Columns of a result and how each is masked (null: not masked). */
function maskedBy(r: Result): Record<string, string | null> {
  const columns = (r.structured as { columns: { name: string; masked?: string }[] }).columns;
  return Object.fromEntries(columns.map((c) => [c.name, c.masked ?? null]));
}

function rows(r: Result): unknown[][] {
  return (r.structured as { rows: unknown[][] }).rows;
}

async function refused(sql: string, why: RegExp): Promise<void> {
  const r = await warden.query(sql);
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.match(r.text, why, sql);
  assertNoLeak(r, sql);
}

describe('a generated column over a masked column is masked', () => {
  for (const [sql, column] of [
    ['SELECT low FROM g1', 'low'],
    ['SELECT dom FROM g1', 'dom'],
    ['SELECT g.low AS l FROM g1 g', 'l'],
    ['SELECT low FROM (SELECT low FROM g1) s', 'low'],
    ['WITH c AS (SELECT low FROM g1) SELECT low FROM c', 'low'],
  ] as const) {
    test(`${sql}: redacted with the email's strategy`, async () => {
      const r = await ok(sql);
      assert.equal(maskedBy(r)[column], 'redact', r.text);
      assertNoLeak(r, sql);
    });
  }

  test('SELECT * FROM g1: every column carrying the email is masked, the others are not', async () => {
    const r = await ok('SELECT * FROM g1');
    assert.deepEqual(maskedBy(r), { id: null, email: 'redact', note: null, low: 'redact', dom: 'redact', twice: null, loud: null });
    assert.deepEqual(rows(r)[0]!.slice(5), [2, 'HELLO']);
    assertNoLeak(r, 'SELECT * FROM g1');
  });

  test('strategies: one partial source becomes redact, one hash source stays hash, two sources redact', async () => {
    const r = await ok('SELECT card, ssn, both_, rev, ussn FROM g2');
    assert.deepEqual(maskedBy(r), { card: 'partial', ssn: 'hash', both_: 'redact', rev: 'redact', ussn: 'hash' });
    assertNoLeak(r, 'g2');
  });

  test('a partition: its generated column is masked read directly and through the parent', async () => {
    for (const sql of ['SELECT low FROM gp_1', 'SELECT low FROM gp', 'SELECT * FROM ONLY gp_1']) {
      const r = await ok(sql);
      assert.equal(maskedBy(r).low, 'redact', `${sql}: ${r.text}`);
      assertNoLeak(r, sql);
    }
  });

  test("an inheritance child's generated column comes back masked through its parent's plain column", async () => {
    for (const sql of ['SELECT x FROM ip', 'SELECT x FROM ic']) {
      const r = await ok(sql);
      assert.equal(maskedBy(r).x, 'redact', `${sql}: ${r.text}`);
      assertNoLeak(r, sql);
    }
  });

  test('a view over the generated column is masked', async () => {
    const r = await ok('SELECT low FROM gv');
    assert.equal(maskedBy(r).low, 'redact', r.text);
    assertNoLeak(r, 'gv');
  });

  test('an expression calling a function outside pg_catalog counts as reading every column (fail closed)', async () => {
    const r = await ok('SELECT id, tag FROM g3');
    assert.deepEqual(maskedBy(r), { id: null, tag: 'hash' });
  });

  test('describe_database marks the generated columns masked', async () => {
    const r = await warden.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; columns: { name: string; masked?: string }[] }[] } }).data.tables;
    const masked = (table: string, column: string) => tables.find((t) => t.table === table)?.columns.find((c) => c.name === column)?.masked ?? null;
    assert.equal(masked('public.g1', 'low'), 'redact');
    assert.equal(masked('public.g1', 'twice'), null);
    assert.equal(masked('public.g2', 'ussn'), 'hash');
    assert.equal(masked('public.plain_gen', 'up'), null);
  });
});

describe('the masked generated column is treated as the masked column everywhere else', () => {
  test('through an expression: refused (on_derived: deny)', async () => {
    await refused('SELECT upper(low) FROM g1', /masked column public\.g1\.low flows through an expression/);
  });

  test('a write may not copy it', async () => {
    await refused('INSERT INTO sink (body) SELECT low FROM g1', /masked column public\.g1\.low would be copied into public\.sink/);
    await refused('CREATE TABLE public.copy AS SELECT dom FROM g1', /masked column public\.g1\.dom would be copied into public\./);
    await refused('INSERT INTO sink (body) SELECT x FROM ip', /masked column public\.ip\.x would be copied into public\.sink/);
    const n = await db.query("SELECT count(*)::int AS n FROM sink");
    assert.equal((n.rows[0] as { n: number }).n, 0);
    const copy = await db.query("SELECT to_regclass('public.copy') IS NULL AS absent");
    assert.equal((copy.rows[0] as { absent: boolean }).absent, true);
  });

  test('a join on it is refused; an outermost filter still runs', async () => {
    await refused('SELECT g FROM g1 JOIN generate_series(1, 255) g ON g = ascii(g1.low)', /public\.g1\.low/);
    const r = await ok("SELECT id FROM g1 WHERE low = 'nobody@nowhere.test'");
    assert.equal(rows(r).length, 0);
  });

  test("a view's condition on it is refused, as one on the masked column is", async () => {
    const email = await warden.query('SELECT count(*) FROM gw_email');
    assert.equal(email.isError, true, email.text);
    const r = await warden.query('SELECT count(*) FROM gw');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: .*public\.g1\.low/);
  });
});

describe('legitimate neighbours', () => {
  test('a generated column over unmasked columns only stays plain', async () => {
    const r = await ok('SELECT up, twice FROM plain_gen, g1');
    assert.deepEqual(maskedBy(r), { up: null, twice: null });
    assert.deepEqual(rows(r), [['VISIBLE', 2]]);
    await ok("INSERT INTO sink (body) SELECT loud FROM g1");
    const n = await db.query('SELECT body FROM sink');
    assert.deepEqual(n.rows, [{ body: 'HELLO' }]);
  });

  test('the masked column itself behaves as before', async () => {
    const r = await ok('SELECT email FROM g1');
    assert.equal(maskedBy(r).email, 'redact');
    await refused('SELECT upper(email) FROM g1', /masked column public\.g1\.email flows through an expression/);
  });

  test('the transcript holds no unmasked value', () => {
    const raw = Buffer.concat([warden.dir.dbPath, warden.dir.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1').toLowerCase();
    for (const secret of SECRETS) assert.equal(raw.includes(secret.toLowerCase()), false, `transcript holds ${secret}`);
  });
});
