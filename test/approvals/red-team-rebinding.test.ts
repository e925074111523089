/**
 * Red-team pass on approvals (approve one's own call, approve without the right reviewers, read
 * another identity's requests):
 * - the requester approved their own request (or one reviewer counted twice) under a subject
 *   carrying a default-ignorable character that is not a format character (U+034F combining
 *   grapheme joiner, variation selectors, Hangul fillers) or a braille blank;
 * - after a policy reload that changed a rule's reviewers, the reviewers it no longer names could
 *   still decide its pending requests, and a call already waiting used what they approved;
 * - approval_status showed the same subject's requests across identity sources (stdio vs OIDC).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { CompiledPolicy, Decision } from '../../src/policy/types.js';
import type { Who } from '../../src/policy/schema.js';

let tmp: string;
let store: SqliteTranscriptStore;
let svc: ApprovalService;

const p = (subject: string, groups: string[], authMethod: Principal['authMethod'] = 'local'): Principal => ({ subject, groups, claims: {}, authMethod });
const sam = p('sam', ['sre', 'dba'], 'oidc');
const decision = (approvals = 1, reviewers: Who = { groups: ['dba'] }, wait = 0): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers, approvals, expires: 60_000, wait, ruleId: 'fix' },
});

function gate(sql: string, d: Decision, who: Principal = sam, s: ApprovalService = svc, signal = new AbortController().signal) {
  return s.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal: who, tool: 'query_database', connection: 'db',
    canonicalArgs: { connection: 'db', sql }, decision: d, factsSummary: 'update; writes public.orders', signal,
  });
}

/** A live policy holding rule `fix` with these approval terms (what the service reads on reload). */
function livePolicy(reviewers: Who, approvals = 1): CompiledPolicy {
  return { rules: [{ id: 'fix', effect: 'allow', approval: { reviewers, approvals, expires: 60_000, wait: 0 } }] } as unknown as CompiledPolicy;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'warden-approvals-rebind-'));
  store = openSqliteStore(join(tmp, 'w.db'));
  svc = createApprovalService(store.approvals, { pollMs: 5 });
});

after(async () => {
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('no self-approval under a subject with a default-ignorable character or a blank', async () => {
  const r = (await gate('UPDATE di1', decision())) as { approvalId: string };
  for (const variant of ['sam\u034f', 'sa\ufe0fm', 'sam\u3164', '\u115fsam', 'sam\uffa0', 'sam\u2800', 's\u17b4am']) {
    await assert.rejects(svc.approve(r.approvalId, p(variant, ['dba'])), /cannot approve/, JSON.stringify(variant));
  }
  assert.equal((await svc.get(r.approvalId))?.state, 'pending');
});

test('one reviewer under a default-ignorable variant counts once', async () => {
  const r = (await gate('UPDATE di2', decision(2))) as { approvalId: string };
  await svc.approve(r.approvalId, p('dana', ['dba']));
  for (const variant of ['dana\u034f', 'dan\ufe00a', 'dana\u3164']) {
    await assert.rejects(svc.approve(r.approvalId, p(variant, ['dba'])), /already decided/, JSON.stringify(variant));
  }
  assert.equal((await svc.get(r.approvalId))?.state, 'pending');
});

test('after a reload that changes a rule\'s reviewers, reviewers it no longer names cannot decide its requests', async () => {
  let live = livePolicy({ groups: ['dba'] });
  const s = createApprovalService(store.approvals, { pollMs: 5, policy: () => live });
  const r = (await gate('UPDATE reload1', decision(), sam, s)) as { approvalId: string; code: string };
  assert.equal(r.code, 'WARDEN_APPROVAL_PENDING');
  // The dba group is no longer trusted to review `fix` (security reviews it now).
  live = livePolicy({ groups: ['security'] });
  await assert.rejects(s.approve(r.approvalId, p('dana', ['dba'])), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /terms of rule fix changed/.test(e.message));
  assert.equal((await s.get(r.approvalId))?.state, 'pending');
  // A rule removed by the reload: its requests cannot be decided either.
  live = { rules: [] } as unknown as CompiledPolicy;
  await assert.rejects(s.approve(r.approvalId, p('dana', ['dba'])), /terms of rule fix changed/);
  // Unchanged terms: decided as before.
  live = livePolicy({ groups: ['dba'] });
  assert.equal((await s.approve(r.approvalId, p('dana', ['dba']))).state, 'approved');
});

test('a call already waiting does not run on an approval whose rule\'s reviewers a reload changed', async () => {
  let live = livePolicy({ groups: ['dba'] });
  const s = createApprovalService(store.approvals, { pollMs: 5, policy: () => live });
  const ac = new AbortController();
  const waiting = gate('UPDATE reload2', decision(1, { groups: ['dba'] }, 10_000), sam, s, ac.signal);
  let id: string | undefined;
  for (let i = 0; i < 200 && !id; i++) {
    id = (await store.approvals.list({ requester: 'sam' })).find((x) => x.canonicalCall.includes('reload2'))?.id;
    if (!id) await new Promise((res) => setTimeout(res, 10));
  }
  assert.ok(id);
  // The dba reviewer approves at the moment the reload lands (the decision passed its checks just before).
  await store.approvals.decide(id, { reviewer: 'dana', decision: 'approve', comment: null, auth: 'local', at: new Date().toISOString() }, () => undefined);
  live = livePolicy({ groups: ['security'] });
  const r = await waiting;
  ac.abort();
  assert.equal(r.granted, false, 'the waiting call did not run on the stale approval');
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_DENIED');
  assert.match((r as { message: string }).message, /terms of rule fix changed/);
  // Voided by the policy change, with why: not used up, and never usable again (a reload back to
  // the old terms does not revive it).
  const v = await s.get(id);
  assert.equal(v?.state, 'voided', 'voided, not left approved');
  assert.equal(v?.voided?.code, 'WARDEN_APPROVAL_DENIED');
  assert.match(v?.voided?.message ?? '', /terms of rule fix changed/);
  assert.deepEqual(v?.voided?.rule_ids, ['fix']);
  live = livePolicy({ groups: ['dba'] });
  const again = await gate('UPDATE reload2', decision(1, { groups: ['dba'] }, 0), sam, s);
  assert.equal((again as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  assert.notEqual((again as { approvalId: string }).approvalId, id, 'a new request, not the voided one');
});

test('approval_status shows a request only to the identity source that made it', async () => {
  const r = (await gate('UPDATE status1', decision())) as { approvalId: string };
  const stdioSam = p('sam', [], 'stdio');
  assert.equal(await svc.statusFor(stdioSam, r.approvalId), null, 'stdio sam does not read OIDC sam\'s request');
  assert.ok(!(await svc.listFor(stdioSam)).some((v) => v.id === r.approvalId));
  assert.equal((await svc.statusFor(sam, r.approvalId))?.id, r.approvalId);
  assert.ok((await svc.listFor(sam)).some((v) => v.id === r.approvalId));
});
