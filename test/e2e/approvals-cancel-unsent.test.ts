/**
 * A reviewed write the client cancels after the gate spent its approval and after `execute`
 * began, but before its statement reached PostgreSQL (its BEGIN waited for the catalog lock),
 * ran nothing: its approval is given back, approved again for the identical call, as a cancel seen
 * before `execute` already was (cancel-after-spend.test.ts). Found by the MCP-surface red team: it
 * stayed `used` though nothing ran, so reviewers read that their approval ran a call and had to
 * approve again. A neighbour: a cancel once the UPDATE was in PostgreSQL (waiting for a row lock)
 * keeps the approval used; the statement was sent, so no give-back may guess it did nothing.
 * Real OIDC issuer, PostgreSQL and Streamable HTTP client; the cancel is the SDK's own
 * notifications/cancelled, sent when the caller aborts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';
import { CATALOG_LOCK } from '../../tools/postgres/catalog-lock.js';
import type { Principal } from '../../src/tool-api.js';

// A column mask makes a write take the catalog lock in its BEGIN (catalog-lock.ts).
const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: redact }
rules:
  - id: reviewed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 30s }
`;

const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };

let w: HttpWarden;
let client: Client;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  await w.db.query(`GRANT UPDATE ON orders TO ${w.db.role}`);
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${await w.token('alice', ['sre'])}` } } });
  client = new Client({ name: 'cancelling-agent', version: '1' });
  await client.connect(transport);
});
after(async () => {
  await client?.close().catch(() => undefined);
  await w?.stop();
});

const total = async (id: number) => String((await w.db.query(`SELECT total FROM orders WHERE id = ${id}`)).rows[0]!.total);
const textOf = (r: { content?: unknown }) => ((r.content ?? []) as { text?: string }[]).map((c) => c.text ?? '').join('\n');

async function pendingFor(sql: string): Promise<string> {
  const find = async () => (await w.rt.approvals!.list({ state: 'pending' })).find((a) => JSON.stringify(a).includes(sql));
  await until(async () => (await find()) !== undefined, 15_000, 'the pending request');
  return (await find())!.id;
}

/** A session of the test's own holding `lock` (SQL run in an open transaction) until released. */
async function holding(lock: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: w.db.url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(lock);
  return {
    async release() {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

/** Sessions of the test role waiting for a lock of this type (the call's BEGIN or its statement). */
const waiting = async (locktype: string) =>
  Number((await w.db.query(`SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND l.locktype = $1 AND a.usename = $2`, [locktype, w.db.role])).rows[0]!.n);

/** Call `sql`, approve it, wait until `blocked` holds, cancel; the call's recorded outcome. */
async function cancelledOnceBlocked(sql: string, blocked: () => Promise<boolean>): Promise<{ approvalId: string; outcome: Record<string, unknown> }> {
  const ac = new AbortController();
  const call = client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { signal: ac.signal, timeout: 60_000 });
  call.catch(() => undefined);
  const approvalId = await pendingFor(sql);
  await w.rt.approvals!.approve(approvalId, dana);
  await until(blocked, 15_000, 'the call blocked in PostgreSQL');
  ac.abort('the agent stopped waiting');
  await assert.rejects(call);
  const row = () => w.calls().find((c) => String(c.args).includes(sql));
  await until(() => typeof row()?.error_code === 'string', 15_000, 'the outcome recorded');
  return { approvalId, outcome: row()! };
}

test('cancelled while its BEGIN waited for the catalog lock: nothing ran, the approval is given back and runs the identical call once', async () => {
  const sql = 'UPDATE orders SET total = 701 WHERE id = 7';
  const before = await total(7);
  const lock = await holding(`SELECT pg_advisory_xact_lock(${CATALOG_LOCK[0]}, ${CATALOG_LOCK[1]})`);
  let released = false;
  try {
    const { approvalId, outcome } = await cancelledOnceBlocked(sql, async () => (await waiting('advisory')) > 0);
    assert.equal(outcome.error_code, 'WARDEN_CANCELLED', JSON.stringify(outcome));
    await lock.release();
    released = true;
    assert.equal(await total(7), before, 'the UPDATE did not run');
    const back = await w.rt.approvals!.get(approvalId);
    assert.equal(back?.state, 'approved', `nothing ran, so the approval is given back (was ${back?.state})`);
    // The identical call runs on it, once, without asking the reviewers again.
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { timeout: 60_000 });
    assert.equal(r.isError, undefined, textOf(r));
    assert.equal(await total(7), '701');
    assert.equal((await w.rt.approvals!.get(approvalId))?.state, 'used');
  } finally {
    if (!released) await lock.release();
  }
});

test('a neighbour: cancelled once its UPDATE was in PostgreSQL (waiting for a row lock): nothing committed, and the approval stays used', async () => {
  const sql = 'UPDATE orders SET total = 801 WHERE id = 8';
  const before = await total(8);
  const lock = await holding('SELECT id FROM orders WHERE id = 8 FOR UPDATE');
  try {
    const { approvalId, outcome } = await cancelledOnceBlocked(sql, async () => (await waiting('transactionid')) > 0);
    assert.equal(outcome.error_code, 'WARDEN_CANCELLED', JSON.stringify(outcome));
    assert.equal((await w.rt.approvals!.get(approvalId))?.state, 'used', 'the statement was sent: no give-back');
  } finally {
    await lock.release();
  }
  assert.equal(await total(8), before, 'rolled back');
});
