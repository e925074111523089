/**
 * A reviewer who no longer qualifies loses every approval still open, however many other requests
 * are open. Red-team: the sweep read only the newest 1,000 pending (and approved) requests, so an
 * agent that made 1,000 more gated calls pushed its request out of it: mallory, taken off dba, came
 * back with a verified token, her vote on that request was not withdrawn, and one more approval
 * ran the call on it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Decision } from '../../src/policy/types.js';
import type { Principal } from '../../src/tool-api.js';

const iss = 'https://idp.example';
const oidc = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: { iss, sub: subject }, authMethod: 'oidc' });
const sam = oidc('sam', ['sre']);
const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 2, expires: 60 * 60_000, wait: 0, ruleId: 'fix' },
};
const gateInput = (sql: string) => ({
  callId: randomUUID(), sessionId: 's1', principal: sam, tool: 'query_database', connection: 'shop',
  canonicalArgs: { connection: 'shop', sql }, decision, factsSummary: 'update', signal: new AbortController().signal,
});

let dir: string;
let store: SqliteTranscriptStore;
let svc: ApprovalService;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-withdraw-flood-'));
  store = openSqliteStore(join(dir, 'w.db'));
  svc = createApprovalService(store.approvals, { pollMs: 5 });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a flood of newer open requests does not hide an approval from its withdrawal', async () => {
  const sql = 'UPDATE orders SET total = 0';
  const first = await svc.gate(gateInput(sql));
  const id = (first as { approvalId: string }).approvalId;
  await svc.approve(id, oidc('mallory', ['dba']));
  // The agent's flood: 1,001 more gated calls, each a pending request of its own.
  for (let i = 0; i < 1001; i++) assert.equal((await svc.gate(gateInput(`UPDATE orders SET total = ${i + 1}`))).granted, false);
  // mallory, taken off dba at the IdP, is seen again with a verified token.
  const withdrawn = await svc.withdrawIneligible!(oidc('mallory', []));
  assert.deepEqual(withdrawn, [id], 'her approval of the old request is withdrawn');
  assert.deepEqual((await svc.get(id))?.decisions.map((d) => d.reviewer), []);
  // One more approval is not enough now: the call does not run on mallory's vote.
  await svc.approve(id, oidc('omar', ['dba']));
  assert.equal((await svc.get(id))?.state, 'pending');
  const again = await svc.gate(gateInput(sql));
  assert.equal(again.granted, false, JSON.stringify(again));
});
