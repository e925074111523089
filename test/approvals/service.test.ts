/**
 * The approval service in-process over a real SQLite store: binding, single use, no self-approval,
 * distinct reviewers, expiry, the review HTTP API over a real HTTP server, webhook bodies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { canonicalCall, createApprovalService, slackBody, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';

let dir: string;
let store: SqliteTranscriptStore;
let svc: ApprovalService;
let clock = Date.parse('2030-01-01T00:00:00.000Z');

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['sre', 'dba']);
const decision = (approvals = 1, wait = 0, expires = 60_000): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals, expires, wait, ruleId: 'fix' },
});

function gate(sql: string, d: Decision, connection = 'shop', signal = new AbortController().signal) {
  return svc.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool: 'query_database', connection,
    canonicalArgs: { connection, sql }, decision: d, factsSummary: `update ${sql.length}`, signal,
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-approvals-'));
  store = openSqliteStore(join(dir, 'w.db'));
  svc = createApprovalService(store.approvals, { now: () => clock, pollMs: 5 });
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the canonical call binds tool, connection and arguments', () => {
  const a = canonicalCall('query_database', 'shop', { sql: 'x', connection: 'shop' });
  assert.equal(a.hash, canonicalCall('query_database', 'shop', { connection: 'shop', sql: 'x' }).hash, 'key order does not matter');
  assert.notEqual(a.hash, canonicalCall('query_database', 'other', { sql: 'x', connection: 'shop' }).hash);
  assert.notEqual(a.hash, canonicalCall('query_database', 'shop', { sql: 'x ', connection: 'shop' }).hash);
});

test('pending, then no self-approval, reviewer groups, distinct reviewers, single use', async () => {
  const r = await gate('UPDATE a', decision(2));
  assert.equal(r.granted, false);
  const id = (r as { approvalId: string }).approvalId;
  await assert.rejects(svc.approve(id, sam), /cannot approve/);
  await assert.rejects(svc.approve(id, p('eve', ['sre'])), /not a reviewer/);
  await svc.approve(id, p('dana', ['dba']));
  await assert.rejects(svc.approve(id, p('dana', ['dba'])), /already decided/);
  assert.equal((await svc.get(id))?.state, 'pending');
  assert.equal((await svc.approve(id, p('omar', ['dba']), 'ok')).state, 'approved');
  const again = await gate('UPDATE a', decision(2));
  assert.deepEqual(again, { granted: true, approvalId: id, spent: [id] });
  assert.equal((await svc.get(id))?.state, 'used');
  const replay = await gate('UPDATE a', decision(2));
  assert.equal(replay.granted, false, 'a used approval never covers a second call');
  assert.notEqual((replay as { approvalId: string }).approvalId, id);
  await assert.rejects(svc.deny(id, p('omar2', ['dba'])), /already used/);
});

test('a call its client cancelled consumes no approval: it stays approved for the next attempt', async () => {
  const r = await gate('UPDATE cancelled', decision(1));
  const id = (r as { approvalId: string }).approvalId;
  await svc.approve(id, p('dana', ['dba']));
  const cancelled = await gate('UPDATE cancelled', decision(1), 'shop', AbortSignal.abort());
  assert.equal(cancelled.granted, false);
  assert.equal((await svc.get(id))?.state, 'approved', 'the approval was not used by a call that will not run');
  assert.deepEqual(await gate('UPDATE cancelled', decision(1)), { granted: true, approvalId: id, spent: [id] });
});

test('an approval for one connection does not cover another; another requester cannot consume it', async () => {
  const r = (await gate('UPDATE b', decision())) as { approvalId: string };
  await svc.approve(r.approvalId, p('dana', ['dba']));
  assert.equal((await gate('UPDATE b', decision(), 'other')).granted, false);
  assert.equal((await svc.statusFor(p('mallory', ['sre']), r.approvalId)), null, 'status shows only your own requests');
  assert.equal((await svc.statusFor(sam, r.approvalId))?.state, 'approved');
});

test('expiry: pending and approved requests expire, and expired ones cannot be decided', async () => {
  const r = (await gate('UPDATE c', decision(1, 0, 1000))) as { approvalId: string };
  clock += 1500;
  await assert.rejects(svc.approve(r.approvalId, p('dana', ['dba'])), /already expired|has expired/);
  assert.equal((await svc.get(r.approvalId))?.state, 'expired');
  const s = (await gate('UPDATE d', decision(1, 0, 1000))) as { approvalId: string };
  await svc.approve(s.approvalId, p('dana', ['dba']));
  clock += 1500;
  const late = await gate('UPDATE d', decision(1, 0, 1000));
  assert.equal(late.granted, false);
  assert.equal((await svc.get(s.approvalId))?.state, 'expired');
});

test('a denial carries the comment, and the chain with approval events verifies', async () => {
  const r = (await gate('UPDATE e', decision())) as { approvalId: string };
  await svc.deny(r.approvalId, p('dana', ['dba']), 'no way');
  const real = createApprovalService(store.approvals, { pollMs: 5 });
  const w = await real.gate({
    callId: 'c', sessionId: 's', principal: sam, tool: 'query_database', connection: 'shop', canonicalArgs: { connection: 'shop', sql: 'UPDATE f' },
    decision: decision(1, 50), factsSummary: 'f', signal: new AbortController().signal,
  });
  assert.equal((w as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  const events = (await store.readRecords(1, 1000)).filter((x) => x.kind === 'approval_event').map((x) => (JSON.parse(x.body) as { event: string }).event);
  for (const e of ['requested', 'decision', 'approved', 'used', 'expired', 'denied']) assert.ok(events.includes(e), e);
});

test('the Slack body escapes mentions, links and code fences from the call text', () => {
  const body = slackBody({
    event: 'requested',
    seq: 1,
    approval: { id: 'x', state: 'pending', requester: '<!here>', tool: 't', connection: null, summary: 'a\n*forged*', rule_ids: ['r'], approvals_required: 1, approvals: 0, created_at: '', expires_at: '', call_id: null, session_id: null, decisions: [] },
    call: { args: { sql: "UPDATE t SET a = '```\n<!channel> <https://x|y>'" } },
  });
  const text = JSON.stringify(body);
  assert.ok(!text.includes('<!channel>') && !text.includes('<!here>') && !text.includes('<https://x'));
  const code = (body.blocks as { text?: { text: string } }[])[1]!.text!.text;
  assert.equal(code.match(/```/g)?.length, 2);
});
