/**
 * "Never the requester" across identities: a reviewer is refused when any of its names could be
 * the requester's, whatever identity source presents it. Found: the check compared subjects only,
 * so one person whose IdP token names them by an opaque `sub` and by their email approved the
 * request they made as that email (the stdio identity, or another issuer whose `sub` is the
 * email), and `sam.` approved `sam`'s request. Real local issuers and the real verifier, the
 * approval service every reviewer surface (CLI, UI) calls, one SQLite store.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import { stdioPrincipal } from '../../src/identity/stdio.js';
import type { Principal } from '../../src/tool-api.js';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import { tempDir } from '../recorder/fixtures.js';
import { approvalsCli, cliShow, FIX_DECISION, pendingCliRequest, principalOf, reviewerCliSetup, twoIssuers } from './support.js';

const decision = FIX_DECISION;

let a: OidcIssuer;
let b: OidcIssuer;
twoIssuers((x, y) => ((a = x), (b = y)));

const as = principalOf;

function service(t: { after(fn: () => Promise<void>): void }, opts: { personClaims?: string[] } = {}): ApprovalService {
  const store = openSqliteStore(join(tempDir(t as never), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  return createApprovalService(store.approvals, { pollMs: 5, ...opts });
}

let n = 0;
async function request(svc: ApprovalService, principal: Principal): Promise<string> {
  const sql = `UPDATE orders SET total = ${++n}`;
  const r = (await svc.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql }, decision, factsSummary: sql, signal: new AbortController().signal,
  })) as { code?: string; approvalId?: string };
  assert.equal(r.code, 'WARDEN_APPROVAL_PENDING');
  return r.approvalId!;
}

/** Refused as the requester, in the decision and in the reviewer's queue; another dba still approves. */
async function refusedAsRequester(svc: ApprovalService, id: string, reviewer: Principal): Promise<void> {
  await assert.rejects(svc.approve(id, reviewer), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /requested this call/.test(e.message));
  await assert.rejects(svc.deny(id, reviewer), /requested this call/);
  const q = (await svc.queueFor(reviewer)).find((e) => e.view.id === id);
  assert.equal(q?.refused.approve?.reason, 'own_request');
  assert.equal((await svc.get(id))?.state, 'pending');
  assert.equal((await svc.approve(id, await as(a, { sub: 'dana', email: 'dana@corp.example', groups: ['dba'] }))).state, 'approved');
}

test('the same sub from another issuer, and the stdio identity of the same name, cannot approve', async (t) => {
  const svc = service(t);
  await refusedAsRequester(svc, await request(svc, await as(a, { sub: 'sam', groups: ['sre'] })), await as(b, { sub: 'sam', groups: ['dba'] }));
  await refusedAsRequester(svc, await request(svc, stdioPrincipal({ subject: 'sam', groups: [] })), await as(a, { sub: 'Sam', groups: ['dba'] }));
});

test('a subject differing only in case, width or a trailing dot cannot approve', async (t) => {
  const svc = service(t);
  await refusedAsRequester(svc, await request(svc, await as(a, { sub: 'sam', groups: ['sre'] })), await as(b, { sub: 'ＳＡＭ', groups: ['dba'] }));
  await refusedAsRequester(svc, await request(svc, await as(a, { sub: 'sam@corp.example', groups: ['sre'] })), await as(b, { sub: 'sam@corp.example.', groups: ['dba'] }));
  await refusedAsRequester(svc, await request(svc, await as(a, { sub: 'sam', groups: ['sre'] })), await as(b, { sub: 'sam．', groups: ['dba'] }));
});

test("a reviewer whose email names the requester cannot approve (stdio, or another issuer's sub)", async (t) => {
  const svc = service(t);
  // The agent runs over stdio as sam@corp.example; sam signs in to the UI with the IdP's opaque sub.
  const opaque = await as(a, { sub: '00u9f3k', email: 'Sam@Corp.Example', email_verified: true, groups: ['dba'] });
  await refusedAsRequester(svc, await request(svc, stdioPrincipal({ subject: 'sam@corp.example', groups: [] })), opaque);
  // Issuer B names people by email in `sub`.
  await refusedAsRequester(svc, await request(svc, await as(b, { sub: 'sam@corp.example', groups: ['sre'] })), opaque);
});

test('an email naming an actor of the delegation chain cannot approve', async (t) => {
  const svc = service(t);
  const viaAgent = await as(a, { sub: 'pat', groups: ['sre'], act: { sub: 'sam@corp.example' } });
  await refusedAsRequester(svc, await request(svc, viaAgent), await as(b, { sub: '00u9f3k', email: 'sam@corp.example', groups: ['dba'] }));
});

test('one person counts once: a token whose email names an earlier reviewer cannot add a second approval', async (t) => {
  const svc = service(t);
  const twoOf = { ...decision, approval: { ...decision.approval!, approvals: 2 } };
  const r = (await svc.gate({
    callId: 'c2', sessionId: 's1', principal: await as(a, { sub: 'sam', groups: ['sre'] }), tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql: 'DELETE FROM orders' }, decision: twoOf, factsSummary: 'DELETE', signal: new AbortController().signal,
  })) as { approvalId?: string };
  await svc.approve(r.approvalId!, { subject: 'dana@corp.example', groups: ['dba'], claims: {}, authMethod: 'local' });
  await assert.rejects(svc.approve(r.approvalId!, await as(b, { sub: '00u7', email: 'Dana@corp.example', groups: ['dba'] })), /already decided/);
  assert.equal((await svc.get(r.approvalId!))?.state, 'pending');
});

test('approvals.person_claims names the claims compared; [] compares subjects only', async (t) => {
  const upn = service(t, { personClaims: ['upn'] });
  await refusedAsRequester(upn, await request(upn, stdioPrincipal({ subject: 'sam@corp.example', groups: [] })), await as(a, { sub: '00u9f3k', upn: 'sam@corp.example', groups: ['dba'] }));
  const none = service(t, { personClaims: [] });
  const id = await request(none, stdioPrincipal({ subject: 'sam@corp.example', groups: [] }));
  assert.equal((await none.approve(id, await as(a, { sub: '00u9f3k', email: 'sam@corp.example', groups: ['dba'] }))).state, 'approved');
});

test('warden approvals approve --token: a token whose email names the stdio requester is refused; approvals.person_claims: [] in warden.yaml lets it decide', async () => {
  for (const [extra, refused] of [['', true], ['approvals: { person_claims: [] }\n', false]] as const) {
    const { issuer, dir } = await reviewerCliSetup('', extra);
    try {
      const id = await pendingCliRequest(dir.dbPath, 'UPDATE orders SET total = 5 WHERE id = 5'); // stdio sam
      const token = await issuer.mint({ sub: '00u9f3k', email: 'SAM', groups: ['dba'] });
      const r = await approvalsCli(['approve', id, '--token', token, '--config', dir.configPath]);
      if (refused) {
        assert.equal(r.code, 1, r.out + r.err);
        assert.match(r.err, /WARDEN_DENIED.*00u9f3k requested this call \(as sam, by the name SAM its token carries/s);
        assert.equal((await cliShow(dir.configPath, id)).state, 'pending');
      } else {
        assert.equal(r.code, 0, r.err);
        assert.equal((await cliShow(dir.configPath, id)).state, 'approved');
      }
    } finally {
      await issuer.stop();
      dir.cleanup();
    }
  }
});
