/**
 * What a write reaches beyond the tables it names, judged by the deny rules (write-reach.ts,
 * widened-relations.ts), through `warden serve` against a real PostgreSQL:
 * - foreign keys: ON DELETE CASCADE / SET NULL and ON UPDATE CASCADE write the referencing
 *   table, followed level by level (shops -> carts -> cart_items), also behind an updatable
 *   view; a cascade into a table no deny names runs;
 * - triggers (row or statement, BEFORE/AFTER/INSTEAD OF, on the table, its descendants written
 *   without ONLY, or a view): the trigger function is a function the statement calls, so a deny
 *   on `functions:` refuses the write; what the function body reads or writes is not analysed,
 *   so a trigger function neither built in nor named by the grant refuses the write while a deny
 *   rule on tables applies; a built-in or granted one runs;
 * - rewrite rules: refused while a conditional deny applies (sql-write-side-effects.test.ts),
 *   run when none does.
 * Nothing the refused statements would have changed is changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { countRows, ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const WRITABLE = [
  'users', 'users_view', 'accounts', 'teams', 'shops', 'tags', 'stamped', 'audited', 'plain', 'plain_view',
  'events', 'events_child', 'touched', 'suppressed', 'ruled',
];

const GRANT = `
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      write: [${WRITABLE.map((t) => `public.${t}`).join(', ')}]
      functions: [public.touch_updated]
`;

const DENIES = `
  - id: no-orders
    effect: deny
    tool: query_database
    sql: { write: [public.orders] }
  - id: no-ledger
    effect: deny
    tool: query_database
    sql: { write: [public.ledger] }
  - id: no-members
    effect: deny
    tool: query_database
    sql: { write: [public.members] }
  - id: no-cart-items
    effect: deny
    tool: query_database
    sql: { write: [public.cart_items] }
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
  - id: no-stamp
    effect: deny
    tool: query_database
    sql: { functions: [public.stamp_secret] }
`;

let db: TestDatabase;
let guarded: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreach' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY);
    CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id) ON DELETE CASCADE);
    CREATE VIEW users_view AS SELECT id FROM users;
    INSERT INTO users VALUES (1), (2); INSERT INTO orders VALUES (10, 1), (20, 2);
    CREATE TABLE accounts (id int PRIMARY KEY);
    CREATE TABLE ledger (id int PRIMARY KEY, account_id int REFERENCES accounts (id) ON UPDATE CASCADE);
    INSERT INTO accounts VALUES (1); INSERT INTO ledger VALUES (10, 1);
    CREATE TABLE teams (id int PRIMARY KEY);
    CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams (id) ON DELETE SET NULL);
    INSERT INTO teams VALUES (1); INSERT INTO members VALUES (10, 1);
    CREATE TABLE shops (id int PRIMARY KEY);
    CREATE TABLE carts (id int PRIMARY KEY, shop_id int REFERENCES shops (id) ON DELETE CASCADE);
    CREATE TABLE cart_items (id int PRIMARY KEY, cart_id int REFERENCES carts (id) ON DELETE CASCADE);
    INSERT INTO shops VALUES (1); INSERT INTO carts VALUES (10, 1); INSERT INTO cart_items VALUES (100, 10);
    CREATE TABLE tags (id int PRIMARY KEY);
    CREATE TABLE tag_links (id int PRIMARY KEY, tag_id int REFERENCES tags (id) ON DELETE CASCADE);
    INSERT INTO tags VALUES (1), (2); INSERT INTO tag_links VALUES (10, 1), (20, 2);
    CREATE TABLE vault (body text);
    CREATE FUNCTION stamp_secret() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TABLE stamped (body text);
    CREATE TRIGGER stamp BEFORE INSERT ON stamped FOR EACH ROW EXECUTE FUNCTION stamp_secret();
    CREATE FUNCTION audit_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO vault VALUES ('audited'); RETURN NULL; END $$;
    CREATE TABLE audited (body text);
    CREATE TRIGGER audit AFTER INSERT ON audited FOR EACH STATEMENT EXECUTE FUNCTION audit_write();
    CREATE TABLE plain (body text);
    CREATE VIEW plain_view AS SELECT body FROM plain;
    CREATE FUNCTION view_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO vault VALUES (NEW.body); RETURN NEW; END $$;
    CREATE TRIGGER plain_view_ins INSTEAD OF INSERT ON plain_view FOR EACH ROW EXECUTE FUNCTION view_insert();
    CREATE TABLE events (id int, body text);
    CREATE TABLE events_child () INHERITS (events);
    CREATE TRIGGER child_stamp BEFORE UPDATE ON events_child FOR EACH ROW EXECUTE FUNCTION stamp_secret();
    INSERT INTO events VALUES (1, 'parent'); INSERT INTO events_child VALUES (2, 'child');
    CREATE FUNCTION touch_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TABLE touched (body text);
    CREATE TRIGGER touch BEFORE INSERT ON touched FOR EACH ROW EXECUTE FUNCTION touch_updated();
    CREATE TABLE suppressed (id int, body text);
    CREATE TRIGGER suppress BEFORE UPDATE ON suppressed FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
    CREATE TABLE ruled (body text);
    CREATE TABLE ruled_copy (body text);
    CREATE RULE ruled_also AS ON INSERT TO ruled DO ALSO INSERT INTO ruled_copy VALUES (NEW.body);
  `);
  await ownTables(db, [...WRITABLE, 'orders', 'ledger', 'members', 'carts', 'cart_items', 'tag_links', 'vault', 'ruled_copy']);
  guarded = await startSqlWarden(db, { 'p.yaml': GRANT + DENIES }, sqlConfig());
  open = await startSqlWarden(db, { 'p.yaml': GRANT }, sqlConfig());
});

after(async () => {
  await guarded?.close();
  await open?.close();
  await db?.drop();
});

const count = (from: string): Promise<number> => countRows(db, from);

type Result = Awaited<ReturnType<SqlWarden['query']>>;

/** Refused (WARDEN_DENIED) by exactly `rules`, the message matching `path`. */
function refused(r: Result, rules: string[], path: RegExp): void {
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.match(r.text, path);
  assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, rules, r.text);
}

