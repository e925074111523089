/**
 * describe_database tells the truth query_database acts on, via `warden serve` (real MCP client
 * over stdio) against a real PostgreSQL. The holes it had:
 * - a view (or materialized view) column carrying a masked base column was listed unmasked,
 *   while query_database masked it, or refused it (a computed column under on_derived: deny);
 * - a view whose definition masking cannot follow was listed as readable, while query_database
 *   refuses every statement that reads it as long as masks exist;
 * - a parent whose descendant a deny forbids was listed as plainly readable, while reading it
 *   without ONLY is refused (its rows include the descendant's); a child of a denied parent was
 *   listed although reading it is refused; a child of a parent whose writes are denied kept write.
 * Every column describe_database lists is then read with query_database, as the description says
 * it may be read: masked exactly as marked, refused exactly where marked, plain otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const masking = (onDerived: 'deny' | 'mask') => `
masking:
  on_derived: ${onDerived}
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
    - { column: public.label_view.label, with: hash }
    - { column: public.payments.card, with: partial }
    - { column: public.payments_2024.note, with: redact }
    - { column: public.ledger_vault.note, with: redact }
`;

const RULES = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, delete]
      read: [user_view, user_view2, lower_view, user_mv, row_view, row_over, safe_view, label_view, payments, payments_2024, pay_view, pay_child_view, ledger, ledger_open, accounts, accounts_open, vaults_open, quirks]
      write: [logs, logs_archive, jobs, jobs_2024]
      functions: [count, lower]
  - id: no-ledger-vault
    effect: deny
    tool: query_database
    sql: { read: [public.ledger_vault] }
  - id: no-frozen-accounts
    effect: deny
    tool: query_database
    sql: { read: [public.accounts_frozen] }
  - id: no-vaults
    effect: deny
    tool: query_database
    sql: { read: [public.vaults] }
  - id: no-archive-writes
    effect: deny
    tool: query_database
    sql: { write: [public.logs_archive] }
  - id: no-jobs-writes
    effect: deny
    tool: query_database
    sql: { write: [public.jobs] }
`;

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';
const CARD = 'CARD-0000-1111';
const NOTE = 'NOTE-CHILD-SECRET';
const VAULT = 'VAULT-NOTE-SECRET';
const SECRETS = [EMAIL, SSN, CARD, NOTE, VAULT];

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2edescribe' });
  await db.query(`
    CREATE TABLE users (id int, name text, email text, ssn text);
    INSERT INTO users VALUES (1, 'Alice', '${EMAIL}', '${SSN}');
    CREATE VIEW user_view AS SELECT id, name, email FROM users;
    CREATE VIEW user_view2 AS SELECT v.id, v.email AS contact, u.ssn FROM user_view v JOIN users u ON u.id = v.id;
    CREATE VIEW lower_view AS SELECT id, lower(email) AS e FROM users;
    CREATE MATERIALIZED VIEW user_mv AS SELECT id, email FROM users;
    CREATE VIEW row_view AS SELECT u AS whole FROM users u;
    CREATE VIEW row_over AS SELECT whole FROM row_view;
    CREATE VIEW safe_view AS SELECT id, name FROM users;
    CREATE VIEW label_view AS SELECT id, name AS label FROM users;

    CREATE TABLE payments (id int, card text, note text);
    CREATE TABLE payments_2024 () INHERITS (payments);
    INSERT INTO payments VALUES (1, '${CARD}', 'note-parent-plain');
    INSERT INTO payments_2024 VALUES (2, '${CARD}', '${NOTE}');
    CREATE VIEW pay_view AS SELECT id, card, note FROM payments;
    CREATE VIEW pay_child_view AS SELECT id, card FROM payments_2024;

    CREATE TABLE ledger (id int, note text);
    CREATE TABLE ledger_open () INHERITS (ledger);
    CREATE TABLE ledger_vault () INHERITS (ledger);
    INSERT INTO ledger VALUES (1, 'ledger-plain');
    INSERT INTO ledger_vault VALUES (2, '${VAULT}');

    CREATE TABLE accounts (id int, region text) PARTITION BY LIST (region);
    CREATE TABLE accounts_open PARTITION OF accounts FOR VALUES IN ('eu');
    CREATE TABLE accounts_frozen PARTITION OF accounts FOR VALUES IN ('us');

    CREATE TABLE vaults (id int, secret text);
    CREATE TABLE vaults_open () INHERITS (vaults);

    CREATE TABLE logs (id int, body text);
    CREATE TABLE logs_archive () INHERITS (logs);
    CREATE TABLE jobs (id int, body text);
    CREATE TABLE jobs_2024 () INHERITS (jobs);

    CREATE TABLE "odd.name" (id int);
    CREATE TABLE quirks (id int, "it's" text);
    INSERT INTO quirks VALUES (1, 'quirk-plain');

    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${db.role};
    GRANT DELETE ON logs, logs_archive, jobs, jobs_2024 TO ${db.role};
  `);
});

after(async () => {
  await db?.drop();
});

type Column = { name: string; type: string; masked?: string; refused?: string };
type Described = { table: string; access: string[]; columns: Column[]; requires_only?: string[]; note?: string };
type Result = Awaited<ReturnType<SqlWarden['query']>>;

async function describeAll(w: SqlWarden): Promise<Described[]> {
  const r = await w.w.call('describe_database', { connection: 'db' });
  assert.equal(r.isError, false, r.text);
  return (r.structured as { data: { tables: Described[] } }).data.tables;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** schema.table as SQL (the schema never holds a '.'; the table may). */
