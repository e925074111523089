/**
 * A session that breaks after it opened (the network cuts the connection while a query runs)
 * fails that call with a coded error in Warden's words, and Warden keeps serving: the pg client
 * of a checked-out session emits 'error' when its socket ends, which with no listener ended the
 * whole process. A real `warden serve` reaches the test database through a relay that cuts a
 * connection carrying the catalog query of the deny rules' reach (view-reader.ts, by a phrase of its
 * own: the pool's opening check reads pg_rewrite too, acting-roles.ts), or the marker
 * of a statement; the transcript store on PostgreSQL is cut the same way mid-write.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { cuttingRelay, type CuttingRelay } from '../../support/cutting-relay.js';
import { ANALYSTS_READ_ALL, NO_KEYS_DENY, startSqlWarden, type SqlWarden } from '../../support/sql-warden.js';
import { openPgStore } from '../../../src/recorder/index.js';

let db: TestDatabase;
let lookups: CuttingRelay;
let statements: CuttingRelay;
let viaLookups: SqlWarden;
let viaStatements: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'lookup_err' });
  await db.query('CREATE TABLE public.users (id int, name text); CREATE TABLE public.keys (id int, secret text); INSERT INTO public.users VALUES (1, $$ann$$)');
  await db.query(`GRANT SELECT ON public.users, public.keys TO ${db.role}`);
  [lookups, statements] = await Promise.all([cuttingRelay(db.port, `'rule ' || r.rulename`), cuttingRelay(db.port, 'cut-here')]);
  const policy = { 'p.yaml': ANALYSTS_READ_ALL + NO_KEYS_DENY };
  [viaLookups, viaStatements] = await Promise.all([
    startSqlWarden({ ...db, url: lookups.through(db.url) }, policy),
    startSqlWarden({ ...db, url: statements.through(db.url) }, policy),
  ]);
});

after(async () => {
  await Promise.all([viaLookups?.close(), viaStatements?.close()]);
  lookups?.close();
  statements?.close();
  await db?.drop();
});

test('a catalog lookup cut off after its session opened is refused in Warden words, and Warden serves on', async () => {
  // A statement without relations asks no catalog: the relay passes it.
  const plain = await viaLookups.query('SELECT 1 AS one');
  assert.equal(plain.isError, false, plain.text);
  // The conditional deny makes the analysis ask what public.users reaches: the relay cuts it.
  const r = await viaLookups.query('SELECT id FROM public.users');
  assert.equal(lookups.cuts, 1, 'the relay cut the reach lookup');
  assert.equal(r.isError, true, r.text);
  assert.equal(r.text, 'WARDEN_BACKEND_ERROR: the database is unreachable right now');
  lookups.armed = false;
  const again = await viaLookups.query('SELECT id FROM public.users');
  assert.equal(again.isError, false, again.text);
  assert.doesNotMatch(viaLookups.w.stderr(), /Connection terminated|Unhandled/i, 'nor do the logs quote the driver');
});

test('a statement cut off while it runs is refused in Warden words, and Warden serves on', async () => {
  const r = await viaStatements.query("SELECT 'cut-here' AS marker");
  assert.equal(statements.cuts, 1, 'the relay cut the statement');
  assert.equal(r.isError, true, r.text);
  assert.equal(r.text, 'WARDEN_BACKEND_ERROR: the database is unreachable right now');
  const next = await viaStatements.query('SELECT name FROM public.users');
  assert.equal(next.isError, false, next.text);
  assert.match(next.text, /ann/);
});

test('the PostgreSQL transcript store cut off mid-write fails that write, and writes on after', async () => {
  // The transcript tables go to a database of their own.
  const tdb = await createTestDatabase({ prefix: 'lookup_err_store' });
  await tdb.query(`GRANT ALL ON SCHEMA public TO ${tdb.role}`);
  const relay = await cuttingRelay(tdb.port, 'cut-here');
  const s = await openPgStore(relay.through(tdb.url), { recoverEveryMs: 60_000 });
  try {
    const sessionId = randomUUID();
    const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };
    await s.openSession({ id: sessionId, principal, client: {}, transport: 'http', startedAt: new Date().toISOString() });
    const intent = (sql: string) => s.recordIntent({ id: randomUUID(), sessionId, tool: 'query_database', connection: 'db', args: { sql }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: ['r'], policyVersion: 'v', startedAt: new Date().toISOString() });
    await assert.rejects(intent("SELECT 'cut-here'"), (e: Error & { code?: string }) => e.code === 'WARDEN_TRANSCRIPT_UNAVAILABLE');
    assert.equal(relay.cuts, 1);
    await intent('SELECT 2');
    assert.equal((await s.verify()).ok, true);
  } finally {
    await s.close().catch(() => undefined);
    relay.close();
    await tdb.drop();
  }
});
