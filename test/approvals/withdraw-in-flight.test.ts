/**
 * Red-team: an approval withdrawn while the call it let run is still running. Found: withdraw.ts
 * withdrew the reviewer's decision but left the request `used` and the call running to its end,
 * so a write approved by someone Warden had just seen out of the reviewers' group still
 * committed. Now a withdrawal that leaves a used request short of its count cancels the call
 * through the client-cancel path (PostgreSQL gets a CancelRequest, nothing commits), the agent
 * gets WARDEN_APPROVAL_WITHDRAWN and the transcript records it. The replica that sees the
 * withdrawal cancels at once; another process on the store (the CLI, another replica) is seen by
 * the running call's own check of its requests. A call that already ended keeps its result. The
 * real runtime (pipeline, query_database, approval service, SQLite store) and a real PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startRuntime, type Runtime } from '../../src/server/runtime.js';
import { families } from '../../tools/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { ApprovalStore } from '../../src/recorder/index.js';
import type { Principal } from '../../src/tool-api.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { until } from './support.js';

const ENV = 'WARDEN_TEST_WITHDRAW_FLIGHT_URL';
const CONFIG = `transcripts: { store: sqlite:warden.db }
connections:
  db: { type: postgres, url: env:${ENV}, statement_timeout: 20s }
policies: [policies/*.yaml]
`;
const POLICY = `rules:
  - id: slow-writes
    effect: allow
    who: { groups: [devs] }
    tool: query_database
    on: [db]
    sql: { statements: [select, insert], write: [public.notes], read: [public.notes], functions: [pg_sleep] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 20s }
`;
const alice: Principal = { subject: 'alice', groups: ['devs'], claims: {}, authMethod: 'stdio' };
const iss = 'https://idp.example';
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: { iss }, authMethod: 'oidc' };
const danaOut: Principal = { ...dana, groups: ['devs'] };

let db: TestDatabase;
let dir: WardenDir;
let rt: Runtime;
before(async () => {
  db = await createTestDatabase({ prefix: 'wdflight' });
  await db.query('CREATE TABLE notes (body text)');
  await db.query(`ALTER TABLE notes OWNER TO ${db.role}`);
  process.env[ENV] = db.url;
  dir = writeWardenDir(CONFIG, { 'p.yaml': POLICY });
  rt = await startRuntime(dir.configPath, families);
  await rt.store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['devs'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
});
after(async () => {
  await rt?.close();
  dir?.cleanup();
  await db?.drop();
});

const call = (sql: string) => rt.pipeline.handle({ sessionId: 's1', principal: alice, tool: 'query_database', args: { connection: 'db', sql }, signal: new AbortController().signal });
const tables = () => (rt.store as unknown as { approvals: ApprovalStore }).approvals;
const count = async (body: string) => ((await db.query('SELECT count(*)::int AS n FROM notes WHERE body = $1', [body])).rows[0] as { n: number }).n;
const running = async (marker: string) => ((await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%${marker}%`])).rows[0] as { n: number }).n;
const recorded = (marker: string) => {
  const t = new Database(dir.dbPath, { readonly: true });
  try {
    return t.prepare('SELECT status, error_code FROM calls WHERE args LIKE ? AND status IS NOT NULL').all(`%${marker}%`) as { status: string; error_code: string | null }[];
  } finally {
    t.close();
  }
};

/** Start the call, approve it as dana, and wait until its statement runs in PostgreSQL. */
async function approvedAndRunning(marker: string, seconds: number) {
  const answer = call(`INSERT INTO notes (body) SELECT '${marker}' FROM pg_sleep(${seconds})`);
  const req = await until(async () => (await tables().list({ limit: 50 })).find((r) => r.state === 'pending' && r.canonicalCall.includes(marker)), 15_000, 'the request');
  await rt.approvals!.approve(req.id, dana);
  await until(async () => ((await running(marker)) ? true : undefined), 15_000, 'the statement to run');
  return { answer, id: req.id };
}