const relation = (name: string) => `${ident(name.slice(0, name.indexOf('.')))}.${ident(name.slice(name.indexOf('.') + 1))}`;

function maskedBy(r: Result): Record<string, string | null> {
  const columns = (r.structured as { columns: { name: string; masked?: string }[] }).columns;
  return Object.fromEntries(columns.map((c) => [c.name, c.masked ?? null]));
}

const assertNoLeak = noLeakOf(SECRETS);

function assertRefused(r: Result, sql: string, code = /^WARDEN_DENIED: /): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
  assert.match(r.text, code, sql);
  assertNoLeak(r, sql);
}

/**
 * Read every described column with query_database as the description says it may be read, and
 * check the description against what happens. Returns what was seen, to be checked by the caller.
 */
async function crossCheck(w: SqlWarden, tables: Described[]): Promise<{ masked: string[]; plain: string[]; refusedColumns: string[]; refusedTables: string[] }> {
  const seen = { masked: [] as string[], plain: [] as string[], refusedColumns: [] as string[], refusedTables: [] as string[] };
  for (const t of tables) {
    const rel = relation(t.table);
    if (!t.access.includes('read')) {
      const sql = `SELECT count(*) AS n FROM ${rel}`;
      assertRefused(await w.query(sql), sql, /^WARDEN_(DENIED|PARSE): /);
      seen.refusedTables.push(t.table);
      continue;
    }
    const only = t.requires_only?.includes('read') ? 'ONLY ' : '';
    if (only) {
      const sql = `SELECT count(*) AS n FROM ${rel}`;
      assertRefused(await w.query(sql), sql);
      const ok = await w.query(`SELECT count(*) AS n FROM ONLY ${rel}`);
      assert.equal(ok.isError, false, ok.text);
    }
    for (const c of t.columns) {
      const sql = `SELECT ${ident(c.name)} FROM ${only}${rel}`;
      const r = await w.query(sql);
      const key = `${t.table}.${c.name}`;
      if (c.refused?.startsWith('query_database cannot name it')) {
        // Its name cannot be written; SELECT * returns it, masked as described.
        assertRefused(r, sql, /^WARDEN_PARSE: /);
        const star = await w.query(`SELECT * FROM ${only}${rel}`);
        assert.equal(star.isError, false, star.text);
        assert.equal(maskedBy(star)[c.name], c.masked ?? null, `SELECT * FROM ${rel}: ${c.name}`);
        seen.refusedColumns.push(key);
        continue;
      }
      if (c.refused) {
        assertRefused(r, sql);
        assert.ok(c.masked, `${key}: a refused column is marked masked too`);
        seen.refusedColumns.push(key);
        continue;
      }
      assert.equal(r.isError, false, `${sql} (described as readable): ${r.text.slice(0, 300)}`);
      assert.equal(maskedBy(r)[c.name], c.masked ?? null, `${sql}: query_database masks it as ${maskedBy(r)[c.name]}, describe_database says ${c.masked ?? 'plain'}`);
      assertNoLeak(r, sql);
      (c.masked ? seen.masked : seen.plain).push(key);
    }
  }
  return seen;
}

