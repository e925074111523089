/**
 * A masked column may not be copied, unmasked, into a table by a statement that writes: once in
 * public.notes, `SELECT body FROM notes` would return it raw (PostgreSQL's field metadata names
 * notes.body, and no lineage leads back to users.email). So every value a statement stores
 * (INSERT's query or VALUES, UPDATE's SET, CREATE TABLE AS, SELECT INTO, ALTER ... USING, a
 * generated column, also inside a data-modifying CTE) is checked against the masks before the
 * statement runs, whatever on_derived says. Predicates (WHERE, JOIN ON, ORDER BY) store nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type ExecContext, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { checkDerivedFlows, planColumnMasks } from '../../../tools/postgres/column-masking.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import { checkMaskedCopies } from '../../../tools/postgres/masked-copies.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const MASKS = [
  { column: 'public.users.email', strategy: 'partial' },
  { column: 'public.users.ssn', strategy: 'redact' },
];
const masking = (onDerived: 'deny' | 'mask' = 'deny'): MaskingContext => ({ columns: MASKS, onDerived, apply: (_v, s) => `<${s}>` });

/** The refusal for `sql` under both on_derived settings, naming `column` and `target`. */
function refused(sql: string, column = 'public.users.email', target = 'public.notes'): void {
  for (const onDerived of ['deny', 'mask'] as const) {
    assert.throws(() => checkMaskedCopies(analyzeSql(sql), masking(onDerived)), (e: unknown) => {
      assert.ok(e instanceof WardenError, `${sql}: ${String(e)}`);
      assert.equal(e.code, 'WARDEN_DENIED', sql);
      assert.ok(e.message.includes(`masked column ${column} would be copied into ${target}`), `${sql}: ${e.message}`);
      return true;
    }, `${sql} (on_derived: ${onDerived})`);
  }
}

const allowed = (sql: string): void => {
  for (const onDerived of ['deny', 'mask'] as const) checkMaskedCopies(analyzeSql(sql), masking(onDerived));
};