describe('foreign-key cascades', () => {
  test('DELETE cascading into a denied table is refused with the rule id and the path; nothing is deleted', async () => {
    const r = await guarded.query('DELETE FROM users WHERE id = 1');
    refused(r, ['no-orders'], /no-orders/);
    assert.match(r.text, /public\.users changes, through a foreign key ON DELETE CASCADE, the rows of public\.orders/);
    assert.equal(await count('users'), 2);
    assert.equal(await count('orders'), 2);
  });

  test('the same DELETE through an updatable view over the table is refused', async () => {
    const r = await guarded.query('DELETE FROM users_view WHERE id = 1');
    refused(r, ['no-orders'], /no-orders/);
    assert.match(r.text, /public\.users_view reads public\.users, which changes, through a foreign key ON DELETE CASCADE, the rows of public\.orders/);
    assert.equal(await count('orders'), 2);
  });

  test('ON UPDATE CASCADE: an UPDATE of the referenced key is refused', async () => {
    const r = await guarded.query('UPDATE accounts SET id = 2 WHERE id = 1');
    refused(r, ['no-ledger'], /no-ledger.*ON UPDATE CASCADE, the rows of public\.ledger/s);
    assert.equal(await count('ledger WHERE account_id = 1'), 1);
  });

  test('ON DELETE SET NULL writes the referencing table: refused', async () => {
    const r = await guarded.query('DELETE FROM teams WHERE id = 1');
    refused(r, ['no-members'], /no-members.*ON DELETE SET NULL, the rows of public\.members/s);
    assert.equal(await count('members WHERE team_id = 1'), 1);
  });

  test('a two-level cascade (shops -> carts -> cart_items) is followed', async () => {
    const r = await guarded.query('DELETE FROM shops WHERE id = 1');
    refused(r, ['no-cart-items'], /no-cart-items.*public\.shops changes, through a foreign key ON DELETE CASCADE, the rows of public\.carts, which changes, through a foreign key ON DELETE CASCADE, the rows of public\.cart_items/s);
    assert.equal(await count('cart_items'), 1);
    assert.equal(await count('shops'), 1);
  });

  test('a cascade into a table no deny names runs', async () => {
    const r = await guarded.query('DELETE FROM tags WHERE id = 1');
    assert.equal(r.isError, false, r.text);
    assert.equal(await count('tag_links'), 1);
  });
});