const find = (tables: Described[], name: string): Described => {
  const t = tables.find((x) => x.table === name);
  assert.ok(t, `${name} is not described: ${tables.map((x) => x.table).join(', ')}`);
  return t;
};
const maskedColumns = (t: Described) => Object.fromEntries(t.columns.filter((c) => c.masked).map((c) => [c.name, c.masked]));

describe('on_derived: deny', () => {
  let w: SqlWarden;
  let tables: Described[];
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': masking('deny') + RULES });
    tables = await describeAll(w);
  });
  after(async () => {
    await w?.close();
  });

  test('lists exactly the granted relations a principal may touch', () => {
    assert.deepEqual(tables.map((t) => t.table).sort(), [
      'public.accounts', 'public.accounts_open', 'public.jobs', 'public.jobs_2024', 'public.label_view', 'public.ledger', 'public.ledger_open',
      'public.logs', 'public.logs_archive', 'public.lower_view', 'public.pay_child_view', 'public.pay_view', 'public.payments',
      'public.payments_2024', 'public.quirks', 'public.row_over', 'public.row_view', 'public.safe_view', 'public.user_mv', 'public.user_view', 'public.user_view2',
    ]);
  });

  test('view and materialized view columns carry the masks of the base columns they show', () => {
    assert.deepEqual(maskedColumns(find(tables, 'public.user_view')), { email: 'partial' });
    assert.deepEqual(maskedColumns(find(tables, 'public.user_view2')), { contact: 'partial', ssn: 'redact' });
    assert.deepEqual(maskedColumns(find(tables, 'public.user_mv')), { email: 'partial' });
    assert.deepEqual(maskedColumns(find(tables, 'public.label_view')), { label: 'hash' });
    assert.deepEqual(maskedColumns(find(tables, 'public.safe_view')), {});
    for (const v of ['public.user_view', 'public.user_view2', 'public.user_mv', 'public.safe_view']) {
      assert.ok(find(tables, v).columns.every((c) => !c.refused), `${v}: no column is refused`);
    }
  });

  test('masks that inheritance carries reach view columns too', () => {
    assert.deepEqual(maskedColumns(find(tables, 'public.pay_view')), { card: 'partial', note: 'redact' });
    assert.deepEqual(maskedColumns(find(tables, 'public.pay_child_view')), { card: 'partial' });
    assert.deepEqual(maskedColumns(find(tables, 'public.payments')), { card: 'partial', note: 'redact' });
    assert.deepEqual(maskedColumns(find(tables, 'public.payments_2024')), { card: 'partial', note: 'redact' });
  });

  test('a view column computed from a masked column is marked refused, and so is SELECT * on its view', async () => {
    const v = find(tables, 'public.lower_view');
    const e = v.columns.find((c) => c.name === 'e');
    assert.equal(e?.masked, 'redact');
    assert.match(e?.refused ?? '', /masked column public\.users\.email flows through an expression/);
    assert.equal(v.columns.find((c) => c.name === 'id')?.refused, undefined);
    assert.deepEqual(v.access, ['read']);
    assert.match(v.note ?? '', /SELECT \* .*refused/);
    assertRefused(await w.query('SELECT * FROM lower_view'), 'SELECT * FROM lower_view');
  });

  test('a view masking cannot follow, or that reads one, is listed as not readable, with the reason', () => {
    for (const name of ['public.row_view', 'public.row_over']) {
      const v = find(tables, name);
      assert.deepEqual(v.access, [], `${name}: ${JSON.stringify(v)}`);
      // Deny rules apply here too, and query_database judges them first: theirs is the refusal said.
      assert.match(v.note ?? '', /(masked columns|deny rules) cannot be followed through view public\.row_view/, name);
    }
  });

  test("a parent whose descendant is denied says to read it with ONLY, and shows the masks of an ONLY read", () => {
    const ledger = find(tables, 'public.ledger');
    assert.deepEqual(ledger.access, ['read']);
    assert.deepEqual(ledger.requires_only, ['read']);
    assert.match(ledger.note ?? '', /ONLY public\.ledger/);
    assert.match(ledger.note ?? '', /public\.ledger_vault/);
    assert.ok(!(ledger.note ?? '').includes('ledger_open'), ledger.note);
    // ledger_vault.note's mask reaches ledger read without ONLY, which is refused; ONLY ledger is plain.
    assert.deepEqual(maskedColumns(ledger), {});
    const accounts = find(tables, 'public.accounts');
    assert.deepEqual(accounts.requires_only, ['read']);
    assert.match(accounts.note ?? '', /public\.accounts_frozen/);
    for (const name of ['public.ledger_open', 'public.accounts_open', 'public.payments', 'public.user_view']) {
      const t = find(tables, name);
      assert.equal(t.requires_only, undefined, name);
      assert.equal(t.note, undefined, name);
    }
  });

  test('writes: a write-denied descendant means writing the parent needs ONLY; a write-denied parent takes write from its children', async () => {
    const logs = find(tables, 'public.logs');
    assert.deepEqual(logs.access, ['read', 'write']);
    assert.deepEqual(logs.requires_only, ['write']);
    assert.match(logs.note ?? '', /public\.logs_archive/);
    assert.deepEqual(find(tables, 'public.logs_archive').access, ['read']);
    assert.deepEqual(find(tables, 'public.jobs').access, ['read']);
    assert.deepEqual(find(tables, 'public.jobs_2024').access, ['read']);
    assertRefused(await w.query('DELETE FROM logs WHERE id < 0'), 'DELETE FROM logs');
    const ok = await w.query('DELETE FROM ONLY logs WHERE id < 0');
    assert.equal(ok.isError, false, ok.text);
    assertRefused(await w.query('DELETE FROM jobs_2024 WHERE id < 0'), 'DELETE FROM jobs_2024');
  });

  test('a child of a denied parent is not described, as its denied parent is not', async () => {
    assert.ok(!tables.some((t) => t.table === 'public.vaults_open' || t.table === 'public.vaults'));
    assertRefused(await w.query('SELECT * FROM vaults_open'), 'vaults_open');
  });

  test('every column reads as described: masked as marked, refused where marked, plain otherwise', async () => {
    const seen = await crossCheck(w, tables);
    assert.deepEqual(seen.refusedTables.sort(), ['public.row_over', 'public.row_view']);
    assert.deepEqual(seen.refusedColumns.sort(), ['public.lower_view.e', "public.quirks.it's"]);
    assert.deepEqual(seen.masked.sort(), [
      'public.label_view.label', 'public.pay_child_view.card', 'public.pay_view.card', 'public.pay_view.note', 'public.payments.card', 'public.payments.note',
      'public.payments_2024.card', 'public.payments_2024.note', 'public.user_mv.email', 'public.user_view.email', 'public.user_view2.contact', 'public.user_view2.ssn',
    ]);
    assert.ok(seen.plain.includes('public.ledger.note'), 'ONLY ledger returns its own note plain');
    assert.ok(seen.plain.includes('public.user_view.name'));
  });
});