describe('a write may not copy a masked column', () => {
  test('INSERT ... SELECT, directly, through expressions and whole rows', () => {
    refused('INSERT INTO public.notes (body) SELECT email FROM public.users');
    refused('INSERT INTO notes (body) SELECT lower(email) FROM users');
    refused("INSERT INTO notes (body) SELECT email || '' FROM users");
    refused('INSERT INTO notes (body) SELECT CAST(u AS text) FROM users u');
    refused('INSERT INTO notes SELECT * FROM users', 'public.users.email');
    refused('INSERT INTO notes (id, body) SELECT id, ssn FROM users', 'public.users.ssn', 'public.notes.body');
    refused("INSERT INTO notes (body) SELECT 'x' UNION ALL SELECT email FROM users");
    refused("INSERT INTO notes (body) SELECT CASE WHEN id > 0 THEN email END FROM users");
    refused('INSERT INTO notes (body) SELECT count(*) || min(email) FROM users');
  });

  test('through subqueries, CTEs inside the query and VALUES', () => {
    refused('INSERT INTO notes (body) SELECT x.e FROM (SELECT email AS e FROM users) x');
    refused('INSERT INTO notes (body) SELECT * FROM (WITH x AS (SELECT email FROM users) SELECT * FROM x) s');
    refused('INSERT INTO notes (body) VALUES ((SELECT email FROM users LIMIT 1))');
    refused("INSERT INTO notes (id, body) VALUES (1, 'a'), (2, (SELECT max(email) FROM users))", 'public.users.email', 'public.notes.body');
    refused('INSERT INTO notes (body) SELECT (SELECT email FROM users u WHERE u.id = n.id) FROM notes n');
    refused('INSERT INTO notes (body) WITH x AS (SELECT email FROM users) SELECT * FROM x');
    refused('INSERT INTO notes (body) WITH RECURSIVE r(e) AS (SELECT email FROM users UNION SELECT e FROM r) SELECT e FROM r');
    refused('INSERT INTO notes (body) SELECT t.x FROM users u, LATERAL (SELECT u.email AS x) t');
    refused("INSERT INTO notes (body) SELECT string_agg(email, ',') FROM users");
    refused('INSERT INTO notes (body) SELECT j.value FROM users u, json_each(row_to_json(u)) j');
  });

  test('CREATE TABLE AS and SELECT INTO', () => {
    refused('CREATE TABLE public.copy AS SELECT * FROM public.users', 'public.users.email', 'public.copy');
    refused('CREATE TABLE public.copy AS SELECT id, ssn FROM users WITH NO DATA', 'public.users.ssn', 'public.copy.ssn');
    refused('CREATE TABLE public.copy (e) AS SELECT email FROM users', 'public.users.email', 'public.copy.e');
    refused('CREATE TABLE public.copy AS WITH x AS (SELECT lower(email) AS e FROM users) SELECT * FROM x', 'public.users.email', 'public.copy');
    refused('CREATE TEMP TABLE copy AS SELECT ssn FROM users', 'public.users.ssn', 'pg_temp.copy');
    refused('SELECT email INTO copy FROM users', 'public.users.email', 'public.copy');
    refused('SELECT * INTO copy FROM users', 'public.users.email', 'public.copy');
  });

  test('UPDATE SET, from a join, a subquery or the row itself', () => {
    refused('UPDATE public.notes SET body = u.email FROM public.users u WHERE u.id = notes.id', 'public.users.email', 'public.notes.body');
    refused('UPDATE public.notes SET body = (SELECT email FROM public.users LIMIT 1)', 'public.users.email', 'public.notes.body');
    refused('UPDATE notes SET body = x.e FROM (SELECT id, upper(email) AS e FROM users) x WHERE x.id = notes.id');
    refused('UPDATE users SET name = email', 'public.users.email', 'public.users.name');
    refused("UPDATE users SET name = 'x', email = ssn", 'public.users.ssn', 'public.users.email');
  });

  test('data-modifying CTEs and EXPLAIN ANALYZE', () => {
    refused('WITH m AS (UPDATE notes SET body = (SELECT email FROM users LIMIT 1) RETURNING body) SELECT * FROM m');
    refused('WITH m AS (INSERT INTO notes (body) VALUES ((SELECT email FROM users LIMIT 1)) RETURNING body) SELECT * FROM m');
    refused('WITH m AS (UPDATE notes SET body = u.email FROM users u RETURNING notes.id) SELECT 1', 'public.users.email', 'public.notes.body');
    refused('EXPLAIN ANALYZE INSERT INTO notes (body) SELECT email FROM users');
  });

  test('INSERT ... ON CONFLICT DO UPDATE: the insert, SET from the existing row, SET from EXCLUDED', () => {
    // Was refused as not understood; now understood, and refused for the copy its INSERT makes.
    refused('INSERT INTO notes (body) SELECT email FROM users ON CONFLICT (id) DO UPDATE SET body = excluded.body', 'public.users.email', 'public.notes.body');
    // The same copy an UPDATE makes (refused above as `UPDATE users SET name = email`).
    refused("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = email", 'public.users.email', 'public.users.name');
    refused("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = users.email", 'public.users.email', 'public.users.name');
    refused("INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = lower(users.ssn)", 'public.users.ssn', 'public.users.name');
    refused("INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = (SELECT u.email FROM users u LIMIT 1)", 'public.users.email', 'public.notes.body');
    refused('INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = users::text', 'public.users.email', 'public.users.name');
    // EXCLUDED carries the insert's lineage: a masked value is refused where it goes in, and where SET moves it.
    refused('INSERT INTO notes (id, title) SELECT id, email FROM users ON CONFLICT (id) DO UPDATE SET body = excluded.title', 'public.users.email', 'public.notes.title');
    // In a data-modifying CTE; and a subquery's own alias `excluded` shadows the proposed row, as in PostgreSQL.
    refused('WITH m AS (INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = email RETURNING id) SELECT * FROM m', 'public.users.email', 'public.users.name');
    refused('INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = (SELECT excluded.email FROM users excluded LIMIT 1)', 'public.users.email', 'public.notes.body');
  });

  test('INSERT ... ON CONFLICT that stores no masked value runs', () => {
    allowed("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE users.email LIKE $1");
    allowed("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO NOTHING");
    allowed("INSERT INTO users (id, email) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = DEFAULT");
  });

  test('DDL that computes stored values from a masked column', () => {
    refused('ALTER TABLE public.users ALTER COLUMN name TYPE text USING email', 'public.users.email', 'public.users.name');
    refused('ALTER TABLE public.users ADD COLUMN e2 text GENERATED ALWAYS AS (lower(email)) STORED', 'public.users.email', 'public.users.e2');
  });

  test('a foreign key to a masked column (ON UPDATE CASCADE copies every later value into the referencing one)', () => {
    refused('ALTER TABLE public.notes ADD CONSTRAINT fk FOREIGN KEY (body) REFERENCES public.users (email) ON UPDATE CASCADE NOT VALID', 'public.users.email', 'public.notes.body');
    refused('ALTER TABLE public.notes ADD COLUMN mail text REFERENCES public.users (email)', 'public.users.email', 'public.notes.mail');
    refused('CREATE TABLE public.notes (id int, body text, FOREIGN KEY (body) REFERENCES public.users (email) ON UPDATE CASCADE)', 'public.users.email', 'public.notes.body');
    // No column list: the referenced table's primary key, which the analysis cannot name (whole row).
    refused('ALTER TABLE public.notes ADD CONSTRAINT fk FOREIGN KEY (body) REFERENCES public.users', 'public.users.email', 'public.notes.body');
    allowed('ALTER TABLE public.notes ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES public.users (id) ON UPDATE CASCADE');
    allowed('CREATE TABLE public.notes (id int, owner int REFERENCES public.users (id))');
  });

  test('shapes the analyser does not read stay refused (WARDEN_PARSE)', () => {
    for (const sql of [
      'WITH x AS (SELECT email FROM users) INSERT INTO notes SELECT * FROM x',
      'WITH m AS (INSERT INTO notes (body) SELECT email FROM users RETURNING body) SELECT * FROM m',
      'INSERT INTO notes (body) SELECT email FROM users RETURNING body',
      'MERGE INTO notes USING users ON true WHEN MATCHED THEN UPDATE SET body = users.email',
      'UPDATE notes SET (body, id) = (SELECT email, id FROM users LIMIT 1)',
      'SELECT email INTO public.copy FROM users',
    ]) {
      assert.throws(() => analyzeSql(sql), (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_PARSE', sql);
    }
  });
});

describe('writes that store no masked value still run', () => {
  test('predicates, unmasked columns and constants', () => {
    for (const sql of [
      "INSERT INTO notes (body) VALUES ('x')",
      'INSERT INTO notes (id, body) VALUES ($1, $2)',
      'UPDATE users SET name = 1 WHERE email = $1',
      'UPDATE notes SET body = n.body FROM notes n JOIN users u ON u.email = n.body WHERE n.id = notes.id',
      "UPDATE notes SET body = 'x' WHERE body IN (SELECT email FROM users)",
      'INSERT INTO notes (id, body) SELECT id, name FROM users WHERE email LIKE $1 ORDER BY email',
      'INSERT INTO notes (body) SELECT name FROM users u JOIN notes n ON n.body = u.email',
      'DELETE FROM notes WHERE body IN (SELECT email FROM users)',
      'CREATE TABLE public.names AS SELECT id, name FROM users WHERE ssn IS NOT NULL',
      // A view stores nothing: reading it follows its lineage (view-masking.ts).
      'CREATE VIEW public.v AS SELECT email FROM users',
      'SELECT email FROM users',
    ]) {
      allowed(sql);
    }
  });

  test('facts list the stored lineage', () => {
    assert.deepEqual(analyzeSql('INSERT INTO notes (id, body) SELECT id, lower(email) FROM users WHERE ssn = $1').stored, [
      { table: 'public.notes', column: 'id', sources: [{ table: 'public.users', column: 'id' }], derived: false },
      { table: 'public.notes', column: 'body', sources: [{ table: 'public.users', column: 'email' }], derived: true },
    ]);
    // Constants store no column's value; a predicate stores nothing.
    assert.deepEqual(analyzeSql("UPDATE notes SET body = 'x', id = id + 1 WHERE body = (SELECT email FROM users LIMIT 1)").stored, [
      { table: 'public.notes', column: 'id', sources: [{ table: 'public.notes', column: 'id' }], derived: true },
    ]);
    assert.deepEqual(analyzeSql("INSERT INTO notes VALUES (1, 'a'), ($1, $2)").stored, []);
    assert.deepEqual(analyzeSql('SELECT email FROM users').stored, []);
  });
});

describe('RETURNING is output, masked like a SELECT', () => {
  test('a masked column returned by a write is masked or refused', () => {
    const plain = "INSERT INTO notes (body) VALUES ('x') RETURNING (SELECT email FROM users LIMIT 1) AS e";
    allowed(plain);
    checkDerivedFlows(analyzeSql(plain), masking('deny'));
    assert.deepEqual(planColumnMasks(analyzeSql(plain), [null], masking('mask')), ['partial']);
    const computed = "INSERT INTO notes (body) VALUES ('x') RETURNING lower((SELECT email FROM users LIMIT 1)) AS e";
    allowed(computed);
    assert.throws(() => checkDerivedFlows(analyzeSql(computed), masking('deny')), /flows through an expression/);
    assert.deepEqual(planColumnMasks(analyzeSql(computed), [null], masking('mask')), ['redact']);
    assert.deepEqual(planColumnMasks(analyzeSql("UPDATE users SET name = 'x' RETURNING email"), ['public.users.email'], masking('mask')), ['partial']);
  });
});

// The same through query_database against a real PostgreSQL: refused before the statement
// runs (nothing is written), views followed, ordinary writes run.
const EMAIL = 'alice@example.com';
const conn: PostgresConnection = { name: 'db', type: 'postgres', url: 'env:DB', statement_timeout: 3000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 };
let db: TestDatabase;
let connector: PgConnector;
const tool = queryDatabaseTool(() => connector);

async function run(sql: string, params: unknown[] = []): Promise<{ rows: unknown[][]; affected?: number | null }> {
  const ctx = {
    principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
    connection: conn,
    limits: { timeoutMs: 3000, maxRows: 100, maxBytes: 1 << 20 },
    masking: masking('mask'),
    signal: new AbortController().signal,
    readOnly: false,
    log: () => undefined,
  } as unknown as ExecContext;
  const out = await tool.execute({ connection: 'db', sql, params: params as string[] }, analyzeSql(sql), ctx);
  return out as unknown as { rows: unknown[][]; affected?: number | null };
}

describe('query_database refuses a masked copy before it runs', () => {
  before(async () => {
    db = await createTestDatabase({ prefix: 'maskcopy' });
    await db.query(`
      CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text);
      INSERT INTO users VALUES (1, 'Alice', '${EMAIL}', '123-45-6789');
      CREATE TABLE notes (id serial PRIMARY KEY, body text);
      CREATE VIEW user_view AS SELECT id, email AS contact FROM users;
      GRANT SELECT, UPDATE ON users, user_view TO ${db.role};
      GRANT SELECT, INSERT, UPDATE ON notes TO ${db.role};
      GRANT USAGE ON SEQUENCE notes_id_seq TO ${db.role};
    `);
    connector = new PgConnector(conn, { resolve: async () => db.url });
  });
  after(async () => {
    await connector?.close();
    await db?.drop();
  });

  test('directly and through a view: refused, nothing written', async () => {
    for (const sql of ['INSERT INTO notes (body) SELECT email FROM users', 'INSERT INTO notes (body) SELECT contact FROM user_view', 'UPDATE users SET name = contact FROM user_view v WHERE v.id = users.id']) {
      await assert.rejects(run(sql), (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_DENIED' && /masked column public\.users\.email would be copied/.test(e.message), sql);
    }
    const raw = await db.query('SELECT count(*)::int AS n FROM notes');
    assert.equal(raw.rows[0]!.n, 0);
    const names = await db.query('SELECT name FROM users');
    assert.equal(names.rows[0]!.name, 'Alice');
  });

  test('ordinary writes run', async () => {
    assert.equal((await run("INSERT INTO notes (body) VALUES ('hello')")).affected, 1);
    assert.equal((await run('UPDATE users SET name = $2 WHERE email = $1', [EMAIL, 'Alicia'])).affected, 1);
    assert.equal((await run('INSERT INTO notes (body) SELECT name FROM users WHERE email IS NOT NULL')).affected, 1);
    const raw = await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
    assert.deepEqual(raw.rows.map((r) => r.body), ['hello', 'Alicia']);
  });
});