test('a withdrawal that leaves the running call short of its approval cancels its statement; nothing commits; recorded', async () => {
  const { answer, id } = await approvedAndRunning('flight-1', 15);
  assert.deepEqual(await rt.approvals!.withdrawIneligible!(danaOut), [id]);
  const r = await answer;
  assert.equal(r.isError, true, JSON.stringify(r.content));
  assert.match(r.content[0]!.text, /^WARDEN_APPROVAL_WITHDRAWN: /);
  assert.match(r.content[0]!.text, /withdrawn/);
  assert.equal(await running('flight-1'), 0, 'PostgreSQL no longer runs the statement');
  assert.equal(await count('flight-1'), 0, 'nothing was committed');
  assert.deepEqual(recorded('flight-1'), [{ status: 'error', error_code: 'WARDEN_APPROVAL_WITHDRAWN' }]);
  assert.equal((await tables().get(id))?.state, 'used', 'the use stands: the call was sent');
  assert.equal((await rt.store.verify()).ok, true);
});

test('a withdrawal made by another process on the same store (the CLI, another replica) cancels the running call too', async () => {
  const { answer, id } = await approvedAndRunning('flight-2', 15);
  const other = createApprovalService(tables());
  assert.deepEqual(await other.withdrawIneligible!(danaOut), [id]);
  const r = await answer;
  assert.match(r.content[0]!.text, /^WARDEN_APPROVAL_WITHDRAWN: /, r.content[0]!.text);
  assert.equal(await count('flight-2'), 0, 'nothing was committed');
  assert.deepEqual(recorded('flight-2'), [{ status: 'error', error_code: 'WARDEN_APPROVAL_WITHDRAWN' }]);
});

test('a call that already produced its result keeps it; the withdrawal changes nothing', async () => {
  const { answer, id } = await approvedAndRunning('flight-3', 1);
  const r = await answer;
  assert.equal(r.isError, undefined, JSON.stringify(r.content));
  assert.deepEqual(await rt.approvals!.withdrawIneligible!(danaOut), [], 'an ended call\'s use is history');
  assert.equal(await count('flight-3'), 1);
  assert.deepEqual(recorded('flight-3'), [{ status: 'ok', error_code: null }]);
  assert.deepEqual((await tables().get(id))?.decisions.map((d) => d.reviewer), ['dana']);
});

test('two replicas on one PostgreSQL store: a withdrawal seen by one cancels the call the other runs', async (t) => {
  const storeDb = await createTestDatabase({ prefix: 'wdflightstore' });
  t.after(() => storeDb.drop());
  await storeDb.query(`GRANT ALL ON SCHEMA public TO ${storeDb.role}`);
  process.env.WARDEN_TEST_WITHDRAW_FLIGHT_STORE = storeDb.url;
  t.after(() => delete process.env.WARDEN_TEST_WITHDRAW_FLIGHT_STORE);
  const shared = writeWardenDir(CONFIG.replace('store: sqlite:warden.db', 'store: env:WARDEN_TEST_WITHDRAW_FLIGHT_STORE'), { 'p.yaml': POLICY });
  t.after(shared.cleanup);
  const a = await startRuntime(shared.configPath, families);
  t.after(() => a.close());
  const b = await startRuntime(shared.configPath, families);
  t.after(() => b.close());
  await a.store.openSession({ id: 's2', principal: { subject: 'alice', groups: ['devs'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const marker = 'flight-4';
  const answer = a.pipeline.handle({ sessionId: 's2', principal: alice, tool: 'query_database', args: { connection: 'db', sql: `INSERT INTO notes (body) SELECT '${marker}' FROM pg_sleep(15)` }, signal: new AbortController().signal });
  const reqs = (a.store as unknown as { approvals: ApprovalStore }).approvals;
  const req = await until(async () => (await reqs.list({ limit: 50 })).find((r) => r.state === 'pending' && r.canonicalCall.includes(marker)), 15_000, 'the request');
  await b.approvals!.approve(req.id, dana);
  await until(async () => ((await running(marker)) ? true : undefined), 15_000, 'the statement to run');
  assert.deepEqual(await b.approvals!.withdrawIneligible!(danaOut), [req.id], 'replica b withdraws');
  const r = await answer;
  assert.match(r.content[0]!.text, /^WARDEN_APPROVAL_WITHDRAWN: /, r.content[0]!.text);
  assert.equal(await count(marker), 0, 'nothing was committed');
  const rows = (await storeDb.query("SELECT status, error_code FROM calls WHERE args::text LIKE $1 AND status IS NOT NULL", [`%${marker}%`])).rows;
  assert.deepEqual(rows.map((x) => ({ ...x })), [{ status: 'error', error_code: 'WARDEN_APPROVAL_WITHDRAWN' }]);
});