describe('on_derived: mask', () => {
  let w: SqlWarden;
  let tables: Described[];
  before(async () => {
    w = await startSqlWarden(db, { 'p.yaml': masking('mask') + RULES });
    tables = await describeAll(w);
  });
  after(async () => {
    await w?.close();
  });

  test('a computed view column is marked masked whole, not refused', async () => {
    const v = find(tables, 'public.lower_view');
    const e = v.columns.find((c) => c.name === 'e');
    assert.equal(e?.masked, 'redact');
    assert.equal(e?.refused, undefined);
    assert.equal(v.note, undefined);
    const r = await w.query('SELECT * FROM lower_view');
    assert.equal(r.isError, false, r.text);
    assert.equal(maskedBy(r).e, 'redact');
    assertNoLeak(r, 'SELECT * FROM lower_view');
  });

  test('every column reads as described', async () => {
    const seen = await crossCheck(w, tables);
    assert.deepEqual(seen.refusedColumns, ["public.quirks.it's"]);
    assert.ok(seen.masked.includes('public.lower_view.e'));
    assert.ok(seen.masked.includes('public.pay_view.note'));
    assert.deepEqual(seen.refusedTables.sort(), ['public.row_over', 'public.row_view']);
  });
});

describe('a grant without a sql block (every table), under the same masks and denies', () => {
  let w: SqlWarden;
  let tables: Described[];
  before(async () => {
    const everything = RULES.replace(/    sql:\n      statements: \[select, delete\]\n      read: \[[^\]]*\]\n      write: \[[^\]]*\]\n      functions: \[count, lower\]\n/, '');
    assert.notEqual(everything, RULES);
    w = await startSqlWarden(db, { 'p.yaml': masking('deny') + everything });
    tables = await describeAll(w);
  });
  after(async () => {
    await w?.close();
  });

  test('denied relations and the children of denied parents are left out; the rest is described', () => {
    const names = tables.map((t) => t.table);
    for (const gone of ['public.ledger_vault', 'public.accounts_frozen', 'public.vaults', 'public.vaults_open']) assert.ok(!names.includes(gone), `${gone} described`);
    for (const kept of ['public.users', 'public.ledger', 'public.accounts', 'public.user_view', 'public.odd.name']) assert.ok(names.includes(kept), `${kept} not described`);
    assert.deepEqual(maskedColumns(find(tables, 'public.users')), { email: 'partial', ssn: 'redact' });
    assert.deepEqual(find(tables, 'public.ledger').requires_only, ['read']);
  });

  test('a relation query_database cannot name is listed as not readable, with the reason', () => {
    const odd = find(tables, 'public.odd.name');
    assert.deepEqual(odd.access, []);
    assert.match(odd.note ?? '', /^query_database cannot name it: "odd\.name" holds a "\."/);
  });

  test('a column query_database cannot name is marked refused; the rest of its table reads as usual', () => {
    const quirks = find(tables, 'public.quirks');
    assert.deepEqual(quirks.access, ['read']);
    assert.match(quirks.columns.find((c) => c.name === "it's")?.refused ?? '', /cannot name it .*special characters.*SELECT \* returns it/);
    assert.equal(quirks.columns.find((c) => c.name === 'id')?.refused, undefined);
  });

  test('every column reads as described', async () => {
    const seen = await crossCheck(w, tables);
    assert.deepEqual(seen.refusedTables.sort(), ['public.odd.name', 'public.row_over', 'public.row_view']);
    assert.deepEqual(seen.refusedColumns.sort(), ['public.lower_view.e', "public.quirks.it's"]);
    for (const c of ['public.users.email', 'public.users.ssn', 'public.pay_view.note', 'public.user_view2.contact']) assert.ok(seen.masked.includes(c), `${c} not masked`);
  });
});
