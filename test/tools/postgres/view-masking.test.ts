/**
 * Column masks hold through views (and views of views, materialized views), against a real
 * PostgreSQL, at the level of the query_database tool: PostgreSQL's field metadata names the
 * view's own column and the analyser's lineage stops at the view, so a mask on
 * public.users.email must be followed through each view's definition. A view whose definition
 * cannot be analysed is refused while masks exist. A plain SELECT on a table costs no catalog
 * round trip once the table's kind is cached.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type ExecContext, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { checkouts } from '../../support/pg-checkouts.js';

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 });

let db: TestDatabase;
let connector: PgConnector;
const tool = queryDatabaseTool(() => connector);

const MASKS = [
  { column: 'public.users.email', strategy: 'partial' },
  { column: 'public.users.ssn', strategy: 'redact' },
];

function masking(onDerived: 'deny' | 'mask' = 'deny', columns = MASKS): MaskingContext {
  return { columns, onDerived, apply: (_v, s) => `<${s}>` };
}

type Table = { columns: { name: string; masked?: string }[]; rows: unknown[][] };

async function run(sql: string, m: MaskingContext = masking(), readOnly = true): Promise<Table> {
  const ctx = {
    principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
    connection: conn('env:DB'),
    limits: { timeoutMs: 3000, maxRows: 100, maxBytes: 1 << 20 },
    masking: m,
    signal: new AbortController().signal,
    readOnly,
    log: () => undefined,
  } as unknown as ExecContext;
  const out = await tool.execute({ connection: 'db', sql }, analyzeSql(sql), ctx);
  assert.equal(out.kind, 'table');
  return out as unknown as Table;
}

/** The masked strategy of each column, by name. */
const maskedBy = (t: Table) => Object.fromEntries(t.columns.map((c) => [c.name, c.masked ?? null]));

function assertNoLeak(t: Table, sql: string): void {
  const all = JSON.stringify(t.rows);
  for (const secret of [EMAIL, SSN]) assert.ok(!all.includes(secret), `${sql} leaks ${secret}: ${all}`);
}

async function refused(sql: string, re: RegExp, m: MaskingContext = masking()): Promise<void> {
  await assert.rejects(run(sql, m), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, 'WARDEN_DENIED');
    assert.match(e.message, re);
    assert.ok(!e.message.includes(EMAIL));
    return true;
  }, sql);
}


