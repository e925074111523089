/**
 * A write's result fields (its RETURNING list) under masks, against a real PostgreSQL, at the
 * level of the query_database tool: their origins (relation and column of each field's table OID
 * and column number) are read before COMMIT and checked by the relation prints the write was
 * judged by (relation-prints.ts checkedFieldOrigins), and its rows are masked by those origins.
 * Read after COMMIT, a rename committed in between (a migration, another replica) named the
 * masked column otherwise and the rows came back unmasked. A cached origin that differs from the
 * prints is asked again; one that still differs refuses the write, nothing committed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WardenError, type ExecContext, type MaskingContext } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import type { FieldOrigin } from '../../../tools/postgres/catalog-names.js';
import { PgConnector } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const EMAIL = 'dave@example.com';

const conn: PostgresConnection = { name: 'db', type: 'postgres', url: 'env:DB', statement_timeout: 5000, max_rows: 100, max_bytes: 1 << 20, pool_size: 3 };
const masking: MaskingContext = { columns: [{ column: 'public.accounts.email', strategy: 'redact' }], onDerived: 'deny', apply: (_v, s) => `<${s}>` };

let db: TestDatabase;
let connector: PgConnector;
const tool = queryDatabaseTool(() => connector);

type Table = { columns: { name: string; masked?: string }[]; rows: unknown[][] };

async function write(sql: string): Promise<Table> {
  const ctx = {
    principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
    connection: conn,
    limits: { timeoutMs: 5000, maxRows: 100, maxBytes: 1 << 20 },
    masking,
    signal: new AbortController().signal,
    readOnly: false,
    log: () => undefined,
  } as unknown as ExecContext;
  const out = await tool.execute({ connection: 'db', sql }, analyzeSql(sql), ctx);
  assert.equal(out.kind, 'table');
  return out as unknown as Table;
}

/** Wrap the connector's field-origin lookup with `around` (the original's answer passed through it) until restored. */
function aroundOrigins(around: (ask: () => Promise<FieldOrigin | null>, calls: number) => Promise<FieldOrigin | null>): () => void {
  const original = connector.fieldOrigin.bind(connector);
  let calls = 0;
  connector.fieldOrigin = (...a: Parameters<PgConnector['fieldOrigin']>) => around(() => original(...a), ++calls);
  return () => {
    connector.fieldOrigin = original;
  };
}

const noteOf = async (): Promise<string> => (await db.query<{ note: string }>('SELECT note FROM public.accounts WHERE id = 1')).rows[0]!.note;

before(async () => {
  db = await createTestDatabase({ prefix: 'retorig' });
  await db.query(`CREATE TABLE public.accounts (id int PRIMARY KEY, email text, note text);
    INSERT INTO public.accounts VALUES (1, '${EMAIL}', 'n0');
    GRANT SELECT, UPDATE ON public.accounts TO ${db.role}`);
  connector = new PgConnector(conn, { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

test('a rename committed as the write commits: its RETURNING rows are masked by the names it was judged by', async () => {
  // The migration is sent when the write asks its fields' origins. Asked before COMMIT, the
  // rename waits for the write's lock (so the origins are the judged ones); asked after
  // COMMIT, it commits first and the origin names email_old, which no mask names.
  let migration: Promise<unknown> | null = null;
  const restore = aroundOrigins(async (ask) => {
    migration ??= db.query('ALTER TABLE public.accounts RENAME COLUMN email TO email_old');
    await Promise.race([migration, new Promise((r) => setTimeout(r, 500))]);
    return ask();
  });
  try {
    // `*`: its fields are masked by their origins alone (the statement names no column).
    const t = await write(`UPDATE public.accounts SET note = 'n1' WHERE id = 1 RETURNING *`);
    assert.deepEqual(t.columns.map((c) => [c.name, c.masked ?? null]), [['id', null], ['email', 'redact'], ['note', null]]);
    assert.ok(!JSON.stringify(t.rows).includes(EMAIL), JSON.stringify(t.rows));
    assert.deepEqual(t.rows, [[1, '<redact>', 'n1']]);
  } finally {
    restore();
  }
  await migration;
  assert.equal(await noteOf(), 'n1', 'the write was committed');
  await db.query('ALTER TABLE public.accounts RENAME COLUMN email_old TO email');
  connector.forgetAfterWrite();
});

test('a cached origin unlike the prints (older than they are) is asked of the catalog again: the write commits, masked', async () => {
  await write(`UPDATE public.accounts SET note = 'warm' WHERE id = 1 RETURNING id`); // prints and origins cached
  // The first answer is a stale one: column 2 under the name it had before a rename.
  const restore = aroundOrigins(async (ask, calls) => {
    const origin = await ask();
    return calls <= 3 && origin?.column === 'email' ? { ...origin, column: 'contact' } : origin;
  });
  try {
    const t = await write(`UPDATE public.accounts SET note = 'n2' WHERE id = 1 RETURNING *`);
    assert.deepEqual(t.rows, [[1, '<redact>', 'n2']]);
    assert.equal(t.columns[1]!.masked, 'redact');
  } finally {
    restore();
  }
  assert.equal(await noteOf(), 'n2');
});

test('an origin that still differs from the prints refuses the write before COMMIT: nothing committed, no value named', async () => {
  const restore = aroundOrigins(async (ask) => {
    const origin = await ask();
    return origin?.column === 'email' ? { ...origin, column: 'contact' } : origin;
  });
  try {
    await assert.rejects(write(`UPDATE public.accounts SET note = 'n3' WHERE id = 1 RETURNING *`), (e: unknown) => {
      assert.ok(e instanceof WardenError, String(e));
      assert.equal(e.code, 'WARDEN_DENIED');
      assert.match(e.message, /catalog changed.*nothing was committed/s);
      assert.ok(!e.message.includes(EMAIL));
      return true;
    });
  } finally {
    restore();
  }
  assert.equal(await noteOf(), 'n2', 'rolled back');
});
