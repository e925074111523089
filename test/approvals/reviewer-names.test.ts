/**
 * "One person counts once" across identity sources. Found: a decision recorded its reviewer's
 * subject only, and the distinct-reviewers check compared the new reviewer's names (subject and
 * `approvals.person_claims`, default email) with each earlier decision's subject. So with
 * `approvals: 2`, dana approved with her IdP token (`sub` 00u9dana, `email` dana@corp.example)
 * and again as `dana@corp.example` (the UI's local login, `--as`, the stdio identity) or through
 * another issuer with another opaque `sub` and her email: two approvals, one person. Now each
 * decision records its reviewer's person names (hash-chained in its `decision` record, and a
 * column), and every name of the new reviewer is compared with every name of each earlier one.
 * Real local issuers and verifier, the approval service, SQLite and PostgreSQL stores.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { tempDir } from '../recorder/fixtures.js';
import { FIX_DECISION, principalOf, twoIssuers } from './support.js';

let a: OidcIssuer;
let b: OidcIssuer;
const dbs: TestDatabase[] = [];
twoIssuers((x, y) => ((a = x), (b = y)), dbs);

const as = principalOf;
const TWO: Decision = { ...FIX_DECISION, approval: { ...FIX_DECISION.approval!, approvals: 2 } };
let n = 0;

async function request(svc: ApprovalService, principal: Principal): Promise<string> {
  const sql = `UPDATE orders SET total = ${++n}`;
  const r = (await svc.gate({
    callId: `call-${n}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql }, decision: TWO, factsSummary: sql, signal: new AbortController().signal,
  })) as { code?: string; approvalId?: string; message?: string };
  assert.equal(r.code, 'WARDEN_APPROVAL_PENDING', r.message);
  return r.approvalId!;
}

/** `second` is refused as a reviewer who already decided (decision and queue), and the request still needs another. */
async function countsOnce(svc: ApprovalService, id: string, second: Principal): Promise<void> {
  await assert.rejects(svc.approve(id, second), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /has already decided/.test(e.message));
  await assert.rejects(svc.deny(id, second), /has already decided/);
  assert.equal((await svc.queueFor(second)).find((e) => e.view.id === id)?.refused.approve?.reason, 'already_decided');
  const v = await svc.get(id);
  assert.equal(v?.state, 'pending');
  assert.equal(v?.decisions.length, 1);
}

const local = (subject: string): Principal => ({ subject, groups: ['dba'], claims: {}, authMethod: 'local' });

async function scenarios(tables: ApprovalStore): Promise<string> {
  const svc = createApprovalService(tables, { pollMs: 5 });
  const agent = await as(a, { sub: 'agent-7', groups: ['sre'] });
  const dana = await as(a, { sub: '00u9dana', email: 'dana@corp.example', groups: ['dba'] });
  // Token first, then her email as the subject (local login / --as / stdio).
  const first = await request(svc, agent);
  assert.equal((await svc.approve(first, dana)).state, 'pending');
  await countsOnce(svc, first, local('Dana@corp.example'));
  // Token first, then another issuer's opaque sub carrying her email.
  const second = await request(svc, agent);
  await svc.approve(second, dana);
  await countsOnce(svc, second, await as(b, { sub: '00u3zzz', email: 'dana@corp.example', groups: ['dba'] }));
  // The reverse order: her email as the subject first, then the token carrying it.
  const third = await request(svc, agent);
  await svc.approve(third, local('dana@corp.example'));
  await countsOnce(svc, third, dana);
  // Another issuer whose sub is the email, then the opaque-sub token of another issuer.
  const fourth = await request(svc, agent);
  await svc.approve(fourth, await as(b, { sub: '00u3zzz', email: 'DANA@corp.example', groups: ['dba'] }));
  await countsOnce(svc, fourth, dana);
  // The neighbour: two people (other subjects, other emails) fill approvals: 2.
  const kim = await as(b, { sub: '00u8kim', email: 'kim@corp.example', groups: ['dba'] });
  for (const id of [first, second, third, fourth]) assert.equal((await svc.approve(id, kim)).state, 'approved');
  const fifth = await request(svc, agent);
  assert.equal((await svc.approve(fifth, dana)).state, 'pending');
  assert.equal((await svc.approve(fifth, local('lee@corp.example'))).state, 'approved');
  // The recorded names are not shown (status, views, queue, webhooks): first was decided by 00u9dana and 00u8kim.
  for (const view of [await svc.statusFor(agent, first), await svc.get(first)]) {
    assert.doesNotMatch(JSON.stringify(view), /dana@corp\.example|kim@corp\.example|reviewer_?names/i);
  }
  assert.doesNotMatch(JSON.stringify(await svc.list({})), /reviewer_?names/i);
  return first;
}

test('SQLite: one person approving under two subjects (token with email, then the email; and the reverse) counts once', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const first = await scenarios(store.approvals);
  assert.equal((await store.verify()).ok, true);
  const body = store.db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = ? AND body LIKE '%"decision":"approve"%' ORDER BY seq LIMIT 1`).pluck().get(first);
  assert.deepEqual((JSON.parse(String(body)) as { reviewerNames?: string[] }).reviewerNames, ['dana@corp.example']);
  // The row no longer says whose email approved: the records say otherwise.
  store.db.prepare(`UPDATE approval_decisions SET reviewer_names = NULL WHERE approval_id = ? AND reviewer = '00u9dana'`).run(first);
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approval_decisions of .* differ from its decision records/);
});

test('PostgreSQL: the same, with the names in the shared tables', async () => {
  const db = await createTestDatabase({ prefix: 'revnames' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const store = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    const first = await scenarios(store.approvals);
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approval_decisions SET reviewer_names = '["kim@corp.example"]' WHERE approval_id = $1 AND reviewer = '00u9dana'`, [first]);
    const broken = await store.verify();
    assert.equal(broken.ok, false);
    assert.match(broken.firstBroken?.reason ?? '', /approval_decisions of .* differ from its decision records/);
  } finally {
    await store.close();
  }
});

test('a reviewer whose person claims cannot all be recorded is refused (fail closed), and nothing is recorded', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const svc = createApprovalService(store.approvals, { pollMs: 5, personClaims: ['email', 'emails'] });
  const id = await request(svc, await as(a, { sub: 'agent-7', groups: ['sre'] }));
  await assert.rejects(svc.approve(id, await as(a, { sub: '00u9dana', email: `${'d'.repeat(321)}@corp.example`, groups: ['dba'] })), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /longer than 320 characters/.test(e.message));
  const many = Array.from({ length: 17 }, (_, i) => `dana${i}@corp.example`);
  await assert.rejects(svc.approve(id, await as(a, { sub: '00u9dana', emails: many, groups: ['dba'] })), /more than 16 names/);
  assert.equal((await svc.get(id))?.decisions.length, 0);
  // 16 names are recorded, and each counts as the same person.
  await svc.approve(id, await as(a, { sub: '00u9dana', emails: many.slice(0, 16), groups: ['dba'] }));
  await countsOnce(svc, id, local('dana15@corp.example'));
});
