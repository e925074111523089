/**
 * Giving back what a call cancelled before it started had spent (approvals/give-back.ts), on both
 * stores: the reviewer approval is approved again and runs one later call once; the requester's
 * confirmation of that call is voided; only the call that used a request can give it back, and
 * only while it is used by that call; `verify` replays the `returned` records. Real SQLite and
 * PostgreSQL stores, the service as the pipeline uses it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const sam: Principal = { subject: 'sam', groups: ['dev'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const need = { confirm: 'requester' as const, reviewers: { groups: ['dba'] }, approvals: 1, expires: 600_000, wait: 20_000, ruleId: 'prod-write' };
const decision: Decision = { effect: 'allow', ruleIds: ['prod-write'], reason: 'x', trace: [], alternatives: [], approvals: [need], approval: need };
const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

async function scenario(tables: ApprovalStore): Promise<void> {
  const svc = createApprovalService(tables, { pollMs: 5 });
  const gate = (callId: string) =>
    svc.gate({
      callId, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql: 'UPDATE t SET a = 1' },
      decision, factsSummary: 'update', signal: new AbortController().signal, elicit: async () => ({ action: 'accept', content: { confirm: true } }),
    });
  const waiting = gate('c1');
  const req = await until(async () => (await tables.list({ limit: 100 })).find((r) => r.confirm === null && r.state === 'pending'), 15_000, 'the reviewer request');
  await svc.approve(req.id, dana);
  const granted = await waiting;
  assert.equal(granted.granted, true, JSON.stringify(granted));
  const spent = (granted as { spent?: string[] }).spent ?? [];
  assert.equal(spent.length, 2, 'the approval and the confirmation were spent');
  const confirmation = spent.find((id) => id !== req.id)!;
  // Another call cannot give back what c1 spent.
  assert.deepEqual(await svc.giveBack('c-other', spent), []);
  assert.deepEqual(await svc.giveBack('c1', spent), [req.id]);
  assert.equal((await tables.get(req.id))?.state, 'approved');
  assert.equal((await tables.get(confirmation))?.state, 'voided', 'a confirmation served only its call');
  assert.equal((await tables.get(confirmation))?.voided?.code, 'WARDEN_CANCELLED');
  // Given back twice: nothing more.
  assert.deepEqual(await svc.giveBack('c1', spent), []);
  // The identical call runs on it (asked to confirm anew), once.
  const second = await gate('c2');
  assert.equal(second.granted, true, JSON.stringify(second));
  assert.equal((second as { approvalId: string }).approvalId, req.id);
  const row = await tables.get(req.id);
  assert.equal(row?.state, 'used');
  assert.equal(row?.usedByCall, 'c2');
  // c1 can no longer give back what c2 used; a third use is refused.
  assert.deepEqual(await svc.giveBack('c1', [req.id]), []);
  const third = await tables.consumeAll([req.id], { callId: 'c3', callHash: req.callHash, requester: 'sam' }, new Date().toISOString());
  assert.equal(third.used, false);
}

test('SQLite: a cancelled call gives back its approval once; verify replays it', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await scenario(store.approvals);
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
});

test('PostgreSQL: the same', async () => {
  const db = await createTestDatabase({ prefix: 'giveback' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const store = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    await scenario(store.approvals);
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  } finally {
    await store.close();
  }
});
