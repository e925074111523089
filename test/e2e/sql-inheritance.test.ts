/**
 * Masks and deny rules follow table inheritance and partitioning, via `warden serve` (real MCP
 * client over stdio) against a real PostgreSQL. The hole: PostgreSQL's field metadata names the
 * relation the statement names, so
 * - a mask on a parent's column (public.payments.card) did not mask `SELECT card FROM
 *   payments_2024`, a child (INHERITS) or a partition (PARTITION OF) read directly;
 * - a mask on a descendant's column did not mask the parent's column, through which the
 *   descendant's rows come back (`SELECT note FROM payments`);
 * - a deny on a descendant (read: [public.ledger_vault]) did not stop `SELECT * FROM ledger`;
 * - a write could copy a masked value out of a child (`INSERT INTO notes SELECT card FROM
 *   payments_2024`), since no lineage led back to the parent's mask.
 * `ONLY parent` reads the parent's own rows: a descendant's deny or mask does not reach it.
 * A child's rows are its parent's rows: a deny on the parent refuses the child read directly.
 * A grant on the parent is enough to read it (its descendants need no grant of their own).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

// Column masking only (no content detectors): what must hold comes from lineage alone.
const POLICY = `
masking:
  columns:
    - { column: public.payments.card, with: partial }
    - { column: public.payments_2024.note, with: redact }
    - { column: public.payments_2024_q1.memo, with: redact }
    - { column: public.orders.card, with: partial }
    - { column: public.orders_eu_1.email, with: redact }
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, delete, create]
      read: [payments, payments_2024, payments_2024_q1, orders, orders_eu, orders_eu_1, ledger, ledger_mid, ledger_open, accounts, accounts_asia, accounts_open, vaults_open, archive_eu]
      write: [notes, copy, ledger]
      functions: [count, lower]
  - id: no-ledger-vault
    effect: deny
    tool: query_database
    sql: { read: [public.ledger_vault] }
  - id: no-frozen-accounts
    effect: deny
    tool: query_database
    sql: { read: [public.accounts_frozen] }
  - id: no-accounts-asia-1
    effect: deny
    tool: query_database
    sql: { read: [public.accounts_asia_1] }
  - id: no-vaults
    effect: deny
    tool: query_database
    sql: { read: [public.vaults] }
  - id: no-archive
    effect: deny
    tool: query_database
    sql: { read: [public.archive] }
`;

// Values a mask or a deny must keep from the agent. Parent-own values of unmasked columns are
// plain on purpose: ONLY reads return them as they are.
const SECRETS = {
  parentCard: 'CARD-PARENT-0001',
  childCard: 'CARD-CHILD-0002',
  grandCard: 'CARD-GRAND-0003',
  childNote: 'NOTE-CHILD-SECRET',
  grandNote: 'NOTE-GRAND-SECRET',
  grandMemo: 'MEMO-GRAND-SECRET',
  euCard: 'CARD-EU-0004',
  usCard: 'CARD-US-0005',
  euEmail: 'eu-one-secret@example.com',
  vault: 'VAULT-SECRET',
  frozen: 'FROZEN-SECRET',
  asia: 'ASIA-ONE-SECRET',
  vaultsOpen: 'VAULTS-OPEN-SECRET',
  archiveEu: 'ARCHIVE-EU-SECRET',
};
const ALL_SECRETS = Object.values(SECRETS);

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2einherit' });
  await db.query(`
    CREATE TABLE payments (id int, card text, note text, memo text);
    CREATE TABLE payments_2024 () INHERITS (payments);
    CREATE TABLE payments_2024_q1 () INHERITS (payments_2024);
    INSERT INTO payments VALUES (1, '${SECRETS.parentCard}', 'note-parent-plain', 'memo-parent-plain');
    INSERT INTO payments_2024 VALUES (2, '${SECRETS.childCard}', '${SECRETS.childNote}', 'memo-child-plain');
    INSERT INTO payments_2024_q1 VALUES (3, '${SECRETS.grandCard}', '${SECRETS.grandNote}', '${SECRETS.grandMemo}');

    CREATE TABLE orders (id int, region text, card text, email text) PARTITION BY LIST (region);
    CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu') PARTITION BY LIST (id);
    CREATE TABLE orders_eu_1 PARTITION OF orders_eu FOR VALUES IN (1);
    CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
    INSERT INTO orders VALUES (1, 'eu', '${SECRETS.euCard}', '${SECRETS.euEmail}'), (2, 'us', '${SECRETS.usCard}', 'us@example.com');

    CREATE TABLE ledger (id int, secret text);
    CREATE TABLE ledger_open () INHERITS (ledger);
    CREATE TABLE ledger_mid () INHERITS (ledger);
    CREATE TABLE ledger_vault () INHERITS (ledger_mid);
    INSERT INTO ledger VALUES (1, 'ledger-plain');
    INSERT INTO ledger_open VALUES (2, 'open-plain');
    INSERT INTO ledger_vault VALUES (3, '${SECRETS.vault}');

    CREATE TABLE accounts (id int, region text, secret text) PARTITION BY LIST (region);
    CREATE TABLE accounts_open PARTITION OF accounts FOR VALUES IN ('eu');
    CREATE TABLE accounts_frozen PARTITION OF accounts FOR VALUES IN ('us');
    CREATE TABLE accounts_asia PARTITION OF accounts FOR VALUES IN ('asia') PARTITION BY LIST (id);
    CREATE TABLE accounts_asia_1 PARTITION OF accounts_asia FOR VALUES IN (1);
    CREATE TABLE accounts_asia_2 PARTITION OF accounts_asia FOR VALUES IN (2);
    INSERT INTO accounts VALUES (1, 'eu', 'open-plain'), (2, 'us', '${SECRETS.frozen}'), (1, 'asia', '${SECRETS.asia}');

    CREATE TABLE vaults (id int, secret text);
    CREATE TABLE vaults_open () INHERITS (vaults);
    INSERT INTO vaults_open VALUES (1, '${SECRETS.vaultsOpen}');
    CREATE TABLE archive (id int, region text, secret text) PARTITION BY LIST (region);
    CREATE TABLE archive_eu PARTITION OF archive FOR VALUES IN ('eu');
    INSERT INTO archive VALUES (1, 'eu', '${SECRETS.archiveEu}');

    CREATE TABLE notes (id serial PRIMARY KEY, body text);
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
    GRANT DELETE ON ledger TO ${db.role};
    GRANT CREATE, USAGE ON SCHEMA public TO ${db.role};
  `);
  await ownTables(db, ['notes']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

const query = (sql: string) => warden.query(sql);

/** The whole response (text and structured content) holds none of the secrets. */
const assertNoLeak = noLeakOf(ALL_SECRETS);