before(async () => {
  db = await createTestDatabase({ prefix: 'viewmask' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', '${EMAIL}', '${SSN}');
    CREATE VIEW user_view AS SELECT id, email FROM users;
    CREATE VIEW user_view2 AS SELECT id, email AS contact FROM user_view;
    CREATE VIEW user_view3 AS SELECT v.contact, v.id FROM user_view2 v;
    CREATE MATERIALIZED VIEW user_mv AS SELECT v.id, v.email, u.ssn FROM user_view v JOIN users u ON u.id = v.id;
    CREATE VIEW "Contacts" AS SELECT id, email AS "Email" FROM users;
    CREATE VIEW lower_view AS SELECT id, lower(email) AS e FROM users;
    CREATE VIEW safe_view AS SELECT id, name FROM users;
    CREATE VIEW row_view AS SELECT u AS whole FROM users u;
    CREATE SCHEMA other;
    CREATE VIEW other.contacts AS SELECT name, ssn FROM public.users;
    CREATE TABLE swap1 (id int, x text);
    CREATE TABLE swap2 (id int, x text);
    CREATE TABLE swap3 (id int, x text);
    INSERT INTO swap1 VALUES (1, 'plain'); INSERT INTO swap2 VALUES (1, 'plain'); INSERT INTO swap3 VALUES (1, 'plain');
    GRANT USAGE ON SCHEMA other TO ${db.role};
    GRANT SELECT ON ALL TABLES IN SCHEMA public, other TO ${db.role};
    GRANT CREATE ON SCHEMA public TO ${db.role};
    ALTER TABLE swap3 OWNER TO ${db.role};
  `);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

describe('a mask on a base column holds through views', () => {
  for (const [sql, column] of [
    ['SELECT id, email FROM user_view', 'email'],
    ['SELECT * FROM user_view', 'email'],
    ['SELECT v.email FROM user_view v WHERE v.id = 1', 'email'],
    ['SELECT contact FROM user_view2', 'contact'],
    ['SELECT * FROM user_view3', 'contact'],
    ['SELECT email FROM user_mv', 'email'],
    ['SELECT "Email" FROM "Contacts"', 'Email'],
    ['SELECT c FROM (SELECT email AS c FROM user_view) s', 'c'],
    ['WITH w AS (SELECT * FROM user_view2) SELECT contact FROM w', 'contact'],
  ] as const) {
    test(sql, async () => {
      const t = await run(sql);
      assert.equal(maskedBy(t)[column], 'partial', JSON.stringify(t.columns));
      assertNoLeak(t, sql);
    });
  }

  test('every masked column of a materialized view and of a view in another schema', async () => {
    const mv = await run('SELECT * FROM user_mv');
    assert.deepEqual(maskedBy(mv), { id: null, email: 'partial', ssn: 'redact' });
    assertNoLeak(mv, 'user_mv');
    const other = await run('SELECT * FROM other.contacts');
    assert.deepEqual(maskedBy(other), { name: null, ssn: 'redact' });
    assertNoLeak(other, 'other.contacts');
  });

  test('a view with no masked column reads as before', async () => {
    const t = await run('SELECT id, name FROM safe_view');
    assert.deepEqual(maskedBy(t), { id: null, name: null });
    assert.deepEqual(t.rows, [[1, 'Alice']]);
  });

  test('a mask named on the view column itself still applies', async () => {
    const t = await run('SELECT name FROM safe_view', masking('deny', [{ column: 'public.safe_view.name', strategy: 'hash' }]));
    assert.equal(maskedBy(t).name, 'hash');
  });
});

describe('on_derived applies to what a view computes from a masked column', () => {
  for (const sql of ['SELECT e FROM lower_view', 'SELECT * FROM lower_view', 'SELECT upper(email) AS u FROM user_view', 'SELECT length(contact) AS n FROM user_view2']) {
    test(`${sql}: refused under on_derived: deny`, () => refused(sql, /masked column public\.users\.email flows through an expression/));
  }

  test('redacted whole under on_derived: mask', async () => {
    const t = await run('SELECT * FROM lower_view', masking('mask'));
    assert.deepEqual(maskedBy(t), { id: null, e: 'redact' });
    assertNoLeak(t, 'lower_view');
  });

  test('a whole view row in one value is refused', () => refused('SELECT v FROM user_view v', /flows through an expression/));
});

describe('a view whose definition cannot be analysed', () => {
  test('is refused with a coded error while masks exist', () =>
    refused('SELECT whole FROM row_view', /cannot be followed through view public\.row_view: its definition is not understood/));

  test('is refused again from the cache, also when the statement reads it without returning its columns', async () => {
    await refused('SELECT count(*) AS n FROM (SELECT * FROM row_view) s', /public\.row_view/);
    await refused('SELECT id FROM users WHERE EXISTS (SELECT 1 FROM row_view)', /public\.row_view/);
  });

  test('reads as before when no column is masked', async () => {
    const t = await run('SELECT count(*) AS n FROM row_view', masking('deny', []));
    assert.deepEqual(t.rows, [['1']]);
  });
});

describe('catalog round trips', () => {
  test('a plain SELECT on a table costs one checkout once the table kind is cached', async () => {
    for (const sql of ['SELECT id, email, ssn FROM users', 'SELECT u.name, u.email FROM users u WHERE u.id = 1']) {
      await run(sql); // warms the kind of public.users, its column list and the field origins
      assert.equal(await checkouts(() => run(sql)), 1, sql);
    }
  });

  test('a SELECT on a view costs one checkout once its lineage is cached: the check that its views are unchanged rides in the statement\'s round trip (relation-prints.ts)', async () => {
    await run('SELECT contact FROM user_view2');
    assert.equal(await checkouts(() => run('SELECT contact FROM user_view2')), 1);
  });

  test('no mask configured: no catalog lookup at all, even for a view', async () => {
    const sql = 'SELECT id FROM lower_view WHERE id = 1';
    await run(sql, masking('deny', [])); // warms the field origin
    assert.equal(await checkouts(() => run(sql, masking('deny', []))), 1);
  });
});

describe('a table replaced by a view', () => {
  test('within the cache lifetime: the field metadata shows the view, and the mask follows it', async () => {
    await run('SELECT x FROM swap1');
    await db.query('DROP TABLE swap1; CREATE VIEW swap1 AS SELECT id, email AS x FROM users; GRANT SELECT ON swap1 TO ' + db.role);
    const t = await run('SELECT x, id FROM swap1');
    assert.equal(maskedBy(t).x, 'partial');
    assertNoLeak(t, 'swap1');
  });

  test('within the cache lifetime: the stale kind is seen in the statement\'s round trip (relation-prints.ts), and the read is judged anew: on_derived refuses it', async () => {
    await run('SELECT x FROM swap2');
    await db.query('DROP TABLE swap2; CREATE VIEW swap2 AS SELECT id, email AS x FROM users; GRANT SELECT ON swap2 TO ' + db.role);
    await refused('SELECT lower(x) AS y, x FROM swap2', /masked column public\.users\.email flows through an expression/);
    const t = await run('SELECT lower(x) AS y, x FROM swap2', masking('mask'));
    assert.deepEqual(maskedBy(t), { y: 'redact', x: 'partial' });
    assertNoLeak(t, 'swap2');
  });

  test('by a statement Warden ran: the cache is forgotten, and on_derived refuses before running', async () => {
    await run('SELECT x FROM swap3');
    await run('DROP TABLE swap3', masking(), false);
    await run('CREATE VIEW public.swap3 AS SELECT id, email AS x FROM users', masking(), false);
    await refused('SELECT lower(x) AS y FROM swap3', /masked column public\.users\.email flows through an expression/);
  });
});
