/**
 * An approval binds where the connection reaches as its secret resolves, not only its configured
 * entry: `url: env:DATABASE_URL` names no database, the variable does. Found: a request approved
 * while `db`'s DATABASE_URL pointed at staging ran the identical DELETE on production after a
 * restart (or on a replica of the shared store) whose DATABASE_URL points there, since the entry,
 * and so the bound connection digest, was unchanged. Real `warden serve` processes, real
 * PostgreSQL databases, one SQLite store, the reviewer CLI as its own process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { approvalsCli } from './support.js';

const POLICY = `rules:
  - id: wipe-with-approval
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [db]
    sql: { statements: [delete], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }
`;

let staging: TestDatabase;
let prod: TestDatabase;
let dir: WardenDir;

before(async () => {
  staging = await createTestDatabase({ prefix: 'warden_target_staging' });
  prod = await createTestDatabase({ prefix: 'warden_target_prod' });
  for (const db of [staging, prod]) {
    await db.query('CREATE TABLE public.orders (id int PRIMARY KEY)');
    await db.query('INSERT INTO public.orders VALUES (1), (2)');
    await ownTables(db, ['orders']);
  }
  dir = writeWardenDir(sqlConfig('sam', ['sre']), { 'p.yaml': POLICY });
});

after(async () => {
  await staging?.drop();
  await prod?.drop();
  dir?.cleanup();
});

/** One `warden serve` on the shared folder whose DATABASE_URL is `db`'s: the call, then it stops. */
async function callOn(db: TestDatabase, sql: string) {
  const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
  try {
    return await w.call('query_database', { connection: 'db', sql });
  } finally {
    await w.close();
  }
}

const rowsOf = async (db: TestDatabase) => (await db.query<{ id: number }>('SELECT id FROM public.orders ORDER BY id')).rows.map((r) => r.id);

test('an approval given while the connection URL pointed at staging does not run the call once it points at production', async () => {
  const sql = 'DELETE FROM orders WHERE id = 1';
  const first = await callOn(staging, sql);
  assert.match(first.text, /^WARDEN_APPROVAL_PENDING/, first.text);
  const store = openSqliteStore(dir.dbPath);
  const [req] = await store.approvals.list({ state: 'pending' });
  await store.close();
  assert.ok(req, 'a pending request');
  assert.ok(!req.canonicalCall.includes(staging.password) && !req.canonicalCall.includes(staging.host + ':'), 'the bound call names neither the password nor the host');
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--comment', 'staging is fine']);
  assert.equal(ok.code, 0, ok.err);

  const moved = await callOn(prod, sql);
  assert.match(moved.text, /^WARDEN_APPROVAL_PENDING/, `the staging approval ran on production: ${moved.text}`);
  assert.deepEqual(await rowsOf(prod), [1, 2], 'production rows deleted on the staging approval');

  // Back on staging, the approval still runs the call it was given for, once.
  const same = await callOn(staging, sql);
  assert.equal(same.isError, false, same.text);
  assert.deepEqual(await rowsOf(staging), [2]);
});