async function ok(sql: string): Promise<Result> {
  const r = await query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 400)}`);
  return r;
}

/** Columns of a result and how each is masked (null: not masked). */
function maskedBy(r: Result): Record<string, string | null> {
  const columns = (r.structured as { columns: { name: string; masked?: string }[] }).columns;
  return Object.fromEntries(columns.map((c) => [c.name, c.masked ?? null]));
}

async function denied(sql: string, rules: readonly string[], table: RegExp): Promise<void> {
  const r = await query(sql);
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  assert.match(r.text, table, sql);
  const ids = (r.structured as { error: { rule_ids: string[] } }).error.rule_ids;
  for (const id of rules) assert.ok(ids.includes(id), `${sql}: rule ${id} not in ${JSON.stringify(ids)}`);
  assertNoLeak(r, sql);
}

describe("a parent's mask holds on its children and partitions read directly", () => {
  for (const sql of [
    'SELECT card FROM payments_2024',
    'SELECT id, card FROM payments_2024_q1',
    'SELECT * FROM public.payments_2024',
    'SELECT card FROM orders_eu',
    'SELECT p.card FROM orders_eu_1 p',
  ]) {
    test(`${sql}: masked by the parent's rule`, async () => {
      const r = await ok(sql);
      assert.equal(maskedBy(r).card, 'partial', r.text);
      assert.match(r.text, /C\*\*\*\d/, 'the card arrives masked partially');
      assertNoLeak(r, sql);
    });
  }

  test("a child's own mask and the parent's both hold on a grandchild", async () => {
    const r = await ok('SELECT card, note, memo FROM payments_2024_q1');
    assert.deepEqual(maskedBy(r), { card: 'partial', note: 'redact', memo: 'redact' });
    assertNoLeak(r, 'payments_2024_q1');
  });
});

describe("a descendant's mask holds on its ancestors read without ONLY", () => {
  test('child (INHERITS): its masked note comes back through the parent, masked', async () => {
    const r = await ok('SELECT id, note FROM payments ORDER BY id');
    assert.equal(maskedBy(r).note, 'redact');
    assertNoLeak(r, 'payments.note');
  });

  test("grandchild (INHERITS): its masked memo is masked through the child and the grandparent", async () => {
    for (const sql of ['SELECT memo FROM payments', 'SELECT memo FROM payments_2024', 'SELECT * FROM payments']) {
      const r = await ok(sql);
      assert.equal(maskedBy(r).memo, 'redact', sql);
      assertNoLeak(r, sql);
    }
  });

  test('sub-partition: its masked email is masked through the partitioned root', async () => {
    for (const sql of ['SELECT email FROM orders', 'SELECT * FROM orders_eu', 'SELECT * FROM orders']) {
      const r = await ok(sql);
      assert.equal(maskedBy(r).email, 'redact', sql);
      assertNoLeak(r, sql);
    }
  });

  test('a masked descendant column flowing through an expression is refused (on_derived: deny)', async () => {
    const r = await query('SELECT lower(note) AS n FROM payments');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: masked column public\.payments\.note flows through an expression/);
    assertNoLeak(r, 'lower(note)');
  });

  test("ONLY reads the parent's own rows: a descendant's mask does not reach them", async () => {
    const r = await ok('SELECT note, memo, card FROM ONLY payments');
    assert.deepEqual(maskedBy(r), { note: null, memo: null, card: 'partial' });
    assert.match(r.text, /note-parent-plain/);
    assert.match(r.text, /memo-parent-plain/);
    assertNoLeak(r, 'ONLY payments');
  });

  test('granting the parent is enough: a partition the grant does not name is read through it', async () => {
    const r = await ok('SELECT count(*) AS n FROM orders');
    assert.match(r.text, /\b2\b/);
  });
});

