/**
 * Masks and deny rules follow multiple inheritance, via `warden serve` (real MCP client over
 * stdio) against a real PostgreSQL. With `CREATE TABLE c (...) INHERITS (p1, p2)`, reading p1
 * without ONLY returns c's rows, and c's rows are p2's rows too. The hole: the family model gave
 * p1 its ancestors' masks and its descendants' own masks, but not the masks of a descendant's
 * OTHER ancestors, so
 * - a mask on p2.card did not mask `SELECT card FROM p1` (c's card came back plain);
 * - a deny on p2 (or on an ancestor of p2) did not refuse `SELECT * FROM p1`, nor a write to it.
 * `ONLY p1` reads p1's own rows: neither applies. describe_database says the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const POLICY = `
masking:
  columns:
    - { column: public.mi_b.card, with: partial }
    - { column: public.mi_top.memo, with: redact }
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, delete]
      read: [mi_a, mi_view, d_a, d2_a]
      write: [d_a]
      functions: [count, lower]
  - id: no-d-b
    effect: deny
    tool: query_database
    sql: { read: [public.d_b] }
  - id: no-d2-top
    effect: deny
    tool: query_database
    sql: { read: [public.d2_top] }
`;

const SECRETS = {
  card: 'CARD-MULTI-0001',
  memo: 'MEMO-MULTI-SECRET',
  denied: 'DENIED-MULTI-SECRET',
  denied2: 'DENIED-TOP-SECRET',
};
const ALL_SECRETS = Object.values(SECRETS);

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emulti' });
  await db.query(`
    CREATE TABLE mi_a (id int, card text, memo text);
    CREATE TABLE mi_top (memo text);
    CREATE TABLE mi_b (id int, card text) INHERITS (mi_top);
    CREATE TABLE mi_c () INHERITS (mi_a, mi_b);
    INSERT INTO mi_a VALUES (1, 'card-own-plain', 'memo-own-plain');
    INSERT INTO mi_c (id, card, memo) VALUES (2, '${SECRETS.card}', '${SECRETS.memo}');
    CREATE VIEW mi_view AS SELECT id, card FROM mi_a;

    CREATE TABLE d_a (id int, secret text);
    CREATE TABLE d_b (id int, secret text);
    CREATE TABLE d_c () INHERITS (d_a, d_b);
    INSERT INTO d_a VALUES (1, 'd-own-plain');
    INSERT INTO d_c VALUES (2, '${SECRETS.denied}');

    CREATE TABLE d2_top (id int);
    CREATE TABLE d2_a (id int, secret text);
    CREATE TABLE d2_b () INHERITS (d2_top);
    CREATE TABLE d2_c (secret text) INHERITS (d2_a, d2_b);
    INSERT INTO d2_c VALUES (3, '${SECRETS.denied2}');

    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
    GRANT DELETE ON d_a, d_c TO ${db.role};
  `);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

const assertNoLeak = noLeakOf(ALL_SECRETS);

async function ok(sql: string): Promise<Result> {
  const r = await warden.query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 400)}`);
  assertNoLeak(r, sql);
  return r;
}

function maskedBy(r: Result): Record<string, string | null> {
  const columns = (r.structured as { columns: { name: string; masked?: string }[] }).columns;
  return Object.fromEntries(columns.map((c) => [c.name, c.masked ?? null]));
}

async function denied(sql: string, rules: readonly string[], message: RegExp): Promise<void> {
  const r = await warden.query(sql);
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.match(r.text, message, sql);
  const ids = (r.structured as { error: { rule_ids: string[] } }).error.rule_ids;
  for (const id of rules) assert.ok(ids.includes(id), `${sql}: rule ${id} not in ${JSON.stringify(ids)}`);
  assertNoLeak(r, sql);
}

describe("masks: a descendant's other parents' masks hold on the parent it is read through", () => {
  test("p2's mask on card holds on p1.card read without ONLY (c INHERITS (p1, p2))", async () => {
    for (const sql of ['SELECT card FROM mi_a', 'SELECT id, card FROM public.mi_a ORDER BY id', 'SELECT * FROM mi_a']) {
      const r = await ok(sql);
      assert.equal(maskedBy(r).card, 'partial', `${sql}: ${r.text}`);
    }
  });

  test("the other parent's ancestor's mask holds too (mi_top.memo, through mi_b)", async () => {
    const r = await ok('SELECT memo FROM mi_a');
    assert.equal(maskedBy(r).memo, 'redact', r.text);
  });

  test('through a view over p1', async () => {
    const r = await ok('SELECT card FROM mi_view');
    assert.equal(maskedBy(r).card, 'partial', r.text);
  });

  test('a masked value flowing through an expression is refused (on_derived: deny)', async () => {
    const r = await warden.query('SELECT lower(card) AS c FROM mi_a');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: masked column public\.mi_a\.card flows through an expression/);
    assertNoLeak(r, 'lower(card)');
  });

  test("ONLY p1: its own rows, not masked by the child's other parent", async () => {
    const r = await ok('SELECT card, memo FROM ONLY mi_a');
    assert.deepEqual(maskedBy(r), { card: null, memo: null });
    assert.match(r.text, /card-own-plain/);
  });
});

describe("deny rules: a descendant's rows are its other parents' rows", () => {
  test('a deny on p2 refuses p1 read without ONLY, saying how', async () => {
    await denied('SELECT * FROM d_a', ['no-d-b'], /public\.d_a returns, named without ONLY, the rows of public\.d_c, which holds rows of public\.d_b/);
    await denied('SELECT count(*) AS n FROM d_a', ['no-d-b'], /public\.d_b/);
  });

  test("a deny on the other parent's ancestor refuses too", async () => {
    await denied('SELECT * FROM d2_a', ['no-d2-top'], /public\.d2_top/);
  });

  test('a write to p1 without ONLY reaches the child: refused', async () => {
    await denied('DELETE FROM d_a WHERE id < 0', ['no-d-b'], /public\.d_b/);
  });

  test('ONLY p1 reads and writes its own rows', async () => {
    const r = await ok('SELECT secret FROM ONLY d_a');
    assert.match(r.text, /d-own-plain/);
    await ok('DELETE FROM ONLY d_a WHERE id < 0');
  });
});

describe('describe_database', () => {
  type Described = { table: string; access: string[]; requires_only?: string[]; note?: string; columns: { name: string; masked?: string }[] };
  let tables: Described[];
  before(async () => {
    const r = await warden.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    tables = (r.structured as { data: { tables: Described[] } }).data.tables;
  });
  const find = (name: string): Described => {
    const t = tables.find((x) => x.table === name);
    assert.ok(t, `${name} is not described: ${tables.map((x) => x.table).join(', ')}`);
    return t;
  };

  test("marks p1's columns masked by the child's other parents", () => {
    const masked = (t: Described) => Object.fromEntries(t.columns.filter((c) => c.masked).map((c) => [c.name, c.masked]));
    assert.deepEqual(masked(find('public.mi_a')), { card: 'partial', memo: 'redact' });
    assert.deepEqual(masked(find('public.mi_view')), { card: 'partial' });
  });

  test('says to read p1 as ONLY when a deny covers a child\'s other parent', () => {
    for (const [name, reaches] of [['public.d_a', 'public.d_b'], ['public.d2_a', 'public.d2_top']] as const) {
      const t = find(name);
      assert.deepEqual(t.access.includes('read'), true, name);
      assert.ok(t.requires_only?.includes('read'), `${name}: ${JSON.stringify(t)}`);
      assert.ok((t.note ?? '').includes(reaches), `${name}: ${t.note}`);
    }
  });

  test('every relation reads as described', async () => {
    for (const t of tables) {
      const plain = await warden.query(`SELECT count(*) AS n FROM ${t.table}`);
      const onlyNeeded = !!t.requires_only?.includes('read');
      assert.equal(plain.isError, onlyNeeded || !t.access.includes('read'), `${t.table}: ${plain.text.slice(0, 300)}`);
      if (onlyNeeded) await ok(`SELECT count(*) AS n FROM ONLY ${t.table}`);
    }
  });
});
