/**
 * Discovery for a principal whose only grant is a rule whose condition block judges another
 * family's calls, via `warden serve` (real MCP client over stdio) against a real PostgreSQL.
 * The hole: `ops-uptime` (no `tool:`, no `on:`) lets ops run `uptime` over SSH or kubectl_exec;
 * its `shell:` block never matches a query_database call (engine.ts evalRule), so ops may read
 * no table. But discovery read "no `tool:`" as "every tool", conditions unread: describe_database
 * was granted, and a grant with no `sql:` block reads as "every table", so ops was handed the
 * name, columns and types of every table of every database (and an analyst also in ops every
 * table past her one-table grant); tools/list offered query_database, list_connections named
 * every database connection. Now an allow counts in discovery only for the tools whose calls
 * each of its blocks judges (engine.ts grantsTool, decideDiscovery).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: ops-uptime
    effect: allow
    who: { groups: [ops] }
    shell: { programs: { uptime: {} } }
  - id: ana-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { read: [public.users] }
`;

let db: TestDatabase;
let ops: SqlWarden;
let both: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'foreignblk' });
  await db.query(`CREATE TABLE users (id int, name text); CREATE TABLE payroll (id int, salary_secret_col int); GRANT SELECT ON users, payroll TO ${db.role}`);
  ops = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig('olga', ['ops']));
  both = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig('bo', ['ops', 'analysts']));
});
after(async () => {
  await ops?.close();
  await both?.close();
  await db?.drop();
});

const all = (r: { text: string; structured?: unknown }) => `${r.text}\n${JSON.stringify(r.structured ?? {})}`;

describe('a grant whose block judges only other tools grants no database discovery', () => {
  test('ops sees neither query_database nor describe_database in tools/list', async () => {
    const names = (await ops.w.client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('query_database') && !names.includes('describe_database'), names.join(', '));
    assert.ok(names.includes('list_connections'), names.join(', '));
  });

  test('describe_database for ops names no table, column or type', async () => {
    const r = await ops.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, true, all(r));
    assert.doesNotMatch(all(r), /payroll|salary_secret_col|users/, all(r));
  });

  test('ops cannot run a query, and the connection answers as unknown as any other name', async () => {
    const r = await ops.query('SELECT id FROM payroll');
    assert.equal(r.isError, true, r.text);
    const made = await ops.w.call('query_database', { connection: 'no-such-db', sql: 'SELECT 1' });
    assert.equal(r.text.split(':')[0], made.text.split(':')[0], `${r.text}\n${made.text}`);
  });

  test('list_connections for ops names no database', async () => {
    const r = await ops.w.call('list_connections', {});
    assert.equal(r.isError, false, r.text);
    assert.deepEqual((r.structured as { data: { connections: unknown[] } }).data.connections, [], all(r));
  });

  test('a neighbour: a principal with a sql grant too is described exactly that grant, and told only it', async () => {
    const r = await both.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, false, r.text);
    const tables = (r.structured as { data: { tables: { table: string; columns: { name: string }[] }[] } }).data.tables;
    assert.deepEqual(tables.map((t) => t.table), ['public.users']);
    assert.doesNotMatch(all(r), /payroll|salary_secret_col/, all(r));
    const list = await both.w.call('list_connections', {});
    const conns = (list.structured as { data: { connections: { name: string; tools: string[]; grants: string[] }[] } }).data.connections;
    assert.deepEqual(conns.map((c) => [c.name, c.tools]), [['db', ['query_database']]]);
    assert.deepEqual(conns[0]!.grants.map((g) => g.split(':')[0]), ['ana-read']);
    const q = await both.query('SELECT id FROM users');
    assert.equal(q.isError, false, q.text);
  });
});

// The "you may instead use" of a refusal named ops-uptime for query_database and describe_database:
// a rule that can never grant the tool (its `shell:` block judges no sql call) offered as the way in.
describe('a refusal offers as alternatives only rules that can grant the tool', () => {
  test('a refused query is offered ana-read, not the shell-only ops-uptime', async () => {
    const r = await both.query('SELECT id FROM payroll');
    assert.equal(r.isError, true, r.text);
    assert.match(all(r), /ana-read/, all(r));
    assert.doesNotMatch(all(r), /ops-uptime/, all(r));
  });

  test('a refused describe_database for ops offers no shell-only rule', async () => {
    const r = await ops.w.call('describe_database', { connection: 'db' });
    assert.equal(r.isError, true, all(r));
    assert.doesNotMatch(all(r), /ops-uptime|uptime/, all(r));
  });
});
