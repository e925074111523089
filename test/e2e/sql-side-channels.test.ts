/**
 * Side channels of a masked value, via `warden serve` against a real PostgreSQL, under a grant
 * without a `sql:` block (which allows every function): a masked column compared in a WHERE
 * clause (where masks let it be read) fed to a function that keeps it outside the statement's
 * output, where output lineage never sees it (value-stores.ts):
 * - an advisory lock keyed by the value's character codes, read back from pg_locks in the same
 *   statement;
 * - a large object written by a read (its transaction keeps it), read back by lo_get in the next
 *   call;
 * - setval in a write, read back from the sequence in the next call;
 * - a long value's TOAST chunks, read from pg_toast by a role that may (a superuser, or one
 *   granted pg_toast as here), for a masked column or a denied table alike;
 * - a table's data file, read with pg_read_binary_file by a role that may (a superuser, or one
 *   granted pg_read_server_files and EXECUTE as here).
 * Without masks or deny rules each one returns the value (the fixture); under a column mask and
 * under a conditional deny rule each is refused, named or through a view, and what the guards
 * leave readable still reads (pg_locks, a sequence's value, a predicate on the masked column,
 * which is a documented channel of its own: README, Masking by lineage).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, NO_KEYS_DENY, noLeakOf, ownTables, refusalOf, startSqlWarden, type GuardedWardens } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
/** Long values kept out of line (STORAGE EXTERNAL: TOAST chunks, uncompressed). */
const LONG_EMAIL = `carol.toast@example.com${'Z'.repeat(3000)}`;
const LONG_KEY = `KEY-TOAST-SECRET-42${'Q'.repeat(3000)}`;
/** A short key, kept in the table's own pages. */
const PAGE_KEY = 'KEY-PAGE-SECRET-9';
const FILE_READ = "SELECT encode(pg_read_binary_file(pg_relation_filepath('public.keys')), 'escape') AS d";
const MASKS = 'masking:\n  columns: [{ column: public.users.email, with: redact }]\n';

/** Locks keyed (position, character code) for every character of user 1's email, read back from pg_locks in the same statement. */
const LOCK_READ =
  'SELECT l.classid, l.objid FROM pg_catalog.pg_locks l WHERE l.locktype = \'advisory\' AND l.objid > 0 AND ' +
  '(SELECT count(*) FROM public.users u, generate_series(1, 40) AS g(n) WHERE u.id = 1 AND pg_try_advisory_xact_lock(g.n, ascii(substr(u.email, g.n, 1)))) >= 0 ' +
  'ORDER BY l.classid';

/** A read that stores user 1's email in large object `oid`, and the read that returns it. */
const loWrite = (oid: number): string => `SELECT count(*) AS n FROM public.users WHERE id = 1 AND lo_from_bytea(${oid}, convert_to(email, 'UTF8')) > 0`;
const loRead = (oid: number): string => `SELECT encode(lo_get(${oid}), 'escape') AS v`;

/** A write that stores the first character code of user 1's email in a sequence. */
const SETVAL = "UPDATE public.notes SET body = 'x' WHERE setval('public.s', (SELECT ascii(email) FROM public.users WHERE id = 1)) > 0";

