/**
 * After a reviewer denies a call, the same requester asking the same call again is refused for the
 * rule's `deny_cooldown` (WARDEN_APPROVAL_DENIED, saying when it may be asked again) instead of
 * opening a fresh request to nag the reviewers with. Other calls and other requesters are not
 * blocked, `0s` turns it off, and it is read from the stored denial, so it survives a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { canonicalCall, createApprovalService, type GateResult } from '../../src/approvals/index.js';
import { approvalSchema } from '../../src/policy/schema.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { tempDir } from '../recorder/fixtures.js';

const MIN = 60_000;
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['sre']);
const lee = p('lee', ['sre']);
const dana = p('dana', ['dba']);
const decision = (denyCooldown?: number): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60 * MIN, wait: 0, ruleId: 'fix', ...(denyCooldown === undefined ? {} : { deny_cooldown: denyCooldown }) },
});

function setup(t: { after: (fn: () => void) => void }, file?: string) {
  const path = file ?? join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => store.close().catch(() => undefined));
  const clock = { ms: T0 };
  const svc = createApprovalService(store.approvals, { now: () => clock.ms, pollMs: 5 });
  const gate = (sql: string, d: Decision = decision(10 * MIN), who: Principal = sam): Promise<GateResult> =>
    svc.gate({ callId: `call-${Math.random()}`, sessionId: 's1', principal: who, tool: 'query_database', connection: 'shop', canonicalArgs: { connection: 'shop', sql }, decision: d, factsSummary: 'update', signal: new AbortController().signal });
  const requestsFor = async (sql: string, who = sam) => {
    const hash = canonicalCall('query_database', 'shop', { connection: 'shop', sql }, null).hash;
    return (await store.approvals.list({ limit: 1000 })).filter((r) => r.callHash === hash && r.requester === who.subject);
  };
  return { store, svc, gate, clock, path, requestsFor };
}

const idOf = (r: GateResult) => (r as { approvalId: string }).approvalId;

test('after a denial the same call of the same requester is refused for the cooldown, saying when it may be asked again', async (t) => {
  const { svc, gate, clock, requestsFor } = setup(t);
  const first = await gate('UPDATE a SET x = 1');
  assert.equal((first as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  clock.ms = T0 + MIN;
  await svc.deny(idOf(first), dana, 'no');
  clock.ms = T0 + 2 * MIN;
  const again = await gate('UPDATE a SET x = 1');
  assert.equal(again.granted, false);
  const r = again as { code: string; message: string; approvalId?: string };
  assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', r.message);
  assert.equal(r.approvalId, idOf(first), 'names the denied request');
  assert.match(r.message, /denied/);
  assert.match(r.message, new RegExp(new Date(T0 + 11 * MIN).toISOString().replace(/\./g, '\\.')), 'says when it may be asked again');
  assert.equal((await requestsFor('UPDATE a SET x = 1')).length, 1, 'no new request was opened for the reviewers');
  // Once the cooldown has passed, asking again opens a new request.
  clock.ms = T0 + 11 * MIN;
  const later = await gate('UPDATE a SET x = 1');
  assert.equal((later as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  assert.notEqual(idOf(later), idOf(first));
  assert.equal((await requestsFor('UPDATE a SET x = 1')).length, 2);
});

test('a denial does not block a different call, nor the same call of another requester', async (t) => {
  const { svc, gate, clock } = setup(t);
  const first = await gate('UPDATE b SET x = 1');
  await svc.deny(idOf(first), dana);
  clock.ms = T0 + MIN;
  assert.equal(((await gate('UPDATE b SET x = 2')) as { code: string }).code, 'WARDEN_APPROVAL_PENDING', 'another call');
  assert.equal(((await gate('UPDATE b SET x = 1', undefined, lee)) as { code: string }).code, 'WARDEN_APPROVAL_PENDING', 'another requester');
  assert.equal(((await gate('UPDATE b SET x = 1')) as { code: string }).code, 'WARDEN_APPROVAL_DENIED', 'the denied call itself');
});

test('deny_cooldown: 0s turns the cooldown off; unset it is 5 minutes', async (t) => {
  assert.equal(approvalSchema.parse({ deny_cooldown: '0s' }).deny_cooldown, 0);
  assert.equal(approvalSchema.parse({ deny_cooldown: '10m' }).deny_cooldown, 10 * MIN);
  const { svc, gate, clock } = setup(t);
  const off = await gate('UPDATE c SET x = 1', decision(0));
  await svc.deny(idOf(off), dana);
  assert.equal(((await gate('UPDATE c SET x = 1', decision(0))) as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  const dflt = await gate('UPDATE c SET x = 2', decision());
  await svc.deny(idOf(dflt), dana);
  clock.ms = T0 + 4 * MIN;
  assert.equal(((await gate('UPDATE c SET x = 2', decision())) as { code: string }).code, 'WARDEN_APPROVAL_DENIED', 'default: still cooling down at 4 minutes');
  clock.ms = T0 + 5 * MIN;
  assert.equal(((await gate('UPDATE c SET x = 2', decision())) as { code: string }).code, 'WARDEN_APPROVAL_PENDING', 'default: over at 5 minutes');
});

test('the cooldown is read from the stored denial, so it survives a restart', async (t) => {
  const a = setup(t);
  const first = await a.gate('UPDATE d SET x = 1');
  await a.svc.deny(idOf(first), dana);
  await a.store.close();
  const b = setup(t, a.path);
  b.clock.ms = T0 + 3 * MIN;
  const again = (await b.gate('UPDATE d SET x = 1')) as { code: string; message: string };
  assert.equal(again.code, 'WARDEN_APPROVAL_DENIED', again.message);
});

test('a denial of one identity source does not cool, nor tell its reviewer comment to, the same subject name from another source', async (t) => {
  // Red team: `sam` over stdio and an OIDC `sam` are two principals (the gate never lets one use
  // the other's approval); the cooldown matched the subject only, so the stdio principal's call
  // was refused on the OIDC principal's denial, with that reviewer's comment in the refusal.
  const { svc, gate, clock } = setup(t);
  const oidcSam: Principal = { ...sam, authMethod: 'oidc' };
  const stdioSam: Principal = { ...sam, authMethod: 'stdio' };
  const first = await gate('UPDATE c SET x = 1', undefined, oidcSam);
  await svc.deny(idOf(first), dana, 'private note about the oidc caller');
  clock.ms = T0 + MIN;
  const other = (await gate('UPDATE c SET x = 1', undefined, stdioSam)) as { code: string; message: string };
  assert.equal(other.code, 'WARDEN_APPROVAL_PENDING', other.message);
  assert.doesNotMatch(other.message, /private note/);
  const same = (await gate('UPDATE c SET x = 1', undefined, oidcSam)) as { code: string; message: string };
  assert.equal(same.code, 'WARDEN_APPROVAL_DENIED', 'the denied principal itself is still cooling down');
});
