/**
 * Tables changed out of band while a Warden holds their catalog answers (kind, columns,
 * inheritance family, field origins: cached up to 60 s), end to end against a real PostgreSQL
 * through the real MCP client. A migration that renames a column into a masked name, a table
 * attached as a partition of a masked one, a table swapped for a view: each is seen in the
 * read's own round trip (relation-prints.ts: the trailer after the statement), the read is judged
 * anew and comes back masked. Through another Warden replica (whose DDL forgets only its own
 * caches) too. A read of unchanged tables answers as before, with no round trip more. A write
 * whose own trigger creates a child table of its family is refused (the child rolls back with
 * it) until the child exists ahead of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, rowsOf, sqlConfig, startSqlWarden, writersPolicy, type SqlWarden } from '../support/sql-warden.js';

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

const CONFIG = sqlConfig('agent', ['analysts'], '10s');
const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: redact }
    - { column: public.people.email, with: redact }
    - { column: public.accounts.email, with: redact }
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, update, alter]
      read: [public.users, public.people, public.people_new, public.people_leaf, public.swapped, public.accounts]
      write: [public.accounts]
`;

/** No masks: a deny on the vault family; drafts and notes readable and writable. */
const DENY_POLICY = `
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update]
      read: [public.drafts, public.notes]
      write: [public.drafts, public.notes]
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { read: [public.vault], write: [public.vault] }
`;

/** Masks on an inheritance-partitioned table whose insert trigger creates its child tables. */
const SELF_POLICY = emailRedactions(['events']) + writersPolicy(['events']);

let db: TestDatabase;
let w: SqlWarden;
/** A second Warden on the same database (a replica): its catalog cache is its own. */
let replica: SqlWarden;
/** A Warden with deny rules and no masks (relation prints kept for the deny rules alone). */
let guarded: SqlWarden;
/** A Warden whose masked table's own trigger creates child tables. */
let selfChanging: SqlWarden;
const noLeak = noLeakOf([CAROL, DAVE]);

before(async () => {
  db = await createTestDatabase({ prefix: 'e2etchg' });
  await db.query(`CREATE TABLE public.users (id int PRIMARY KEY, email text, contact text);
    INSERT INTO public.users VALUES (1, '${CAROL}', 'c1'), (2, '${DAVE}', 'c2');
    CREATE TABLE public.people (id int, email text) PARTITION BY LIST (id);
    CREATE TABLE public.people_old PARTITION OF public.people FOR VALUES IN (0);
    CREATE TABLE public.people_new (id int, email text);
    INSERT INTO public.people_new VALUES (1, '${CAROL}');
    CREATE TABLE public.people_mid PARTITION OF public.people FOR VALUES IN (2, 3) PARTITION BY LIST (id);
    CREATE TABLE public.people_leaf (id int, email text);
    INSERT INTO public.people_leaf VALUES (3, '${DAVE}');
    CREATE TABLE public.swapped (id int, note text);
    INSERT INTO public.swapped VALUES (1, 'n1');
    CREATE TABLE public.accounts (id int, email text, contact text);
    INSERT INTO public.accounts VALUES (1, '${DAVE}', 'a1');
    CREATE TABLE public.vault (id int, secret text) PARTITION BY LIST (id);
    CREATE TABLE public.vault_old PARTITION OF public.vault FOR VALUES IN (0);
    CREATE TABLE public.drafts (id int, secret text);
    INSERT INTO public.drafts VALUES (1, '${CAROL}');
    CREATE TABLE public.notes (id int, secret text);
    INSERT INTO public.notes VALUES (2, '${DAVE}');
    CREATE TABLE public.events (id int, email text);
    CREATE FUNCTION public.events_route() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        EXECUTE 'CREATE TABLE IF NOT EXISTS public.events_' || NEW.id || ' () INHERITS (public.events)';
        EXECUTE 'INSERT INTO public.events_' || NEW.id || ' VALUES ($1, $2)' USING NEW.id, NEW.email;
        RETURN NULL;
      END $$;
    CREATE TRIGGER route BEFORE INSERT ON public.events FOR EACH ROW EXECUTE FUNCTION public.events_route()`);
  await ownTables(db, ['users', 'people', 'people_old', 'people_new', 'people_mid', 'people_leaf', 'swapped', 'accounts', 'vault', 'vault_old', 'drafts', 'notes', 'events']);
  await db.query(`GRANT CREATE ON SCHEMA public TO ${db.role}`);
  [w, replica, guarded, selfChanging] = await Promise.all([startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG), startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG),
    startSqlWarden(db, { 'p.yaml': DENY_POLICY }, CONFIG), startSqlWarden(db, { 'p.yaml': SELF_POLICY }, CONFIG)]);
});

