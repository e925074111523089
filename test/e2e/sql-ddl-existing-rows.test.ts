/**
 * DDL that evaluates expressions over a table's existing rows, or checks them against another
 * table, through `warden serve` against a real PostgreSQL. Whether it fails says something about
 * what it read, one bit a statement:
 * - `ALTER TABLE ... VALIDATE CONSTRAINT` of a foreign key checks every row against the
 *   referenced table, which the statement does not name (it names only the constraint), and
 *   `ALTER COLUMN ... TYPE` of a key column checks the keys again, on both sides: under a deny on
 *   reading that table both are refused, as an INSERT's key check is (key-checks.ts);
 * - a CHECK or an index expression or predicate over a masked column is evaluated on every row,
 *   so it is judged like the same expression in a query over the table: one that times or sizes
 *   work from the value (`repeat(..., ascii(email))`) is refused; a plain condition runs.
 * The same DDL on tables no deny or mask covers runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const GRANT = `
rules:
  - id: ddl-writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, alter, create]
      read: [public.users, public.secrets]
      write: [public.notes, public.users, public.comments, public.accounts]
      functions: [length, repeat, ascii, lower]
`;

const DENY = `
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
`;

const MASK = `
masking:
  columns: [{ column: public.accounts.email, with: redact }]
`;

const EMAIL = 'carol@example.com';

let db: TestDatabase;
let guarded: SqlWarden;
let open: SqlWarden;
let masked: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eddlrows' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text);
    CREATE TABLE secrets (k int PRIMARY KEY, user_id int REFERENCES users (id), body text);
    CREATE TABLE notes (id int PRIMARY KEY, k int, body text);
    CREATE TABLE comments (id int PRIMARY KEY, user_id int, body text);
    INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c');
    INSERT INTO secrets VALUES (42, 2, 'the answer');
    INSERT INTO notes VALUES (1, 42, 'n');
    INSERT INTO comments VALUES (1, 1, 'c');
    ALTER TABLE notes ADD CONSTRAINT notes_k_fkey FOREIGN KEY (k) REFERENCES secrets (k) NOT VALID;
    ALTER TABLE comments ADD CONSTRAINT comments_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
    CREATE TABLE accounts (id int PRIMARY KEY, email text);
    INSERT INTO accounts VALUES (1, '${EMAIL}');
    GRANT CREATE, USAGE ON SCHEMA public TO ${db.role};
  `);
  await ownTables(db, ['users', 'secrets', 'notes', 'comments', 'accounts']);
  guarded = await startSqlWarden(db, { 'p.yaml': GRANT + DENY }, sqlConfig());
  open = await startSqlWarden(db, { 'p.yaml': GRANT }, sqlConfig());
  masked = await startSqlWarden(db, { 'p.yaml': MASK + GRANT }, sqlConfig());
});

after(async () => {
  await guarded?.close();
  await open?.close();
  await masked?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

function refusedBySecrets(r: Result, path: RegExp): void {
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.match(r.text, /no-secrets/);
  assert.match(r.text, path);
  assert.doesNotMatch(r.text, /23503|violates foreign key/);
  assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['no-secrets'], r.text);
}

const ok = (r: Result, what: string): void => assert.equal(r.isError, false, `${what}: ${r.text.slice(0, 300)}`);

describe('foreign keys validated by DDL under a deny on reading the referenced table', () => {
  test('ADD FOREIGN KEY referencing the denied table is refused', async () => {
    const r = await guarded.query('ALTER TABLE public.notes ADD CONSTRAINT notes_k2 FOREIGN KEY (k) REFERENCES public.secrets (k)');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: .*no-secrets/);
  });

  test('VALIDATE CONSTRAINT of a key to the denied table is refused (the statement names only the constraint)', async () => {
    refusedBySecrets(await guarded.query('ALTER TABLE public.notes VALIDATE CONSTRAINT notes_k_fkey'), /public\.notes checks foreign key notes_k_fkey: its foreign key check reads public\.secrets/);
    const v = await db.query("SELECT convalidated FROM pg_constraint WHERE conname = 'notes_k_fkey'");
    assert.equal((v.rows[0] as { convalidated: boolean }).convalidated, false);
  });

  test('ALTER COLUMN TYPE of a key column checks the keys again: refused on either side', async () => {
    // The referenced side: rewriting users.id re-checks secrets' key against it (whether user 2 has a secret).
    refusedBySecrets(await guarded.query('ALTER TABLE public.users ALTER COLUMN id TYPE int USING CASE WHEN id = 2 THEN 1000 ELSE id END'), /secrets_user_id_fkey/);
    refusedBySecrets(await guarded.query('ALTER TABLE public.notes ALTER COLUMN k TYPE bigint'), /notes_k_fkey/);
  });

  test('the same channel is real: with no deny, the rewrite fails exactly when a secret references the user', async () => {
    const hit = await open.query('ALTER TABLE public.users ALTER COLUMN id TYPE int USING CASE WHEN id = 2 THEN 1000 ELSE id END');
    assert.equal(hit.isError, true, hit.text);
    assert.match(hit.text, /23503/);
    const miss = await open.query('ALTER TABLE public.users ALTER COLUMN id TYPE int USING CASE WHEN id = 3 THEN 1000 ELSE id END');
    ok(miss, 'rewrite of an unreferenced user');
    await db.query('UPDATE users SET id = 3 WHERE id = 1000');
  });

  test('DDL that checks no key, and keys to a readable table, still run under the deny', async () => {
    ok(await guarded.query('ALTER TABLE public.notes ADD COLUMN extra int'), 'ADD COLUMN');
    ok(await guarded.query('ALTER TABLE public.comments VALIDATE CONSTRAINT comments_user_fkey'), 'VALIDATE of a key to users');
    ok(await guarded.query('ALTER TABLE public.comments ALTER COLUMN body TYPE varchar(100)'), 'ALTER TYPE of a non-key column');
  });
});

describe('expressions evaluated over the rows of a table with a masked column', () => {
  const noLeak = noLeakOf([EMAIL]);

  test('a CHECK or an index predicate or expression sizing work from the masked value is refused', async () => {
    for (const sql of [
      "ALTER TABLE public.accounts ADD CONSTRAINT probe CHECK (length(repeat('x', ascii(email) * 100000)) > 0)",
      "ALTER TABLE public.accounts ADD CONSTRAINT probe CHECK (length(repeat('x', ascii(email) * 100000)) > 0) NOT VALID",
      "CREATE INDEX probe_idx ON public.accounts (id) WHERE length(repeat('x', ascii(email) * 100000)) > 0",
      "CREATE INDEX probe_idx ON public.accounts ((length(repeat('x', ascii(email) * 100000))))",
    ]) {
      const r = await masked.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text}`);
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.accounts\.email/, sql);
      noLeak(r, sql);
    }
    const left = await db.query("SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'probe'");
    assert.equal((left.rows[0] as { n: number }).n, 0);
  });

  test('a generated column copying the masked value is refused; a failed cast of it says no value, to the agent or the transcript', async () => {
    const gen = await masked.query('ALTER TABLE public.accounts ADD COLUMN copy text GENERATED ALWAYS AS (lower(email)) STORED');
    assert.equal(gen.isError, true, gen.text);
    assert.match(gen.text, /^WARDEN_DENIED: masked column public\.accounts\.email would be copied/);
    // USING computes a value from the masked column: a copy, refused before it runs.
    const using = await masked.query('ALTER TABLE public.accounts ALTER COLUMN email TYPE int USING email::int');
    assert.match(using.text, /^WARDEN_DENIED: masked column public\.accounts\.email would be copied/);
    // Without USING the cast is PostgreSQL's own (text to int has none it applies by itself, 42804);
    // a data exception's message is withheld, as it may quote the value.
    const none = await masked.query('ALTER TABLE public.accounts ALTER COLUMN email TYPE int');
    assert.match(none.text, /^WARDEN_BACKEND_ERROR: .*SQLSTATE 42804/);
    noLeak(none, 'TYPE int');
    const sql = 'ALTER TABLE public.accounts ALTER COLUMN email TYPE varchar(3)';
    const r = await masked.query(sql);
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /SQLSTATE 22001.*withheld/, sql);
    noLeak(r, sql);
    const recorded = [masked.dir.dbPath, `${masked.dir.dbPath}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
    assert.ok(recorded.includes('ALTER COLUMN email TYPE varchar(3)'), 'the calls are recorded');
    assert.ok(!recorded.includes(EMAIL), 'the transcript quotes the masked value');
  });

  test('a plain condition on the masked column, and DDL on unmasked columns, run', async () => {
    ok(await masked.query("ALTER TABLE public.accounts ADD CONSTRAINT has_at CHECK (email LIKE '%@%')"), 'CHECK row filter');
    ok(await masked.query('ALTER TABLE public.accounts ADD CONSTRAINT positive CHECK (id > 0)'), 'CHECK on id');
    ok(await masked.query("CREATE INDEX big_ids ON public.accounts (id) WHERE length(repeat('x', id)) > 0"), 'index over id');
  });
});
