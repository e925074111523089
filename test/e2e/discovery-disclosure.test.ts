/**
 * What discovery and denials tell a principal about connections it cannot use, via `warden serve`
 * (real MCP client over stdio, two principals of different groups) against a real PostgreSQL.
 * The hole: `eng-read` grants eng `query_database on db, prod-payments`, and an unconditional deny keeps
 * contractors (also in eng) off prod. list_connections rightly left prod out, but the grant line
 * it printed under db ("eng-read: query_database on db, prod-payments ...") and the "you may instead use"
 * alternatives of a denied call on db named prod-payments all the same. Now a rule is described to a
 * principal with only the tools and connections it leaves that principal (deny wins in discovery
 * too); an engineer outside the deny is still told both connections.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: eng-read
    effect: allow
    who: { groups: [eng] }
    tool: [query_database, describe_database]
    on: [db, prod-payments]
    sql: { read: [public.users] }
  - id: contractors-off-prod
    effect: deny
    who: { groups: [contractors] }
    on: [prod-payments]
    reason: contractors never reach production
`;

/** warden.yaml: a stdio principal and two connections to the test database. */
function config(subject: string, groups: string[]): string {
  return `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ${subject}, groups: [${groups.join(', ')}] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 3s }
  prod-payments: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 3s }
policies: [policies/*.yaml]
`;
}

let db: TestDatabase;
let contractor: SqlWarden;
let engineer: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'disclose' });
  await db.query(`CREATE TABLE users (id int, name text); CREATE TABLE orders (id int); GRANT SELECT ON users, orders TO ${db.role}`);
  contractor = await startSqlWarden(db, { 'p.yaml': POLICY }, config('carol', ['eng', 'contractors']));
  engineer = await startSqlWarden(db, { 'p.yaml': POLICY }, config('erin', ['eng']));
});
after(async () => {
  await contractor?.close();
  await engineer?.close();
  await db?.drop();
});

const all = (r: { text: string; structured?: unknown }) => `${r.text}\n${JSON.stringify(r.structured ?? {})}`;

describe('a connection an unconditional deny keeps a principal off is named nowhere it is told', () => {
  test('list_connections: neither listed nor named in the grant line of another connection', async () => {
    const r = await contractor.w.call('list_connections', {});
    assert.equal(r.isError, false, r.text);
    const data = (r.structured as { data: { connections: { name: string; grants: string[] }[] } }).data;
    assert.deepEqual(data.connections.map((c) => c.name), ['db']);
    assert.doesNotMatch(all(r), /prod-payments/, r.text);
    assert.match(data.connections[0]!.grants.join('\n'), /^eng-read: query_database\/describe_database on db SQL select; reading public\.users/);
  });

  test('a denied call on db: the alternatives name only what the caller may use', async () => {
    const r = await contractor.query('SELECT id FROM orders');
    assert.equal(r.isError, true);
    assert.match(r.text, /^WARDEN_DENIED: no rule allows this call/);
    assert.match(r.text, /you may instead use:\n {2}- eng-read: query_database\/describe_database on db SQL select/);
    assert.doesNotMatch(all(r), /prod-payments/, r.text);
  });

  test('a call on the denied connection is refused by the deny, and offered nothing there', async () => {
    const r = await contractor.w.call('query_database', { connection: 'prod-payments', sql: 'SELECT id FROM users' });
    assert.equal(r.isError, true);
    assert.match(r.text, /^WARDEN_DENIED: contractors never reach production\nrule: contractors-off-prod$/);
  });

  test('a principal outside the deny is still told both connections', async () => {
    const list = await engineer.w.call('list_connections', {});
    const data = (list.structured as { data: { connections: { name: string; grants: string[] }[] } }).data;
    assert.deepEqual(data.connections.map((c) => c.name), ['db', 'prod-payments']);
    assert.match(data.connections[0]!.grants.join('\n'), /^eng-read: query_database\/describe_database on db, prod-payments SQL select/);
    const r = await engineer.query('SELECT id FROM orders');
    assert.match(r.text, /- eng-read: query_database\/describe_database on db, prod-payments SQL select/);
  });
});