after(async () => {
  await w?.close();
  await replica?.close();
  await guarded?.close();
  await selfChanging?.close();
  await db?.drop();
});

describe('a table changed after Warden cached its catalog answers', () => {
  test('a migration renames a column into the masked name: the next read masks it', async () => {
    const warm = await w.query('SELECT id, contact FROM public.users ORDER BY id');
    ranOk(warm, 'the read that caches the field origins');
    assert.deepEqual(rowsOf(warm), [[1, 'c1'], [2, 'c2']]);
    // The new column takes the emails, then takes the masked name; the old one steps aside.
    await db.query(`UPDATE public.users SET contact = email;
      ALTER TABLE public.users RENAME COLUMN email TO email_old;
      ALTER TABLE public.users RENAME COLUMN contact TO email`);
    for (const sql of ['SELECT id, email FROM public.users ORDER BY id', 'SELECT * FROM public.users ORDER BY id']) {
      const r = await w.query(sql);
      ranOk(r, `${sql} (judged anew)`);
      // email_old is not masked by the config (its name is not), so only the renamed column is checked.
      const columns = ((r.structured as { columns?: { name: string; masked?: string }[] }).columns ?? []);
      const email = columns.findIndex((c) => c.name === 'email');
      assert.ok(email >= 0, sql);
      assert.equal(columns[email]!.masked, 'redact', `${sql}: the renamed column is masked`);
      for (const row of rowsOf(r)) assert.ok(![CAROL, DAVE].includes(row[email] as string), `${sql}: ${JSON.stringify(row)}`);
    }
  });

  test('a table attached as a partition of a masked table: its rows are masked at once', async () => {
    const warm = await w.query('SELECT email FROM public.people_new');
    ranOk(warm, 'the read that caches its family (none yet)');
    assert.deepEqual(rowsOf(warm), [[CAROL]], 'not a partition yet: not masked');
    await db.query('ALTER TABLE public.people ATTACH PARTITION public.people_new FOR VALUES IN (1)');
    const r = await w.query('SELECT email FROM public.people_new');
    noLeak(r, 'the read after the attach');
    ranOk(r, 'the read after the attach (judged anew)');
    assert.equal(rowsOf(r).length, 1);
  });

  test('a table attached two levels under a masked table (a partition of its partition): masked at once', async () => {
    // The family as cached: people's (with people_mid) and people_leaf's (none yet).
    ranOk(await w.query('SELECT id FROM public.people'), 'the read that caches the partitioned family');
    const warm = await w.query('SELECT email FROM public.people_leaf');
    assert.deepEqual(rowsOf(warm), [[DAVE]], 'not a partition yet: not masked');
    await db.query('ALTER TABLE public.people_mid ATTACH PARTITION public.people_leaf FOR VALUES IN (3)');
    const r = await w.query('SELECT email FROM public.people_leaf');
    noLeak(r, 'the read after the attach');
    ranOk(r, 'the read after the attach (judged anew)');
    assert.equal(rowsOf(r).length, 1);
  });

  test('a table swapped for a view of the masked column: masked', async () => {
    ranOk(await w.query('SELECT note FROM public.swapped'), 'the read that caches its kind');
    await db.query(`DROP TABLE public.swapped; CREATE VIEW public.swapped AS SELECT id, email AS note FROM public.users;
      ALTER VIEW public.swapped OWNER TO ${db.role}`);
    const r = await w.query('SELECT note FROM public.swapped ORDER BY id');
    noLeak(r, 'the read after the swap');
    ranOk(r, 'the read after the swap (judged anew)');
    assert.equal(rowsOf(r).length, 2);
  });

  test('renamed through another Warden replica: the first one masks the next read', async () => {
    ranOk(await w.query('SELECT * FROM public.accounts'), 'the read that caches the columns and field origins');
    // The copy and the masked column's rename are out of band: through Warden each is refused
    // (it would move a masked value into a column of another name).
    await db.query('UPDATE public.accounts SET contact = email; ALTER TABLE public.accounts RENAME COLUMN email TO email_old');
    ranOk(await replica.query('ALTER TABLE public.accounts RENAME COLUMN contact TO email'), 'the replica renames');
    const r = await w.query('SELECT * FROM public.accounts');
    ranOk(r, 'the read after the renames (judged anew)');
    const columns = ((r.structured as { columns?: { name: string; masked?: string }[] }).columns ?? []);
    assert.deepEqual(columns.map((c) => [c.name, c.masked ?? null]), [['id', null], ['email_old', null], ['email', 'redact']]);
    assert.notEqual(rowsOf(r)[0]![2], DAVE);
  });
});