let db: TestDatabase;
const w = {} as GuardedWardens;
/** The TOAST tables of users and keys (pg_toast.pg_toast_<oid>), found once they exist. */
const toast = { users: '', keys: '' };
const toastRead = (table: string): string => `SELECT encode(chunk_data, 'escape') AS d FROM ${table} ORDER BY chunk_id, chunk_seq`;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2esidech' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text);
    INSERT INTO users VALUES (1, '${SECRET}'), (2, 'bob@example.com');
    ALTER TABLE users ALTER COLUMN email SET STORAGE EXTERNAL;
    INSERT INTO users VALUES (3, '${LONG_EMAIL}');
    CREATE TABLE keys (id int, k text);
    ALTER TABLE keys ALTER COLUMN k SET STORAGE EXTERNAL;
    INSERT INTO keys VALUES (1, '${LONG_KEY}'), (2, '${PAGE_KEY}');
    CREATE TABLE notes (id int, body text);
    INSERT INTO notes VALUES (1, 'n');
    CREATE SEQUENCE s;
    CREATE VIEW locked AS SELECT id FROM users WHERE pg_try_advisory_xact_lock(id, ascii(email));
    CREATE VIEW blob AS SELECT lo_get(4242) AS b;
  `);
  await ownTables(db, ['users', 'keys', 'notes', 's', 'locked', 'blob']);
  const t = await db.query<{ u: string; k: string }>(
    "SELECT 'public.users'::regclass::oid AS u, 'public.keys'::regclass::oid AS k",
  );
  const toastOf = async (oid: string): Promise<string> =>
    (await db.query<{ t: string }>('SELECT reltoastrelid::regclass::text AS t FROM pg_class WHERE oid = $1', [oid])).rows[0]!.t;
  [toast.users, toast.keys] = [await toastOf(t.rows[0]!.u), await toastOf(t.rows[0]!.k)];
  await db.query(`GRANT USAGE ON SCHEMA pg_toast TO ${db.role}; GRANT SELECT ON ${toast.users}, ${toast.keys} TO ${db.role}`);
  await db.query(`GRANT pg_read_server_files TO ${db.role}; GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO ${db.role}; CHECKPOINT`);
  [w.plain, w.masked, w.denied] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': MASKS + ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL + NO_KEYS_DENY }),
  ]);
});

after(async () => {
  await Promise.all([w.plain, w.masked, w.denied].map((x) => x?.close()));
  await db?.drop();
});

const rows = (r: { structured?: unknown }): string[][] => (r.structured as { rows: string[][] }).rows;

describe('without masks or deny rules each channel carries the value (the leaks these refusals close)', () => {
  test('advisory lock keys, read from pg_locks in the same statement, spell the email', async () => {
    const r = await w.plain.query(LOCK_READ);
    assert.equal(r.isError, false, r.text);
    // pg_locks is the whole cluster's: another test's advisory locks (a transcript store's, keyed by a
    // large class) may show beside this statement's, keyed by the positions 1 to 40.
    const mine = rows(r).filter(([pos]) => Number(pos) >= 1 && Number(pos) <= 40);
    assert.equal(String.fromCharCode(...mine.map(([, code]) => Number(code))), SECRET);
  });

  test('a large object a read writes is there for lo_get in the next call', async () => {
    const r = await w.plain.query(loWrite(4242));
    assert.equal(r.isError, false, r.text);
    const back = await w.plain.query(loRead(4242));
    assert.equal(back.isError, false, back.text);
    assert.equal(rows(back)[0]![0], SECRET);
  });

  test("a sequence setval sets in a write returns the value's character code in the next call", async () => {
    const r = await w.plain.query(SETVAL);
    assert.equal(r.isError, false, r.text);
    const back = await w.plain.query('SELECT last_value FROM public.s');
    assert.equal(rows(back)[0]![0], String(SECRET.charCodeAt(0)));
  });

  test("a table's data file returns a denied table's rows", async () => {
    const r = await w.plain.query(FILE_READ);
    assert.equal(r.isError, false, r.text);
    assert.ok(r.text.includes(PAGE_KEY), r.text.slice(0, 200));
  });

  test("a TOAST table returns another table's long values: a masked column's, a denied table's", async () => {
    for (const [table, value] of [[toast.users, LONG_EMAIL.slice(0, 40)], [toast.keys, LONG_KEY.slice(0, 40)]] as const) {
      const r = await w.plain.query(toastRead(table));
      assert.equal(r.isError, false, r.text);
      assert.ok(rows(r).map(([d]) => d).join('').includes(value), `${table}: ${r.text.slice(0, 200)}`);
    }
  });
});

const refused = refusalOf([SECRET, 'carol.toast', 'KEY-TOAST', PAGE_KEY]);
const statements = (): string[] => [
  FILE_READ,
  toastRead(toast.users),
  toastRead(toast.keys),
  LOCK_READ,
  'SELECT count(*) AS n FROM public.users WHERE pg_advisory_xact_lock(id, ascii(email)) IS NULL',
  "SELECT count(*) AS n FROM public.users WHERE pg_catalog.pg_try_advisory_lock(length(email)) AND email LIKE 'a%'",
  loWrite(4343),
  loRead(4242),
  'SELECT count(*) AS n FROM public.users WHERE lo_create(ascii(email)) > 0',
  'SELECT count(*) AS n FROM pg_catalog.pg_largeobject',
  SETVAL,
  "SELECT count(*) AS n FROM public.users WHERE pg_notify('c', email) IS NULL",
  "SELECT count(*) AS n FROM public.users WHERE pg_logical_emit_message(false, 'p', email) IS NOT NULL",
  'SELECT id FROM public.locked',
  'SELECT b FROM public.blob',
];

describe('under masks and under a deny rule each channel is refused, named or through a view', () => {
  test('under masks', async () => {
    for (const sql of statements()) refused(await w.masked.query(sql), sql, /column masks apply/);
  });

  test('under a deny rule', async () => {
    for (const sql of statements()) refused(await w.denied.query(sql), sql, /deny rules apply/);
  });

  test('what names the channels but stores nothing still reads, and a predicate on the masked column runs (a documented channel)', async () => {
    const noLeak = noLeakOf([SECRET, 'carol.toast', 'KEY-TOAST']);
    for (const x of [w.masked, w.denied]) {
      for (const sql of [
        "SELECT count(*) AS n FROM pg_catalog.pg_locks WHERE locktype = 'advisory'",
        'SELECT last_value FROM public.s',
        'SELECT count(*) AS n FROM pg_catalog.pg_largeobject_metadata',
        "SELECT count(*) AS n FROM public.users WHERE email LIKE 'alice%'",
      ]) {
        const r = await x.query(sql);
        assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
        noLeak(r, sql);
      }
    }
  });
});
