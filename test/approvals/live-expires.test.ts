/**
 * A call already waiting for its approval judges the live policy's `expires`, as a retry does.
 * Found: a reload that shortened the matching rule's `expires` (60 s to 1 ms) while a call waited
 * was not noticed by that call: it ran on a request older than the live expiry (or waited out its
 * `wait` on one), whereas the same call made again after the reload would not take that request
 * up (the gate's `fits`) and asks anew. Real SQLite store, the service as the pipeline uses it.
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
import { until } from './support.js';

let tmp: string;
let store: SqliteTranscriptStore;

const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' };
const decision = (expires: number, wait: number): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires, wait, ruleId: 'fix' },
});
/** The live policy: rule `fix` with this `expires` (what the service reads on reload). */
const livePolicy = (expires: number): CompiledPolicy =>
  ({ rules: [{ id: 'fix', effect: 'allow', approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires, wait: 10_000 } }] }) as unknown as CompiledPolicy;

function gate(s: ApprovalService, sql: string, d: Decision, signal = new AbortController().signal) {
  return s.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db',
    canonicalArgs: { connection: 'db', sql }, decision: d, factsSummary: 'update; writes public.orders', signal,
  });
}

/** The request a waiting call made for `sql`, once it is stored and at least 2 ms old. */
async function requestOf(sql: string) {
  const row = await until(async () => (await store.approvals.list({ requester: 'sam' })).find((x) => x.canonicalCall.includes(sql)), 15_000, 'the request');
  await until(() => (Date.now() >= Date.parse(row.createdAt) + 2 ? true : undefined), 15_000, 'the request to age');
  return row;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'warden-approvals-live-expires-'));
  store = openSqliteStore(join(tmp, 'w.db'));
});

after(async () => {
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a call waiting when a reload shortens its rule\'s expires does not run on the request the live expiry ended', async () => {
  let live = livePolicy(60_000);
  const s = createApprovalService(store.approvals, { pollMs: 5, policy: () => live });
  const ac = new AbortController();
  const waiting = gate(s, 'UPDATE exp1', decision(60_000, 10_000), ac.signal);
  const req = await requestOf('UPDATE exp1');
  // Approved at the moment the reload lands: the request is already older than the new expires.
  await store.approvals.decide(req.id, { reviewer: 'dana', decision: 'approve', comment: null, auth: 'local', at: new Date().toISOString() }, () => undefined);
  live = livePolicy(1);
  const r = await waiting;
  ac.abort();
  assert.equal(r.granted, false, 'the waiting call ran on a request past the live expiry');
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED');
  assert.equal((r as { approvalId: string }).approvalId, req.id);
  assert.match((r as { message: string }).message, /expired before it was approved and used/);
  assert.notEqual((await s.get(req.id))?.state, 'used', 'not used up');
  // A retry under the live policy does not take it up either: it asks anew.
  const again = await gate(s, 'UPDATE exp1', decision(1, 0));
  assert.equal(again.granted, false);
  assert.notEqual((again as { approvalId: string }).approvalId, req.id, 'a new request, not the one the live expiry ended');
});

test('a call waiting on a pending request is refused as expired once a reload shortens the expiry past its age', async () => {
  let live = livePolicy(60_000);
  const s = createApprovalService(store.approvals, { pollMs: 5, policy: () => live });
  const ac = new AbortController();
  const waiting = gate(s, 'UPDATE exp2', decision(60_000, 10_000), ac.signal);
  const req = await requestOf('UPDATE exp2');
  live = livePolicy(1);
  const r = await waiting;
  ac.abort();
  assert.equal(r.granted, false);
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED', 'refused as expired, not left to wait out its wait');
  assert.equal((r as { approvalId: string }).approvalId, req.id);
  // An approval given now does not run it either: the retry asks anew.
  await store.approvals.decide(req.id, { reviewer: 'dana', decision: 'approve', comment: null, auth: 'local', at: new Date().toISOString() }, () => undefined);
  const again = await gate(s, 'UPDATE exp2', decision(1, 0));
  assert.notEqual((again as { approvalId?: string }).approvalId, req.id);
  assert.equal(again.granted, false);
});

test('a reload that leaves the expiry longer than the request\'s age changes nothing for the waiting call', async () => {
  let live = livePolicy(60_000);
  const s = createApprovalService(store.approvals, { pollMs: 5, policy: () => live });
  const waiting = gate(s, 'UPDATE exp3', decision(60_000, 10_000));
  const req = await requestOf('UPDATE exp3');
  live = livePolicy(30 * 60_000);
  await store.approvals.decide(req.id, { reviewer: 'dana', decision: 'approve', comment: null, auth: 'local', at: new Date().toISOString() }, () => undefined);
  assert.deepEqual(await waiting, { granted: true, approvalId: req.id, spent: [req.id] });
});