describe('a table attached to a deny-ruled family after Warden cached its answers', () => {
  test('a read (no masks configured): refused once the attach is seen, never answered', async () => {
    const warm = await guarded.query('SELECT secret FROM public.drafts');
    assert.deepEqual(rowsOf(warm), [[CAROL]], 'not in the vault yet: readable');
    await db.query('ALTER TABLE public.vault ATTACH PARTITION public.drafts FOR VALUES IN (1)');
    const r = await guarded.query('SELECT secret FROM public.drafts');
    noLeak(r, 'the read after the attach');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /WARDEN_DENIED/);
    assert.match(r.text, /no-vault/, 'judged anew: the deny on the family, not a catalog refusal');
  });

  test('a write: refused before COMMIT, nothing committed; the next one is judged anew and denied', async () => {
    ranOk(await guarded.query("UPDATE public.notes SET secret = 'n1' WHERE id = 2"), 'a write (it forgets the catalog answers)');
    ranOk(await guarded.query('SELECT id FROM public.notes'), 'the read that caches the family (none yet)');
    await db.query('ALTER TABLE public.vault ATTACH PARTITION public.notes FOR VALUES IN (2)');
    const r = await guarded.query("UPDATE public.notes SET secret = 'overwritten' WHERE true");
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /WARDEN_DENIED/);
    const rows = await db.query('SELECT secret FROM public.notes');
    assert.deepEqual(rows.rows, [{ secret: 'n1' }], 'nothing committed');
    const again = await guarded.query("UPDATE public.notes SET secret = 'overwritten' WHERE true");
    assert.equal(again.isError, true, again.text);
    assert.match(again.text, /no-vault/, 'judged anew: the deny on the family');
    assert.deepEqual((await db.query('SELECT secret FROM public.notes')).rows, [{ secret: 'n1' }]);
  });
});

describe('a write whose own trigger creates a child table of the family it was judged by', () => {
  // Its trailer sees the family grown by its own trigger: refused before COMMIT, the child table
  // rolled back with the row, so every such write is refused alike (fail closed) until the child
  // exists ahead of it, as inheritance partitioning schemes create theirs.
  test('refused each time, nothing committed; with the child created ahead it runs, and reads of it are masked', async () => {
    ranOk(await selfChanging.query('SELECT id, email FROM public.events'), 'the read that caches the family');
    for (const attempt of ['first', 'second']) {
      const r = await selfChanging.query(`INSERT INTO public.events VALUES (5, '${CAROL}')`);
      assert.equal(r.isError, true, `${attempt}: ${r.text}`);
      assert.match(r.text, /WARDEN_DENIED: the catalog changed .*nothing was committed/s, attempt);
      assert.deepEqual((await db.query('SELECT id FROM public.events')).rows, [], `${attempt}: no row`);
      assert.equal((await db.query(`SELECT to_regclass('public.events_5') AS t`)).rows[0]!.t, null, `${attempt}: the child rolled back`);
    }
    await db.query(`CREATE TABLE public.events_5 () INHERITS (public.events)`);
    await ownTables(db, ['events_5']);
    ranOk(await selfChanging.query(`INSERT INTO public.events VALUES (5, '${CAROL}')`), 'the child exists: the family is as judged');
    assert.deepEqual((await db.query('SELECT tableoid::regclass::text AS t, email FROM public.events')).rows, [{ t: 'events_5', email: CAROL }]);
    const read = await selfChanging.query('SELECT id, email FROM public.events');
    ranOk(read, 'the read of the family');
    noLeak(read, 'the child\'s row read through its parent');
    assert.deepEqual(rowsOf(read).map((row) => row[0]), [5]);
  });
});