describe('triggers', () => {
  test('a trigger whose function a deny rule names refuses the write, naming the rule and the trigger', async () => {
    const r = await guarded.query("INSERT INTO stamped VALUES ('x')");
    refused(r, ['no-stamp'], /no-stamp.*public\.stamped fires trigger stamp, running public\.stamp_secret/s);
    assert.equal(await count('stamped'), 0);
  });

  test('a trigger on a descendant counts when the parent is written without ONLY, not with ONLY', async () => {
    const r = await guarded.query("UPDATE events SET body = 'y'");
    refused(r, ['no-stamp'], /no-stamp.*public\.events returns, named without ONLY, the rows of public\.events_child, which fires trigger child_stamp/s);
    assert.equal(await count("events WHERE body = 'y'"), 0);
    const only = await guarded.query("UPDATE ONLY events SET body = 'y'");
    assert.equal(only.isError, false, only.text);
  });

  test('a trigger function neither built in nor granted refuses the write while a deny rule on tables applies', async () => {
    const r = await guarded.query("INSERT INTO audited VALUES ('x')");
    refused(r, ['no-orders', 'no-ledger', 'no-members', 'no-cart-items', 'no-vault'], /trigger audit on public\.audited.*public\.audit_write/s);
    assert.match(r.text, /no-vault/);
    assert.equal(await count('vault'), 0);
    assert.equal(await count('audited'), 0);
  });

  test('an INSTEAD OF trigger on a view is followed as the view is written', async () => {
    const r = await guarded.query("INSERT INTO plain_view VALUES ('x')");
    refused(r, ['no-orders', 'no-ledger', 'no-members', 'no-cart-items', 'no-vault'], /trigger plain_view_ins on public\.plain_view.*public\.view_insert/s);
    assert.equal(await count('vault'), 0);
  });

  test('a granted trigger function and a built-in one run', async () => {
    const granted = await guarded.query("INSERT INTO touched VALUES ('x')");
    assert.equal(granted.isError, false, granted.text);
    await db.query("INSERT INTO suppressed VALUES (1, 'a')");
    const builtin = await guarded.query("UPDATE suppressed SET body = 'b'");
    assert.equal(builtin.isError, false, builtin.text);
  });

  test('a plain SELECT of a table with triggers and cascades is not refused', async () => {
    for (const sql of ['SELECT * FROM audited', 'SELECT * FROM users', 'SELECT * FROM plain_view']) {
      const r = await guarded.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text}`);
    }
  });

  test('with no conditional deny, a write with triggers runs', async () => {
    const r = await open.query("INSERT INTO audited VALUES ('open')");
    assert.equal(r.isError, false, r.text);
    assert.equal(await count('vault'), 1);
  });
});

describe('rewrite rules', () => {
  test('a rule on a written table refuses the write while a deny applies', async () => {
    const r = await guarded.query("INSERT INTO ruled VALUES ('x')");
    refused(r, [], /rules of public\.ruled.*rule ruled_also/s);
    assert.equal(await count('ruled_copy'), 0);
  });

  test('the same write runs when no deny applies', async () => {
    const r = await open.query("INSERT INTO ruled VALUES ('x')");
    assert.equal(r.isError, false, r.text);
    assert.equal(await count('ruled_copy'), 1);
  });
});