describe("deny rules follow inheritance: a descendant's to its parent named without ONLY, a parent's to its children", () => {
  test('INHERITS: a denied grandchild refuses its grandparent and its parent', async () => {
    await denied('SELECT * FROM ledger', ['no-ledger-vault'], /public\.ledger_vault/);
    await denied('SELECT count(*) AS n FROM ledger_mid', ['no-ledger-vault'], /public\.ledger_vault/);
    await denied('SELECT l.id FROM public.ledger l JOIN notes n ON n.id = l.id', ['no-ledger-vault'], /public\.ledger_vault/);
  });

  test('PARTITION OF: a denied partition and a denied sub-partition refuse the root', async () => {
    await denied('SELECT secret FROM accounts', ['no-frozen-accounts', 'no-accounts-asia-1'], /public\.accounts_(frozen|asia_1)/);
    await denied('SELECT id FROM accounts_asia', ['no-accounts-asia-1'], /public\.accounts_asia_1/);
  });

  test('a parent written without ONLY reaches its descendants: refused', async () => {
    await denied('DELETE FROM ledger WHERE id < 0', ['no-ledger-vault'], /public\.ledger_vault/);
  });

  test("ONLY parent: the descendant's deny does not apply", async () => {
    const r = await ok('SELECT id, secret FROM ONLY ledger');
    assert.match(r.text, /ledger-plain/);
    assertNoLeak(r, 'ONLY ledger');
    await ok('SELECT id FROM ONLY accounts');
    await ok('DELETE FROM ONLY ledger WHERE id < 0');
  });

  test('siblings and partitions without a denied descendant read as before', async () => {
    const r = await ok('SELECT secret FROM ledger_open');
    assert.match(r.text, /open-plain/);
    await ok('SELECT secret FROM accounts_open');
  });

  test("a deny on a parent refuses its children and partitions read directly, ONLY or not: their rows are the parent's", async () => {
    await denied('SELECT * FROM vaults_open', ['no-vaults'], /public\.vaults\b/);
    await denied('SELECT secret FROM ONLY vaults_open', ['no-vaults'], /public\.vaults\b/);
    await denied('SELECT * FROM archive_eu', ['no-archive'], /public\.archive\b/);
  });

  test('ONLY with a parenthesised name is refused, not read as a call', async () => {
    const r = await query('SELECT * FROM ONLY (ledger)');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_PARSE: /);
    assertNoLeak(r, 'ONLY (ledger)');
  });
});

describe('a write may not copy a masked value out of a family', () => {
  for (const [sql, column] of [
    ['INSERT INTO notes (body) SELECT card FROM payments_2024', 'payments_2024.card'],
    ['INSERT INTO notes (body) SELECT card FROM orders_eu_1', 'orders_eu_1.card'],
    ['INSERT INTO notes (body) SELECT note FROM payments', 'payments.note'],
    ['CREATE TABLE public.copy AS SELECT id, email FROM orders', 'orders.email'],
  ] as const) {
    test(`${sql}: refused before it runs`, async () => {
      const r = await query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, new RegExp(`^WARDEN_DENIED: masked column public\\.${column.replace('.', '\\.')} would be copied into public\\.`));
      assertNoLeak(r, sql);
    });
  }

  test('nothing was copied', async () => {
    const rows = await db.query('SELECT body FROM notes');
    assert.equal(rows.rows.length, 0, JSON.stringify(rows.rows));
    const copy = await db.query("SELECT to_regclass('public.copy') IS NULL AS absent");
    assert.equal((copy.rows[0] as { absent: boolean }).absent, true);
  });

  test("ONLY parent: the parent's own unmasked values may be copied", async () => {
    await ok('INSERT INTO notes (body) SELECT note FROM ONLY payments');
    const rows = await db.query('SELECT body FROM notes');
    assert.deepEqual(rows.rows, [{ body: 'note-parent-plain' }]);
  });
});

describe('describe_database', () => {
  test('marks the columns masks reach through inheritance', async () => {
    const r = await warden.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; columns: { name: string; masked?: string }[] }[] } }).data.tables;
    const masked = (table: string, column: string) => tables.find((t) => t.table === table)?.columns.find((c) => c.name === column)?.masked ?? null;
    assert.equal(masked('public.payments_2024', 'card'), 'partial');
    assert.equal(masked('public.orders_eu_1', 'card'), 'partial');
    assert.equal(masked('public.payments', 'note'), 'redact');
    assert.equal(masked('public.orders', 'email'), 'redact');
    assert.equal(masked('public.ledger', 'secret'), null);
  });
});

describe('the transcript', () => {
  test('holds no unmasked value', () => {
    const raw = Buffer.concat([warden.dir.dbPath, warden.dir.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1');
    for (const secret of ALL_SECRETS) assert.equal(raw.includes(secret), false, `transcript holds ${secret}`);
  });
});
